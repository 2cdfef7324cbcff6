"""outbox rows remember when they were first due

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: ``first_due_at`` keeps the moment a row first became due,
    which retries, rate limits and pacing never move, so the backlog gauge
    (``helpdesk_outbox_oldest_pending_seconds``) measures how long a message has really
    waited. Existing rows take their current ``due_at``."""
    op.add_column('outbox', sa.Column('first_due_at', sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET first_due_at = due_at")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('outbox') as batch_op:
        batch_op.drop_column('first_due_at')
