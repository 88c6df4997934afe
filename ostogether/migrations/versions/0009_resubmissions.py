"""Resubmissions: an item sent again after a rejection points at the rejected one, and a
rejected item no longer holds its link against the duplicate rule.

Revision ID: 0009
Revises: 0008
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resubmits_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_news_items_resubmits', 'news_items',
                                    ['resubmits_id'], ['id'], ondelete='SET NULL')
    # Only submitted, approved and published items count as duplicates.
    op.execute("UPDATE news_items SET dedupe_key = NULL WHERE status = 'rejected'")


def downgrade() -> None:
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.drop_constraint('fk_news_items_resubmits', type_='foreignkey')
        batch_op.drop_column('resubmits_id')
