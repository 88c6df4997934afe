"""The delivery ledger (one row per issue and reader), its workers, and the send's state
on the issue.

Revision ID: 0005
Revises: 0004
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('sent_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('message_id', sa.String(length=250), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=False),
    sa.Column('resent', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_deliveries_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_deliveries_subscriber_id_subscribers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deliveries')),
    sa.UniqueConstraint('issue_id', 'subscriber_id', name='uq_deliveries_recipient')
    )
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_issue_status', ['issue_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_deliveries_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('delivery_workers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('heartbeat_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('stopped_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_delivery_workers_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_workers'))
    )
    with op.batch_alter_table('delivery_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_workers_issue_id'), ['issue_id'], unique=False)

    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_state', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('send_note', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('send_resume_at', ostogether.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('send_started_at', ostogether.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('send_recipients', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('send_resent', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('send_held', sa.Integer(), nullable=False, server_default='0'))



def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('send_held')
        batch_op.drop_column('send_resent')
        batch_op.drop_column('send_recipients')
        batch_op.drop_column('send_started_at')
        batch_op.drop_column('send_resume_at')
        batch_op.drop_column('send_note')
        batch_op.drop_column('send_state')

    with op.batch_alter_table('delivery_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_workers_issue_id'))

    op.drop_table('delivery_workers')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deliveries_subscriber_id'))
        batch_op.drop_index('ix_deliveries_issue_status')

    op.drop_table('deliveries')
