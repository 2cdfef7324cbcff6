"""indexes for reports: a period's tickets, reopens, ratings and promises

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0008'
branch_labels = None
depends_on = None

_TICKETS = {
    'ix_tickets_report_opened': ['workspace_id', 'created_at', 'priority', 'owner_id',
                                 'channel_id'],
    'ix_tickets_report_answered': ['workspace_id', 'first_response_at', 'created_at',
                                   'priority', 'owner_id', 'channel_id'],
    'ix_tickets_report_resolved': ['workspace_id', 'resolved_at', 'created_at', 'priority',
                                   'owner_id', 'channel_id'],
    'ix_tickets_report_closed': ['workspace_id', 'closed_at', 'resolved_at', 'priority',
                                 'owner_id', 'channel_id'],
}
# As bot/storage/tables.py writes it: a status change out of resolved or closed.
REOPENED = sa.text("kind = 'status' AND body NOT IN ('resolved', 'closed') AND "
                   "(data_json LIKE '{\"previous\": \"resolved\"%' OR "
                   "data_json LIKE '{\"previous\": \"closed\"%')")


def upgrade() -> None:
    """Apply this revision: the figures (bot/reports/figures.py) read the tickets opened,
    first answered and resolved in a period, the status changes and ratings of a period
    and the promises made in one; without these each reads its whole table (see
    docs/performance.md, "Reports"). Only indexes: no row changes."""
    for name, columns in _TICKETS.items():
        op.create_index(name, 'tickets', columns, unique=False)
    op.create_index('ix_ticket_events_report', 'ticket_events',
                    ['kind', 'created_at', 'ticket_id'], unique=False)
    op.create_index('ix_ticket_events_reopened', 'ticket_events', ['created_at', 'ticket_id'],
                    unique=False, sqlite_where=REOPENED, postgresql_where=REOPENED)
    op.create_index('ix_promises_report', 'promises', ['workspace_id', 'made_at'],
                    unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_promises_report', table_name='promises')
    op.drop_index('ix_ticket_events_reopened', table_name='ticket_events')
    op.drop_index('ix_ticket_events_report', table_name='ticket_events')
    for name in reversed(list(_TICKETS)):
        op.drop_index(name, table_name='tickets')
