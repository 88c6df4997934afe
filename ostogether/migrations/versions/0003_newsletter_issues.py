"""Newsletter issues, their items, and the pre-flight link-check cache.

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('link_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('url_hash', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('checked_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('outcome', sa.String(length=10), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_link_checks')),
    sa.UniqueConstraint('url_hash', name=op.f('uq_link_checks_url_hash'))
    )
    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('preheader', sa.String(length=300), nullable=False),
    sa.Column('intro_md', sa.Text(), nullable=False),
    sa.Column('intro_html', sa.Text(), nullable=False),
    sa.Column('send_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('left_out', sa.JSON(), nullable=False),
    sa.Column('approved_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_by_label', sa.String(length=200), nullable=False),
    sa.Column('snapshot_subject', sa.String(length=300), nullable=False),
    sa.Column('snapshot_preheader', sa.String(length=300), nullable=False),
    sa.Column('snapshot_html', sa.Text(), nullable=False),
    sa.Column('snapshot_text', sa.Text(), nullable=False),
    sa.Column('snapshot_sha256', sa.String(length=64), nullable=False),
    sa.Column('sent_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_issues_approved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('number', name=op.f('uq_issues_number'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issues_status'), ['status'], unique=False)

    op.create_table('issue_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=40), nullable=False),
    sa.Column('section_order', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('added_by', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_items_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['news_items.id'], name=op.f('fk_issue_items_item_id_news_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_items')),
    sa.UniqueConstraint('issue_id', 'item_id', name='uq_issue_items_item')
    )
    with op.batch_alter_table('issue_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_items_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('issue_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_items_item_id'))

    op.drop_table('issue_items')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issues_status'))

    op.drop_table('issues')
    op.drop_table('link_checks')
