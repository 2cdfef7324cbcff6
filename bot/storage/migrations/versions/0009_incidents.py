"""major incidents: INC-N per workspace, linked tickets, updates, the incident's promise

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


# A migration is a snapshot: its types are written out here, not imported.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: incidents, their linked tickets and updates, the workspace's
    next incident number, and promises that belong to an incident rather than a ticket
    (``promises.ticket_id`` becomes nullable, ``promises.incident_id`` is added).
    Existing promises keep their tickets; batch mode copies the table on SQLite."""
    with op.batch_alter_table('workspaces') as batch:
        batch.add_column(sa.Column('next_incident_number', sa.Integer(), nullable=False,
                                   server_default='1'))
    op.create_table(
        'incidents',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('workspace_id', BigId, sa.ForeignKey(
            'workspaces.id', ondelete='CASCADE', name='fk_incidents_workspace_id_workspaces'),
            nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(200), nullable=False),
        sa.Column('owner_id', BigId, sa.ForeignKey(
            'people.id', name='fk_incidents_owner_id_people'), nullable=False),
        sa.Column('status', sa.String(12), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.Column('updated_at', UtcDateTime, nullable=False),
        sa.Column('resolved_at', UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_incidents'),
        sa.UniqueConstraint('workspace_id', 'number', name='uq_incidents_workspace_id'),
    )
    op.create_index('ix_incidents_open', 'incidents', ['workspace_id', 'status'])
    op.create_table(
        'incident_tickets',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('incident_id', BigId, sa.ForeignKey(
            'incidents.id', ondelete='CASCADE',
            name='fk_incident_tickets_incident_id_incidents'), nullable=False),
        sa.Column('ticket_id', BigId, sa.ForeignKey(
            'tickets.id', ondelete='CASCADE', name='fk_incident_tickets_ticket_id_tickets'),
            nullable=False),
        sa.Column('linked_at', UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_incident_tickets'),
        sa.UniqueConstraint('ticket_id', name='uq_incident_tickets_ticket_id'),
    )
    op.create_index('ix_incident_tickets_incident', 'incident_tickets', ['incident_id'])
    op.create_table(
        'incident_updates',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('incident_id', BigId, sa.ForeignKey(
            'incidents.id', ondelete='CASCADE',
            name='fk_incident_updates_incident_id_incidents'), nullable=False),
        sa.Column('kind', sa.String(12), nullable=False),
        sa.Column('author_id', BigId, sa.ForeignKey(
            'people.id', name='fk_incident_updates_author_id_people'), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('next_due_at', UtcDateTime, nullable=True),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_incident_updates'),
    )
    op.create_index('ix_incident_updates_incident', 'incident_updates', ['incident_id', 'id'])
    with op.batch_alter_table('promises') as batch:
        batch.alter_column('ticket_id', existing_type=BigId, nullable=True)
        batch.add_column(sa.Column('incident_id', BigId, nullable=True))
        batch.create_foreign_key('fk_promises_incident_id_incidents', 'incidents',
                                 ['incident_id'], ['id'], ondelete='CASCADE')
        batch.create_index('ix_promises_incident_id', ['incident_id'])


def downgrade() -> None:
    """Revert this revision. Incident promises have no ticket and go with them."""
    op.execute("DELETE FROM promises WHERE ticket_id IS NULL")
    with op.batch_alter_table('promises') as batch:
        batch.drop_index('ix_promises_incident_id')
        batch.drop_constraint('fk_promises_incident_id_incidents', type_='foreignkey')
        batch.drop_column('incident_id')
        batch.alter_column('ticket_id', existing_type=BigId, nullable=False)
    op.drop_index('ix_incident_updates_incident', table_name='incident_updates')
    op.drop_table('incident_updates')
    op.drop_index('ix_incident_tickets_incident', table_name='incident_tickets')
    op.drop_table('incident_tickets')
    op.drop_index('ix_incidents_open', table_name='incidents')
    op.drop_table('incidents')
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('next_incident_number')
