"""Organisations and people (issue 37): ``organisations`` (name, type, place, website,
position, logo, status, per-field visibility), ``organisation_projects`` (an
organisation's role and years in a project) and ``people`` (individual members, private
by default, perhaps linked to an account).

Revision ID: 0020
Revises: 0019
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'organisations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=80), nullable=False),
        sa.Column('name', sa.String(length=400), nullable=False),
        sa.Column('type', sa.String(length=40), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('city', sa.String(length=200), nullable=False),
        sa.Column('website', sa.String(length=500), nullable=False),
        sa.Column('latitude', sa.Float(), nullable=True),
        sa.Column('longitude', sa.Float(), nullable=True),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('logo', sa.String(length=80), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('contact_email', sa.String(length=320), nullable=False),
        sa.Column('coc_version', sa.String(length=40), nullable=False),
        sa.Column('visibility', sa.JSON(), nullable=False),
        sa.Column('decision_reason', sa.Text(), nullable=False),
        sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('updated_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
        sa.UniqueConstraint('slug', name=op.f('uq_organisations_slug')),
    )
    op.create_index(op.f('ix_organisations_country'), 'organisations', ['country'])
    op.create_index(op.f('ix_organisations_status'), 'organisations', ['status'])
    op.create_table(
        'organisation_projects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('years', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_organisation_projects_organisation_id_organisations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_organisation_projects_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_projects')),
        sa.UniqueConstraint('organisation_id', 'project_id',
                            name=op.f('uq_organisation_projects_organisation_id')),
    )
    op.create_index(op.f('ix_organisation_projects_organisation_id'),
                    'organisation_projects', ['organisation_id'])
    op.create_index(op.f('ix_organisation_projects_project_id'),
                    'organisation_projects', ['project_id'])
    op.create_table(
        'people',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('role', sa.String(length=200), nullable=False),
        sa.Column('interests', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('coc_version', sa.String(length=40), nullable=False),
        sa.Column('visibility', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('updated_at', ostogether.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                                name=op.f('fk_people_organisation_id_organisations'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_people_user_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_people')),
        sa.UniqueConstraint('user_id', name=op.f('uq_people_user_id')),
    )
    op.create_index(op.f('ix_people_email'), 'people', ['email'])
    op.create_index(op.f('ix_people_organisation_id'), 'people', ['organisation_id'])
    op.create_index(op.f('ix_people_status'), 'people', ['status'])


def downgrade() -> None:
    op.drop_table('people')
    op.drop_table('organisation_projects')
    op.drop_table('organisations')
