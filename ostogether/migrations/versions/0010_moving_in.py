"""Moving in: the suppression list keeps where an entry came from and why (an
unsubscribe or a cleaned address in Mailchimp, with its reason), and issues imported from
an old archive are marked as such. The last DNS check of the sending domain is kept.

Revision ID: 0010
Revises: 0009
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'domain_checks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('checked_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('findings', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_domain_checks')),
        sa.UniqueConstraint('domain', name=op.f('uq_domain_checks_domain')),
    )
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=40), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('note', sa.String(length=300), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('imported_from', sa.String(length=300),
                                      nullable=False, server_default=''))


def downgrade() -> None:
    op.drop_table('domain_checks')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('imported_from')
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('source')
