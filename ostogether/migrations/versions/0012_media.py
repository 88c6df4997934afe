"""Media: the images the service fetched once and keeps, by source address and SHA-256.

Revision ID: 0012
Revises: 0011
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'media_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_hash', sa.String(length=64), nullable=False),
        sa.Column('source_url', sa.String(length=2000), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('ext', sa.String(length=8), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('fetched_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_media_files')),
        sa.UniqueConstraint('source_hash', name=op.f('uq_media_files_source_hash')),
    )
    op.create_index(op.f('ix_media_files_sha256'), 'media_files', ['sha256'])


def downgrade() -> None:
    op.drop_index(op.f('ix_media_files_sha256'), table_name='media_files')
    op.drop_table('media_files')
