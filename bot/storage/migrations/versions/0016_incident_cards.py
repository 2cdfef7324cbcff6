"""incident cards: the reports asked about an incident are counted on its one card

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# A migration is a snapshot: its types are written out here, not imported from the models.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: new nullable columns and an index, existing rows untouched
    (no ticket is in an incident's shadow before it)."""
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('offered_incident_id', BigId, nullable=True))
    op.create_index('ix_tickets_offered', 'tickets', ['offered_incident_id'],
                    sqlite_where=sa.text('offered_incident_id IS NOT NULL'),
                    postgresql_where=sa.text('offered_incident_id IS NOT NULL'))
    with op.batch_alter_table('incidents') as batch:
        batch.add_column(sa.Column('card_channel_id', sa.String(64), nullable=True))
        batch.add_column(sa.Column('card_message_id', sa.String(64), nullable=True))
        batch.add_column(sa.Column('card_due_at', UtcDateTime, nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('incidents') as batch:
        batch.drop_column('card_due_at')
        batch.drop_column('card_message_id')
        batch.drop_column('card_channel_id')
    op.drop_index('ix_tickets_offered', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('offered_incident_id')
