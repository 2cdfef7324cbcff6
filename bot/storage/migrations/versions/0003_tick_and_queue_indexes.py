"""indexes for the queue count and, on PostgreSQL, for the tick's min(warn_at)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision (the partial index is PostgreSQL only: SQLite reads the minimum
    from ix_promises_warn)."""
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_queue', ['workspace_id', 'status', 'owner_id'],
                              unique=False)
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_index('ix_promises_warn_open', 'promises', ['warn_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending' AND warned_at IS NULL"))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_queue')
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_promises_warn_open', table_name='promises')
