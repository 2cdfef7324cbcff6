"""report outcomes: each resolution and close, counted in the period it happened

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# A migration is a snapshot: its types are written out here, not imported from the models.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_INDEX = ['workspace_id', 'kind', 'at', 'ticket_created_at', 'priority', 'owner_id',
          'channel_id', 'team_id', 'asked', 'ticket_id']
# As bot/storage/tables.py (report_outcomes_from_timeline) writes them: one row per
# status line to resolved or closed, with its ticket's slices. The history before this
# revision has only the tickets' slices as they are now.
_BACKFILL = (
    "INSERT INTO report_outcomes (workspace_id, ticket_id, kind, at, asked, "
    "ticket_created_at, priority, owner_id, channel_id, team_id) "
    "SELECT t.workspace_id, t.id, e.body, e.created_at, "
    "(e.body = 'closed' AND e.data_json LIKE '{\"previous\": \"resolved\"%'), "
    "t.created_at, t.priority, t.owner_id, t.channel_id, t.team_id "
    "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
    "WHERE e.kind = 'status' AND e.body IN ('resolved', 'closed')")


def upgrade() -> None:
    """Apply this revision: a new table, filled from the timeline (existing rows are
    only read)."""
    op.create_table(
        'report_outcomes',
        sa.Column('id', BigId, nullable=False),
        sa.Column('workspace_id', BigId,
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE',
                                name='fk_report_outcomes_workspace_id_workspaces'),
                  nullable=False),
        sa.Column('ticket_id', BigId,
                  sa.ForeignKey('tickets.id', ondelete='CASCADE',
                                name='fk_report_outcomes_ticket_id_tickets'),
                  nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('at', UtcDateTime, nullable=False),
        sa.Column('asked', sa.Boolean(), nullable=False),
        sa.Column('ticket_created_at', UtcDateTime, nullable=False),
        sa.Column('priority', sa.String(2), nullable=False),
        sa.Column('owner_id', BigId, nullable=True),
        sa.Column('channel_id', sa.String(64), nullable=True),
        sa.Column('team_id', BigId,
                  sa.ForeignKey('teams.id', ondelete='SET NULL',
                                name='fk_report_outcomes_team_id_teams'),
                  nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_report_outcomes'),
    )
    op.execute(_BACKFILL)
    op.create_index('ix_report_outcomes', 'report_outcomes', _INDEX)
    op.create_index('ix_report_outcomes_ticket', 'report_outcomes', ['ticket_id'])


def downgrade() -> None:
    """Revert this revision (the table is derived from the timeline: nothing is lost)."""
    op.drop_index('ix_report_outcomes_ticket', table_name='report_outcomes')
    op.drop_index('ix_report_outcomes', table_name='report_outcomes')
    op.drop_table('report_outcomes')
