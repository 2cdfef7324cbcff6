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

# SQLite cannot make a column nullable in place, and Alembic's batch mode copies the
# table and DROPs the old one: with foreign keys on (as the desk runs), that DROP is an
# implicit DELETE, which fails on any promise whose parent_id points at another (every
# chain of covers) and cascades from any parent. So on SQLite the old table is renamed
# aside (its self-reference follows the rename), the new one created and filled, and
# the old one dropped with nothing referencing it. Both shapes are written out here.
_PROMISE_COLUMNS = (
    "id", "workspace_id", "ticket_id", "kind", "owner_id", "text", "made_at", "due_at",
    "warn_at", "status", "resolution", "resolved_at", "misses_in_row", "step", "warned_at",
    "cover_outbox_id", "parent_id", "claim_token", "lease_until", "attempts",
    "paused_remaining")
_PROMISE_INDEXES = (
    "CREATE INDEX ix_promises_due ON promises (status, due_at)",
    "CREATE INDEX ix_promises_ticket ON promises (ticket_id, status)",
    "CREATE INDEX ix_promises_warn ON promises (status, warned_at, warn_at)",
    "CREATE INDEX ix_promises_cover ON promises (cover_outbox_id)",
)


def _sqlite_promises_table(with_incident: bool) -> str:
    incident = ("incident_id INTEGER, " if with_incident else "")
    incident_fk = (", CONSTRAINT fk_promises_incident_id_incidents FOREIGN KEY(incident_id) "
                   "REFERENCES incidents (id) ON DELETE CASCADE" if with_incident else "")
    return (
        "CREATE TABLE promises (id INTEGER NOT NULL, workspace_id INTEGER NOT NULL, "
        f"ticket_id INTEGER{'' if with_incident else ' NOT NULL'}, {incident}"
        "kind VARCHAR(24) NOT NULL, owner_id INTEGER, text TEXT NOT NULL, "
        "made_at DATETIME NOT NULL, due_at DATETIME NOT NULL, warn_at DATETIME, "
        "status VARCHAR(12) NOT NULL, resolution VARCHAR(16), resolved_at DATETIME, "
        "misses_in_row INTEGER NOT NULL, step INTEGER NOT NULL, warned_at DATETIME, "
        "cover_outbox_id INTEGER, parent_id INTEGER, claim_token VARCHAR(36), "
        "lease_until DATETIME, attempts INTEGER NOT NULL, paused_remaining FLOAT, "
        "CONSTRAINT pk_promises PRIMARY KEY (id), "
        "CONSTRAINT fk_promises_owner_id_people FOREIGN KEY(owner_id) REFERENCES people (id), "
        "CONSTRAINT fk_promises_parent_id_promises FOREIGN KEY(parent_id) "
        "REFERENCES promises (id), "
        "CONSTRAINT fk_promises_ticket_id_tickets FOREIGN KEY(ticket_id) REFERENCES tickets "
        "(id) ON DELETE CASCADE, "
        "CONSTRAINT fk_promises_workspace_id_workspaces FOREIGN KEY(workspace_id) "
        f"REFERENCES workspaces (id) ON DELETE CASCADE{incident_fk})")


