"""indexes for retention: old event ids, and the outbox rows that covered a lapse

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: retention (bot/storage/retention.py) reads the oldest
    processed event ids in order, and asks of each outbox row it would prune whether a
    promise's cover points at it; without these both scan their whole table."""
    op.create_index('ix_processed_events_received', 'processed_events', ['received_at'],
                    unique=False)
    op.create_index('ix_promises_cover', 'promises', ['cover_outbox_id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_promises_cover', table_name='promises')
    op.drop_index('ix_processed_events_received', table_name='processed_events')
