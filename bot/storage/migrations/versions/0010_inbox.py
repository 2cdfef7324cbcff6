"""the inbox: inbound events acknowledged and not yet handled

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: a new table, ``inbox`` (bot/storage/inbox.py). An event a
    platform will not deliver again once acknowledged is written here before the
    acknowledgement, so a process that dies or stops before handling it loses nothing:
    another instance takes the row when its lease runs out. No existing table changes."""
    op.create_table(
        'inbox',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('platform', sa.String(length=16), nullable=False),
        sa.Column('event_key', sa.String(length=128), nullable=False),
        sa.Column('payload', sa.Text(), nullable=False),
        sa.Column('owner', sa.String(length=36), nullable=False),
        sa.Column('lease_until', sa.DateTime(timezone=True), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_inbox')),
        sa.UniqueConstraint('platform', 'event_key', name=op.f('uq_inbox_platform')),
    )
    op.create_index('ix_inbox_lease', 'inbox', ['lease_until'], unique=False)


def downgrade() -> None:
    """Revert this revision (events still in the inbox are dropped with it)."""
    op.drop_index('ix_inbox_lease', table_name='inbox')
    op.drop_table('inbox')
