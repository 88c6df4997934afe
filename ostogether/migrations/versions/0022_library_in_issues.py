"""The newsletter's "From the library" section: ``issues.library_outputs``, the ids of
the results library's outputs an issue features, in order.

Revision ID: 0022
Revises: 0021
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issues') as batch:
        batch.add_column(sa.Column('library_outputs', sa.JSON(), server_default='[]',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('library_outputs')
