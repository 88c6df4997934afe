"""Social posts: one row per network and slot, and kept network sessions.

Revision ID: 0006
Revises: 0005
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('social_sessions',
    sa.Column('network', sa.String(length=20), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('network', name=op.f('pk_social_sessions'))
    )
    op.create_table('social_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('slot_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('evergreen_key', sa.String(length=120), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=2000), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('edited', sa.Boolean(), nullable=False),
    sa.Column('image_url', sa.String(length=2000), nullable=False),
    sa.Column('image_alt', sa.String(length=1000), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('claimed_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('remote_id', sa.String(length=300), nullable=False),
    sa.Column('remote_url', sa.String(length=2000), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('hint', sa.String(length=300), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('published_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_social_posts_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['news_items.id'], name=op.f('fk_social_posts_item_id_news_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_social_posts_project_id_projects'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_social_posts'))
    )
    with op.batch_alter_table('social_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_social_posts_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_social_posts_status_slot', ['status', 'slot_at'], unique=False)
        batch_op.create_index('uq_social_posts_item_network', ['item_id', 'network'], unique=True, sqlite_where=sa.text("status != 'skipped' AND item_id IS NOT NULL"), postgresql_where=sa.text("status != 'skipped' AND item_id IS NOT NULL"))
        batch_op.create_index('uq_social_posts_slot_network', ['network', 'slot_at'], unique=True, sqlite_where=sa.text("status != 'skipped'"), postgresql_where=sa.text("status != 'skipped'"))



def downgrade() -> None:
    with op.batch_alter_table('social_posts', schema=None) as batch_op:
        batch_op.drop_index('uq_social_posts_slot_network', sqlite_where=sa.text("status != 'skipped'"), postgresql_where=sa.text("status != 'skipped'"))
        batch_op.drop_index('uq_social_posts_item_network', sqlite_where=sa.text("status != 'skipped' AND item_id IS NOT NULL"), postgresql_where=sa.text("status != 'skipped' AND item_id IS NOT NULL"))
        batch_op.drop_index('ix_social_posts_status_slot')
        batch_op.drop_index(batch_op.f('ix_social_posts_project_id'))

    op.drop_table('social_posts')
    op.drop_table('social_sessions')
