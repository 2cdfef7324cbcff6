"""report event indexes: resolutions and closes counted in the period they happened

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

# As bot/storage/tables.py writes them: a resolution and a close, each a status line of
# the timeline. The reports count them by when they happened (a reopen clears the
# ticket's resolved_at and closed_at, never these lines).
_EVENTS = {
    'ix_ticket_events_resolved': (['created_at', 'ticket_id'],
                                  "kind = 'status' AND body = 'resolved'"),
    'ix_ticket_events_closed': (['created_at', 'ticket_id', 'data_json'],
                                "kind = 'status' AND body = 'closed'"),
}


def upgrade() -> None:
    """Apply this revision: two partial indexes, no row changes."""
    for name, (columns, where) in _EVENTS.items():
        op.create_index(name, 'ticket_events', columns, unique=False,
                        sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    """Revert this revision."""
    for name in reversed(list(_EVENTS)):
        op.drop_index(name, table_name='ticket_events')
