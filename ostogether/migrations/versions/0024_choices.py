"""Readers choose what they receive (issue 36): topics and audiences on items, the
readers' choices and their organisation's country, items an editor sends to everyone,
the items each delivery held, and announcements to a segment of the readers.

Revision ID: 0024
Revises: 0023
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0024'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('news_items') as batch:
        batch.add_column(sa.Column('topics', sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('audiences', sa.JSON(), server_default='[]',
                                   nullable=False))
    with op.batch_alter_table('subscribers') as batch:
        for name in ('topics', 'kinds', 'audiences', 'projects'):
            batch.add_column(sa.Column(name, sa.JSON(), server_default='[]', nullable=False))
        batch.add_column(sa.Column('country', sa.String(length=2), server_default='',
                                   nullable=False))
    with op.batch_alter_table('issue_items') as batch:
        batch.add_column(sa.Column('for_everyone', sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('items', sa.String(length=2000), nullable=True))
    with op.batch_alter_table('issues') as batch:
        batch.add_column(sa.Column('kind', sa.String(length=20), server_default='issue',
                                   nullable=False))
        batch.add_column(sa.Column('segment', sa.JSON(), server_default='{}',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('segment')
        batch.drop_column('kind')
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('items')
    with op.batch_alter_table('issue_items') as batch:
        batch.drop_column('for_everyone')
    with op.batch_alter_table('subscribers') as batch:
        for name in ('country', 'projects', 'audiences', 'kinds', 'topics'):
            batch.drop_column(name)
    with op.batch_alter_table('news_items') as batch:
        batch.drop_column('audiences')
        batch.drop_column('topics')
