"""Social media: each post's kept picture and link card, the uploads a network holds for
a post (so a retry never uploads again), and the handles a member project proposes.

Revision ID: 0013
Revises: 0012
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('social_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_name', sa.String(length=80), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('card', sa.JSON(), nullable=True))
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proposed_handles', sa.JSON(), nullable=True))
    op.create_table(
        'social_uploads',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('media_name', sa.String(length=80), nullable=False),
        sa.Column('ref', sa.JSON(), nullable=False),
        sa.Column('uploaded_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('expires_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['social_posts.id'],
                                name=op.f('fk_social_uploads_post_id_social_posts'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_social_uploads')),
        sa.UniqueConstraint('post_id', 'media_name',
                            name=op.f('uq_social_uploads_post_id')),
    )


def downgrade() -> None:
    op.drop_table('social_uploads')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('proposed_handles')
    with op.batch_alter_table('social_posts', schema=None) as batch_op:
        batch_op.drop_column('card')
        batch_op.drop_column('media_name')
