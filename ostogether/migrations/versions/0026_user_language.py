"""The language a person uses the site in (``users.language``): the page's language at
their last login, so that the mails the service writes to them (an editor's notice of an
application, of an issue that did not go out, the reminder to compose) are in it; empty:
the site's language.

Revision ID: 0026
Revises: 0025
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), nullable=False,
                                   server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
