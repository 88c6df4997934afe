"""The results library: ``outputs`` (what the member projects made, its review, its link
check and Zenodo deposit) and ``output_projects`` (which projects made it). On SQLite, a
full-text index ``outputs_fts`` (FTS5, external content) kept by triggers; where SQLite
was built without FTS5, the library searches with LIKE instead. PostgreSQL searches with
to_tsvector at query time (a library of hundreds of records needs no index).

Revision ID: 0019
Revises: 0018
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_COLUMNS = "title, description, keywords, organisations"
FTS = [
    f"CREATE VIRTUAL TABLE outputs_fts USING fts5({FTS_COLUMNS}, content='outputs', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER outputs_fts_ai AFTER INSERT ON outputs BEGIN "
    f"INSERT INTO outputs_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, "
    f"new.description, new.keywords, new.organisations); END",
    f"CREATE TRIGGER outputs_fts_ad AFTER DELETE ON outputs BEGIN "
    f"INSERT INTO outputs_fts(outputs_fts, rowid, {FTS_COLUMNS}) VALUES ('delete', old.id, "
    f"old.title, old.description, old.keywords, old.organisations); END",
    f"CREATE TRIGGER outputs_fts_au AFTER UPDATE ON outputs BEGIN "
    f"INSERT INTO outputs_fts(outputs_fts, rowid, {FTS_COLUMNS}) VALUES ('delete', old.id, "
    f"old.title, old.description, old.keywords, old.organisations); "
    f"INSERT INTO outputs_fts(rowid, {FTS_COLUMNS}) VALUES (new.id, new.title, "
    f"new.description, new.keywords, new.organisations); END",
]


def _has_fts5() -> bool:
    bind = op.get_bind()
    return bool(bind.exec_driver_sql(
        "SELECT 1 FROM pragma_compile_options WHERE compile_options = 'ENABLE_FTS5'"
    ).first())


def upgrade() -> None:
    op.create_table(
        'outputs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=120), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=10), nullable=False),
        sa.Column('seed_key', sa.String(length=120), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('organisations', sa.JSON(), nullable=False),
        sa.Column('languages', sa.JSON(), nullable=False),
        sa.Column('licence', sa.String(length=64), nullable=False),
        sa.Column('age_ranges', sa.JSON(), nullable=False),
        sa.Column('subjects', sa.JSON(), nullable=False),
        sa.Column('sdgs', sa.JSON(), nullable=False),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('doi', sa.String(length=250), nullable=False),
        sa.Column('date', sa.Date(), nullable=True),
        sa.Column('image_url', sa.String(length=2000), nullable=False),
        sa.Column('image_alt', sa.String(length=400), nullable=False),
        sa.Column('archived_url', sa.String(length=2000), nullable=False),
        sa.Column('link_status', sa.String(length=10), nullable=False),
        sa.Column('link_checked_at', ostogether.models.base.UTCDateTime(), nullable=True),
        sa.Column('link_dead_since', ostogether.models.base.UTCDateTime(), nullable=True),
        sa.Column('link_error', sa.Text(), nullable=False),
        sa.Column('zenodo_id', sa.String(length=40), nullable=False),
        sa.Column('submitted_by_id', sa.Integer(), nullable=True),
        sa.Column('token_id', sa.Integer(), nullable=True),
        sa.Column('reject_reason', sa.Text(), nullable=False),
        sa.Column('reviewed_at', ostogether.models.base.UTCDateTime(), nullable=True),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('published_at', ostogether.models.base.UTCDateTime(), nullable=True),
        sa.Column('withdrawn_at', ostogether.models.base.UTCDateTime(), nullable=True),
        sa.Column('created_at', ostogether.models.base.UTCDateTime(), nullable=False),
        sa.Column('updated_at', ostogether.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'],
                                name=op.f('fk_outputs_reviewed_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'],
                                name=op.f('fk_outputs_submitted_by_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['token_id'], ['api_tokens.id'],
                                name=op.f('fk_outputs_token_id_api_tokens'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outputs')),
        sa.UniqueConstraint('seed_key', name=op.f('uq_outputs_seed_key')),
        sa.UniqueConstraint('slug', name=op.f('uq_outputs_slug')),
    )
    op.create_index('ix_outputs_status_updated', 'outputs', ['status', 'updated_at'],
                    unique=False)
    op.create_table(
        'output_projects',
        sa.Column('output_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['output_id'], ['outputs.id'],
                                name=op.f('fk_output_projects_output_id_outputs'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_output_projects_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('output_id', 'project_id', name=op.f('pk_output_projects')),
    )
    op.create_index(op.f('ix_output_projects_project_id'), 'output_projects', ['project_id'],
                    unique=False)
    if op.get_bind().dialect.name == 'sqlite' and _has_fts5():
        for statement in FTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for name in ('outputs_fts_ai', 'outputs_fts_ad', 'outputs_fts_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS outputs_fts")
    op.drop_index(op.f('ix_output_projects_project_id'), table_name='output_projects')
    op.drop_table('output_projects')
    op.drop_index('ix_outputs_status_updated', table_name='outputs')
    op.drop_table('outputs')
