"""indexes for reports: a period's tickets, reopens, ratings and promises

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


revision = '0011'
down_revision = '0010'
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
# As bot/storage/tables.py writes them: the timeline lines reports count, each with a
# partial index (a reopen, a rating, a comment, a ticket solved with an article).
_EVENTS = {
    'ix_ticket_events_reopened': (
        ['created_at', 'ticket_id'],
        "kind = 'status' AND body NOT IN ('resolved', 'closed') AND "
        "(data_json LIKE '{\"previous\": \"resolved\"%' OR "
        "data_json LIKE '{\"previous\": \"closed\"%')"),
    'ix_ticket_events_rated': (
        ['created_at', 'ticket_id', 'body'],
        "kind = 'feedback' AND data_json LIKE '{\"rating\":%'"),
    'ix_ticket_events_commented': (
        ['created_at', 'ticket_id'], "kind = 'feedback' AND data_json LIKE '{\"comment\":%'"),
    'ix_ticket_events_self_solved': (['created_at', 'ticket_id'], "kind = 'self_solved'"),
}


def upgrade() -> None:
    """Apply this revision: the figures (bot/reports/figures.py) read the tickets opened,
    first answered and resolved in a period, the status changes and ratings of a period
    and the promises made in one; without these each reads its whole table (see
    docs/performance.md, "Reports"). Only indexes: no row changes."""
    for name, columns in _TICKETS.items():
        op.create_index(name, 'tickets', columns, unique=False)
    for name, (columns, where) in _EVENTS.items():
        op.create_index(name, 'ticket_events', columns, unique=False,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.create_index('ix_promises_report', 'promises',
                    ['workspace_id', 'made_at', 'kind', 'status', 'resolution', 'owner_id',
                     'due_at', 'resolved_at', 'cover_outbox_id', 'ticket_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_promises_report', table_name='promises')
    for name in reversed(list(_EVENTS)):
        op.drop_index(name, table_name='ticket_events')
    for name in reversed(list(_TICKETS)):
        op.drop_index(name, table_name='tickets')
