"""Projects: what editors change in the browser, and the logo.

``web_edits`` names each field an editor changed on the project's page since the file
in content/projects/ last agreed with the database (who, when), and ``file_values`` is
the project's file as last imported. Together they let ``ostogether registry import``
tell a browser edit from a file edit and report a conflict instead of overwriting the
browser's value. ``logo`` is the name of the kept picture (``<sha256>.<ext>``, as
media.py keeps pictures).

Revision ID: 0017
Revises: 0016
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('logo', sa.String(length=80), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('web_edits', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('file_values', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('file_values')
        batch_op.drop_column('web_edits')
        batch_op.drop_column('logo')
