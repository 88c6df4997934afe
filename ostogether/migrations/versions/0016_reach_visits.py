"""Reach that cannot be inflated or wiped: one row per visitor and thing counted a day
(``reach_visits``, the visitor a keyed hash that changes every day) instead of the hour
of every hit per /24 (``click_events``, dropped: it held an hour's hits only); and the
project that brought each new reader, once (``reader_credits``).

The credits are filled from the consent log: an address whose first confirmation (with
no import before it) followed a sign-up through a project's own form is credited to that
project, at the time of the confirmation. An address that was a reader already when it
signed up through a form again is credited to nobody.

Revision ID: 0016
Revises: 0015
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import ostogether.models

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index(op.f('ix_click_events_network'), table_name='click_events')
    op.drop_index(op.f('ix_click_events_at'), table_name='click_events')
    op.drop_table('click_events')
    op.create_table(
        'reach_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('visitor', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=5), nullable=False),
        sa.Column('issue_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('at', ostogether.models.UTCDateTime(), nullable=False),
        sa.Column('counted', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reach_visits')),
        sa.UniqueConstraint('day', 'visitor', 'kind', 'issue_id', 'item_id',
                            name='uq_reach_visits_day_visitor'),
    )
    credits = op.create_table(
        'reader_credits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('email_hash', sa.String(length=64), nullable=False),
        sa.Column('project_id', sa.Integer(), nullable=False),
        sa.Column('at', ostogether.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['project_id'], ['projects.id'],
                                name=op.f('fk_reader_credits_project_id_projects'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_credits')),
        sa.UniqueConstraint('email_hash', name=op.f('uq_reader_credits_email_hash')),
    )
    op.create_index(op.f('ix_reader_credits_project_id'), 'reader_credits', ['project_id'])
    rows = _credits_from_consent_log(op.get_bind())
    if rows:
        op.bulk_insert(credits, rows)


def _credits_from_consent_log(conn: Any) -> list[dict[str, Any]]:
    events = sa.table('consent_events', sa.column('id', sa.Integer),
                      sa.column('email_hash', sa.String),
                      sa.column('at', ostogether.models.UTCDateTime()),
                      sa.column('action', sa.String), sa.column('source', sa.String),
                      sa.column('detail', sa.JSON))
    projects = sa.table('projects', sa.column('id', sa.Integer), sa.column('slug', sa.String))
    ids = dict(conn.execute(sa.select(projects.c.slug, projects.c.id)).all())
    seen: set[str] = set()  # addresses that were readers already
    signed_up: dict[str, str] = {}  # address → project of its last sign-up through a form
    out = []
    for email_hash, at, action, source, detail in conn.execute(
            sa.select(events.c.email_hash, events.c.at, events.c.action, events.c.source,
                      events.c.detail)
            .where(events.c.action.in_(('subscribe', 'confirm', 'import')))
            .order_by(events.c.at, events.c.id)):
        if not email_hash or email_hash in seen:
            continue
        detail = detail if isinstance(detail, dict) else {}
        if action == 'subscribe':
            if source == 'embed' and detail.get('project') in ids:
                signed_up[email_hash] = detail['project']
            continue
        seen.add(email_hash)
        slug = signed_up.pop(email_hash, None)
        if action == 'confirm' and slug is not None:
            out.append({'email_hash': email_hash, 'project_id': ids[slug], 'at': at})
    return out


def downgrade() -> None:
    op.drop_index(op.f('ix_reader_credits_project_id'), table_name='reader_credits')
    op.drop_table('reader_credits')
    op.drop_table('reach_visits')
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
