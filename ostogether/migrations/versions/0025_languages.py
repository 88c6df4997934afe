"""Languages (issue 35). The language to write to an applicant in: the page's language
when the project, organisation or person applied, so that the editors' decision (and,
for a project, the mails about its news items) reach them in it; empty: the site's
language (everyone already there, and what the editors import). And a project's feeds
per language (``projects.feeds``: language -> address), each polled as its own row of
``feeds`` (``feeds.language``; "" is the project's main feed, ``feed_url``).

Revision ID: 0025
Revises: 0024
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('projects', 'organisations', 'people')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                       server_default=''))
    with op.batch_alter_table('projects') as batch:
        batch.add_column(sa.Column('feeds', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('feeds') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                   server_default=''))
        batch.drop_constraint('uq_feeds_project_id', type_='unique')
        batch.create_unique_constraint('uq_feeds_project_id_language',
                                       ['project_id', 'language'])


def downgrade() -> None:
    op.execute("DELETE FROM feeds WHERE language != ''")
    with op.batch_alter_table('feeds') as batch:
        batch.drop_constraint('uq_feeds_project_id_language', type_='unique')
        batch.create_unique_constraint('uq_feeds_project_id', ['project_id'])
        batch.drop_column('language')
    with op.batch_alter_table('projects') as batch:
        batch.drop_column('feeds')
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('language')
