"""promises: a partial index for the tick's min(warn_at) on PostgreSQL

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
    """Apply this revision (PostgreSQL only: SQLite reads the minimum from ix_promises_warn)."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_index('ix_promises_warn_open', 'promises', ['warn_at'], unique=False,
                    postgresql_where=sa.text("status = 'pending' AND warned_at IS NULL"))


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_promises_warn_open', table_name='promises')
