"""Deliveries: a partial index of the rows still to send, in id order.

A sending process claims the lowest due ``queued`` rows of an issue. Through
``ix_deliveries_issue_status`` that meant every queued row of the issue, sorted, for
every batch: a send of N readers cost PostgreSQL O(N²). This index holds only the
``queued`` rows, already in id order, so a claim reads the batch it takes.

PostgreSQL only. SQLite updates an index in place, so the ``queued`` range of
``ix_deliveries_issue_status`` (in rowid order) already holds just these rows.

Revision ID: 0015
Revises: 0014
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.create_index('ix_deliveries_queued', 'deliveries', ['issue_id', 'id'],
                        postgresql_where=sa.text("status = 'queued'"))


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_deliveries_queued', table_name='deliveries')
