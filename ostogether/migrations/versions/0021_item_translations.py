"""Items and issues in several languages: ``news_item_translations`` (an item's title,
summary and link in another language), ``issue_texts`` (an issue's subject, preheader and
editorial per language), ``issue_snapshots`` (each language's frozen version of an
approved issue), ``issues.same_texts`` (the texts the same for every language) and
``deliveries.language`` (the version each reader got).

Revision ID: 0021
Revises: 0020
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'news_item_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('summary_md', sa.Text(), nullable=False),
        sa.Column('summary_html', sa.Text(), nullable=False),
        sa.Column('link', sa.String(length=2000), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['news_items.id'],
                                name=op.f('fk_news_item_translations_item_id_news_items'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_news_item_translations')),
        sa.UniqueConstraint('item_id', 'language', name='uq_news_item_translations_language'),
    )
    op.create_index(op.f('ix_news_item_translations_item_id'), 'news_item_translations',
                    ['item_id'])
    op.create_table(
        'issue_texts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('preheader', sa.String(length=300), nullable=False),
        sa.Column('intro_md', sa.Text(), nullable=False),
        sa.Column('intro_html', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_issue_texts_issue_id_issues'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_texts')),
        sa.UniqueConstraint('issue_id', 'language', name='uq_issue_texts_language'),
    )
    op.create_table(
        'issue_snapshots',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('preheader', sa.String(length=300), nullable=False),
        sa.Column('html', sa.Text(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['issue_id'], ['issues.id'],
                                name=op.f('fk_issue_snapshots_issue_id_issues'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_snapshots')),
        sa.UniqueConstraint('issue_id', 'language', name='uq_issue_snapshots_language'),
    )
    with op.batch_alter_table('issues') as batch:
        batch.add_column(sa.Column('same_texts', sa.JSON(), server_default='[]',
                                   nullable=False))
    with op.batch_alter_table('deliveries') as batch:
        batch.add_column(sa.Column('language', sa.String(length=8), server_default='',
                                   nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('deliveries') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('issues') as batch:
        batch.drop_column('same_texts')
    op.drop_table('issue_snapshots')
    op.drop_table('issue_texts')
    op.drop_index(op.f('ix_news_item_translations_item_id'), table_name='news_item_translations')
    op.drop_table('news_item_translations')
