"""Imports uploaded on the editors' page: ``imports``, one row per uploaded file (what
kind, its name and where it is kept under var_dir/imports/, the options, the dry run's
report, the progress and result once the worker applied it, who uploaded and who applied
it), and ``import_lines``, the report's lines, read a page at a time.

Revision ID: 0018
Revises: 0017
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('file_name', sa.String(length=255), nullable=False),
        sa.Column('stored', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('options', sa.JSON(), nullable=False),
        sa.Column('report', sa.JSON(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('uploaded_by', sa.String(length=200), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('applied_by', sa.String(length=200), nullable=False),
        sa.Column('applied_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('queued_at', ostogether.models.UTCDateTime(), nullable=True),
        sa.Column('started_at', ostogether.models.UTCDateTime(), nullable=True),
        sa.Column('finished_at', ostogether.models.UTCDateTime(), nullable=True),
        sa.Column('heard_at', ostogether.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'],
                                name=op.f('fk_imports_uploaded_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['applied_by_id'], ['users.id'],
                                name=op.f('fk_imports_applied_by_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
    )
    op.create_index(op.f('ix_imports_status'), 'imports', ['status'])
    op.create_table(
        'import_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('import_id', sa.Integer(), nullable=False),
        sa.Column('phase', sa.String(length=10), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('file', sa.String(length=255), nullable=False),
        sa.Column('line', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=400), nullable=False),
        sa.Column('detail', sa.String(length=600), nullable=False),
        sa.Column('context', sa.String(length=400), nullable=False),
        sa.Column('target', sa.String(length=400), nullable=False),
        sa.Column('outcome', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('warning', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['import_id'], ['imports.id'],
                                name=op.f('fk_import_lines_import_id_imports'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_import_lines')),
    )
    op.create_index('ix_import_lines_run', 'import_lines', ['import_id', 'phase', 'position'])


def downgrade() -> None:
    op.drop_index('ix_import_lines_run', table_name='import_lines')
    op.drop_table('import_lines')
    op.drop_index(op.f('ix_imports_status'), table_name='imports')
    op.drop_table('imports')
