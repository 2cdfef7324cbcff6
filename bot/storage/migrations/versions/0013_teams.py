"""teams: one front door, several teams

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

# The settings a team owns; the rest (the ticket emoji) stays the workspace's.
TEAM_KEYS = ("calendar", "sla", "templates")
DEFAULT_TEAM = "it"


def _utc(dialect: str):
    now = datetime.now(timezone.utc)
    return now.replace(tzinfo=None) if dialect == "sqlite" else now


def upgrade() -> None:
    """Apply this revision: the ``teams`` and ``team_members`` tables, and a team for
    each channel and ticket. Every workspace gets its default team ``it``, which takes
    over what the workspace's single desk had: its hours, holidays, SLA targets and
    wording overrides (moved from the workspace's settings), its triage and intake
    channels, its tickets, and its agents and leads as members. Nothing is lost: the
    downgrade puts the default team's settings back on the workspace."""
    op.create_table(
        'teams',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('workspace_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('settings_json', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_teams_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
        sa.UniqueConstraint('workspace_id', 'name', name=op.f('uq_teams_workspace_id')),
    )
    op.create_table(
        'team_members',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                                name=op.f('fk_team_members_team_id_teams'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                                name=op.f('fk_team_members_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_members')),
        sa.UniqueConstraint('team_id', 'person_id', name=op.f('uq_team_members_team_id')),
    )
    op.create_table(
        'team_oncall',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('team_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                  nullable=False),
        sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'],
                                name=op.f('fk_team_oncall_team_id_teams'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'],
                                name=op.f('fk_team_oncall_person_id_people'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_oncall')),
    )
    op.create_index('ix_team_oncall_team', 'team_oncall', ['team_id', 'starts_at'])
    with op.batch_alter_table('channel_configs') as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(op.f('fk_channel_configs_team_id_teams'), 'teams',
                                    ['team_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.add_column(sa.Column('team_id', sa.BigInteger().with_variant(
            sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('sla_exception', sa.Text(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_tickets_team_id_teams'), 'teams',
                                    ['team_id'], ['id'], ondelete='SET NULL')

    bind = op.get_bind()
    now = _utc(bind.dialect.name)
    workspaces = bind.execute(sa.text("SELECT id, settings_json FROM workspaces")).all()
    for workspace_id, settings_json in workspaces:
        settings = json.loads(settings_json or "{}")
        team_settings = {key: settings.pop(key) for key in TEAM_KEYS if key in settings}
        bind.execute(sa.text(
            "INSERT INTO teams (workspace_id, name, is_default, settings_json, created_at) "
            "VALUES (:w, :name, :yes, :settings, :now)"),
            {"w": workspace_id, "name": DEFAULT_TEAM, "yes": True,
             "settings": json.dumps(team_settings, sort_keys=True), "now": now})
        team_id = bind.execute(sa.text(
            "SELECT id FROM teams WHERE workspace_id = :w AND name = :name"),
            {"w": workspace_id, "name": DEFAULT_TEAM}).scalar_one()
        bind.execute(sa.text("UPDATE workspaces SET settings_json = :s WHERE id = :w"),
                     {"s": json.dumps(settings, sort_keys=True), "w": workspace_id})
        bind.execute(sa.text("UPDATE channel_configs SET team_id = :t WHERE workspace_id = :w"),
                     {"t": team_id, "w": workspace_id})
        bind.execute(sa.text("UPDATE tickets SET team_id = :t WHERE workspace_id = :w"),
                     {"t": team_id, "w": workspace_id})
        bind.execute(sa.text(
            "INSERT INTO team_members (team_id, person_id, role, created_at) "
            "SELECT :t, id, role, :now FROM people "
            "WHERE workspace_id = :w AND role IN ('agent', 'lead')"),
            {"t": team_id, "w": workspace_id, "now": now})


def downgrade() -> None:
    """Revert this revision: the default team's settings go back to its workspace; the
    other teams' settings, members and routing are dropped with their tables (their
    tickets and channels stay, as the single desk's)."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT t.workspace_id, t.settings_json, w.settings_json FROM teams t "
        "JOIN workspaces w ON w.id = t.workspace_id WHERE t.is_default = :yes"),
        {"yes": True}).all()
    for workspace_id, team_json, workspace_json in rows:
        settings = json.loads(workspace_json or "{}")
        settings.update(json.loads(team_json or "{}"))
        bind.execute(sa.text("UPDATE workspaces SET settings_json = :s WHERE id = :w"),
                     {"s": json.dumps(settings, sort_keys=True), "w": workspace_id})
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_constraint(op.f('fk_tickets_team_id_teams'), type_='foreignkey')
        batch_op.drop_column('sla_exception')
        batch_op.drop_column('team_id')
    with op.batch_alter_table('channel_configs') as batch_op:
        batch_op.drop_constraint(op.f('fk_channel_configs_team_id_teams'), type_='foreignkey')
        batch_op.drop_column('team_id')
    op.drop_index('ix_team_oncall_team', table_name='team_oncall')
    op.drop_table('team_oncall')
    op.drop_table('team_members')
    op.drop_table('teams')
