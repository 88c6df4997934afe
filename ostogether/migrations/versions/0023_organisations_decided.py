"""When an organisation was accepted or rejected (``organisations.decided_at``): the
newsletter's "New in the community" lists the members since the last issue. Members
already there are dated by their last change.

Revision ID: 0023
Revises: 0022
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.add_column(sa.Column('decided_at', ostogether.models.UTCDateTime(), nullable=True))
    op.execute("UPDATE organisations SET decided_at = updated_at "
               "WHERE status IN ('member', 'rejected')")


def downgrade() -> None:
    with op.batch_alter_table('organisations') as batch:
        batch.drop_column('decided_at')
