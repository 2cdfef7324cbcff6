"""paused promises: the business time a promise had left when its clock stopped

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: while a ticket waits on its requester, the desk's own
    promises are paused (status 'paused') and keep the seconds of business time they
    had left here, to resume with when the requester answers."""
    with op.batch_alter_table('promises') as batch:
        batch.add_column(sa.Column('paused_remaining', sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert this revision: paused promises run again as pending, due when they were."""
    op.execute("UPDATE promises SET status = 'pending' WHERE status = 'paused'")
    with op.batch_alter_table('promises') as batch:
        batch.drop_column('paused_remaining')