def _sqlite_swap_promises(with_incident: bool) -> None:
    """Rebuild the promises table on SQLite in the shape asked, keeping every row."""
    for index in ("ix_promises_due", "ix_promises_ticket", "ix_promises_warn",
                  "ix_promises_cover", "ix_promises_incident_id"):
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.execute("ALTER TABLE promises RENAME TO promises_before_0009")
    op.execute(_sqlite_promises_table(with_incident))
    columns = ", ".join(_PROMISE_COLUMNS)
    op.execute(f"INSERT INTO promises ({columns}) SELECT {columns} FROM promises_before_0009")
    op.execute("DROP TABLE promises_before_0009")
    for statement in _PROMISE_INDEXES:
        op.execute(statement)
    if with_incident:
        op.execute("CREATE INDEX ix_promises_incident_id ON promises (incident_id)")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == 'sqlite'


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: incidents, their linked tickets and updates, the workspace's
    next incident number, and promises that belong to an incident rather than a ticket
    (``promises.ticket_id`` becomes nullable, ``promises.incident_id`` is added).
    Existing promises keep their tickets; batch mode copies the table on SQLite."""
    # ADD COLUMN is native on both (batch mode would copy the table on SQLite, and
    # dropping the old workspaces would cascade to every ticket and promise).
    op.add_column('workspaces', sa.Column('next_incident_number', sa.Integer(),
                                          nullable=False, server_default='1'))
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
    op.create_table(
        'ticket_clusters',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('workspace_id', BigId, sa.ForeignKey(
            'workspaces.id', ondelete='CASCADE',
            name='fk_ticket_clusters_workspace_id_workspaces'), nullable=False),
        sa.Column('anchor_ticket_id', BigId, sa.ForeignKey(
            'tickets.id', ondelete='CASCADE',
            name='fk_ticket_clusters_anchor_ticket_id_tickets'), nullable=False),
        sa.Column('incident_id', BigId, sa.ForeignKey(
            'incidents.id', ondelete='SET NULL',
            name='fk_ticket_clusters_incident_id_incidents'), nullable=True),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_ticket_clusters'),
        sa.UniqueConstraint('anchor_ticket_id', name='uq_ticket_clusters_anchor_ticket_id'),
    )
    op.create_index('ix_ticket_clusters_workspace', 'ticket_clusters', ['workspace_id', 'id'])
    op.create_table(
        'ticket_cluster_members',
        sa.Column('id', BigId, primary_key=True),
        sa.Column('cluster_id', BigId, sa.ForeignKey(
            'ticket_clusters.id', ondelete='CASCADE',
            name='fk_ticket_cluster_members_cluster_id_ticket_clusters'), nullable=False),
        sa.Column('ticket_id', BigId, sa.ForeignKey(
            'tickets.id', ondelete='CASCADE',
            name='fk_ticket_cluster_members_ticket_id_tickets'), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_ticket_cluster_members'),
        sa.UniqueConstraint('ticket_id', name='uq_ticket_cluster_members_ticket_id'),
    )
    op.create_index('ix_ticket_cluster_members_cluster', 'ticket_cluster_members',
                    ['cluster_id'])
    if _sqlite():
        _sqlite_swap_promises(with_incident=True)
        return
    op.alter_column('promises', 'ticket_id', existing_type=BigId, nullable=True)
    op.add_column('promises', sa.Column('incident_id', BigId, nullable=True))
    op.create_foreign_key('fk_promises_incident_id_incidents', 'promises', 'incidents',
                          ['incident_id'], ['id'], ondelete='CASCADE')
    op.create_index('ix_promises_incident_id', 'promises', ['incident_id'])


def downgrade() -> None:
    """Revert this revision. Incident promises have no ticket and go with them."""
    # A chain of an incident's promises points along parent_id: cut it first.
    op.execute("UPDATE promises SET parent_id = NULL WHERE parent_id IN "
               "(SELECT id FROM promises WHERE ticket_id IS NULL)")
    op.execute("DELETE FROM promises WHERE ticket_id IS NULL")
    if _sqlite():
        _sqlite_swap_promises(with_incident=False)
    else:
        op.drop_index('ix_promises_incident_id', table_name='promises')
        op.drop_constraint('fk_promises_incident_id_incidents', 'promises', type_='foreignkey')
        op.drop_column('promises', 'incident_id')
        op.alter_column('promises', 'ticket_id', existing_type=BigId, nullable=False)
    op.drop_index('ix_ticket_cluster_members_cluster', table_name='ticket_cluster_members')
    op.drop_table('ticket_cluster_members')
    op.drop_index('ix_ticket_clusters_workspace', table_name='ticket_clusters')
    op.drop_table('ticket_clusters')
    op.drop_index('ix_incident_updates_incident', table_name='incident_updates')
    op.drop_table('incident_updates')
    op.drop_index('ix_incident_tickets_incident', table_name='incident_tickets')
    op.drop_table('incident_tickets')
    op.drop_index('ix_incidents_open', table_name='incidents')
    op.drop_table('incidents')
    # Native DROP COLUMN (SQLite >= 3.35): see upgrade.
    op.drop_column('workspaces', 'next_incident_number')
