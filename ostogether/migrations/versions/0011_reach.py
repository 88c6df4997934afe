"""Reach: clicks per (issue, item, day) through the service's signed links, the hour of
recent hits that spots scanners, archive views per (issue, day), and social metrics at
fixed ages.

Revision ID: 0011
Revises: 0010
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'click_counts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('clicks', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_click_counts_issue_id_issues'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_click_counts')),
        sa.UniqueConstraint('issue_id', 'item_id', 'day',
                            name='uq_click_counts_issue_item_day'),
    )
    op.create_index(op.f('ix_click_counts_item_id'), 'click_counts', ['item_id'])
    op.create_table(
        'click_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('network', sa.String(length=32), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('counted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_click_events')),
    )
    op.create_index(op.f('ix_click_events_at'), 'click_events', ['at'])
    op.create_index(op.f('ix_click_events_network'), 'click_events', ['network'])
    op.create_table(
        'archive_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_archive_views_issue_id_issues'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_archive_views')),
        sa.UniqueConstraint('issue_id', 'day', name='uq_archive_views_issue_day'),
    )
    op.create_table(
        'post_metrics',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('age', sa.String(length=4), nullable=False),
        sa.Column('taken_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('api_version', sa.String(length=40), nullable=False),
        sa.Column('available', sa.Boolean(), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['social_posts.id'],
                                name=op.f('fk_post_metrics_post_id_social_posts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_post_metrics')),
        sa.UniqueConstraint('post_id', 'age', name='uq_post_metrics_post_age'),
    )


def downgrade() -> None:
    op.drop_table('post_metrics')
    op.drop_table('archive_views')
    op.drop_index(op.f('ix_click_events_network'), table_name='click_events')
    op.drop_index(op.f('ix_click_events_at'), table_name='click_events')
    op.drop_table('click_events')
    op.drop_index(op.f('ix_click_counts_item_id'), table_name='click_counts')
    op.drop_table('click_counts')
