"""moved cards: the triage cards a ticket had before a transfer, so their threads still
reach it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# A migration is a snapshot: its types are written out here, not imported from the models.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: a new table only, so existing data is untouched."""
    op.create_table(
        'moved_cards',
        sa.Column('id', BigId, nullable=False),
        sa.Column('ticket_id', BigId,
                  sa.ForeignKey('tickets.id', ondelete='CASCADE',
                                name='fk_moved_cards_ticket_id_tickets'),
                  nullable=False),
        sa.Column('channel_id', sa.String(64), nullable=False),
        sa.Column('message_id', sa.String(64), nullable=False),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_moved_cards'),
    )
    op.create_index('ix_moved_cards_message', 'moved_cards', ['channel_id', 'message_id'])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_moved_cards_message', table_name='moved_cards')
    op.drop_table('moved_cards')
