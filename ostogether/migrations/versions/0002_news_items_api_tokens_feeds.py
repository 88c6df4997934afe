"""news items, api tokens, feeds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('feeds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('auto_approve', sa.Boolean(), nullable=False),
    sa.Column('etag', sa.String(length=400), nullable=False),
    sa.Column('last_modified', sa.String(length=100), nullable=False),
    sa.Column('last_polled_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('last_ok_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('last_outcome', sa.String(length=20), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('paused_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('items_created', sa.Integer(), nullable=False),
    sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_feeds_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feeds')),
    sa.UniqueConstraint('project_id', name=op.f('uq_feeds_project_id'))
    )
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_label', sa.String(length=200), nullable=False),
    sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_api_tokens_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_api_tokens_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_api_tokens_secret_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_project_id'), ['project_id'], unique=False)

    op.create_table('news_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('summary_md', sa.Text(), nullable=False),
    sa.Column('summary_html', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=2000), nullable=False),
    sa.Column('dedupe_key', sa.String(length=64), nullable=True),
    sa.Column('image_url', sa.String(length=2000), nullable=False),
    sa.Column('image_alt', sa.String(length=400), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('sdgs', sa.JSON(), nullable=False),
    sa.Column('for_newsletter', sa.Boolean(), nullable=False),
    sa.Column('for_social', sa.Boolean(), nullable=False),
    sa.Column('event_start', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('event_end', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('event_timezone', sa.String(length=64), nullable=False),
    sa.Column('event_location', sa.String(length=300), nullable=False),
    sa.Column('event_online', sa.Boolean(), nullable=False),
    sa.Column('registration_url', sa.String(length=2000), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('token_id', sa.Integer(), nullable=True),
    sa.Column('feed_entry_id', sa.String(length=2000), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('reject_reason', sa.Text(), nullable=False),
    sa.Column('reviewed_at', ostogether.models.UTCDateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.Column('updated_at', ostogether.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_news_items_project_id_projects'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_news_items_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_news_items_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'], name=op.f('fk_news_items_token_id_api_tokens'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news_items')),
    sa.UniqueConstraint('project_id', 'dedupe_key', name='uq_news_items_project_link')
    )
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_news_items_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_news_items_status_created', ['status', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('news_items', schema=None) as batch_op:
        batch_op.drop_index('ix_news_items_status_created')
        batch_op.drop_index(batch_op.f('ix_news_items_project_id'))

    op.drop_table('news_items')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_project_id'))

    op.drop_table('api_tokens')
    op.drop_table('feeds')
