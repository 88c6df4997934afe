"""The language to write to an applicant in (issue 35): the page's language when the
project, organisation or person applied, so that the editors' decision (and, for a
project, the mails about its news items) reach them in it. Empty: the site's language
(everyone already there, and what the editors import).

Revision ID: 00NN_langs
Revises: 0024
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '00NN_langs'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ('projects', 'organisations', 'people')


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                       server_default=''))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column('language')
