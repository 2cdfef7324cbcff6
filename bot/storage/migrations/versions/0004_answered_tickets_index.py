"""index for the latest answered tickets (the wait quoted to each new ticket)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

ANSWERED = sa.text('first_response_at IS NOT NULL')


def upgrade() -> None:
    """Apply this revision: a partial index, so reading the last 20 answered tickets
    never walks through the unanswered ones."""
    op.create_index('ix_tickets_answered', 'tickets', ['workspace_id', 'id'], unique=False,
                    sqlite_where=ANSWERED, postgresql_where=ANSWERED)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_tickets_answered', table_name='tickets')
