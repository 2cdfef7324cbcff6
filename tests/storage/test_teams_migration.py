"""Migration 0013 (teams) on a desk populated before it: every ticket, promise and
setting is kept, the single desk becomes the default team ``it``, and the policy the
desk computes is the same before and after. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import text

from bot.storage import migrate
from bot.storage.engine import create_engine
from bot.storage.tables import Base

BEFORE = "0008"
SETTINGS = {
    "calendar": {"timezone": "Europe/Oslo", "hours": [["08:00", "16:00"]] * 5 + [None, None],
                 "holidays": ["2026-12-25"]},
    "sla": {"warn_at": 0.75, "targets": {
        p: {"first_response": first, "update_interval": 14400, "resolution": 86400}
        for p, first in (("P1", 1800), ("P2", 7200), ("P3", 7200), ("P4", 7200))}},
    "templates": {"intake.ack": "Hei {requester}, {ref}: {eta}"},
    "ticket_emoji": "sos",
}


async def _empty(engine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


async def _populate(engine) -> None:
    sqlite = engine.dialect.name == "sqlite"
    now = datetime(2026, 12, 1, 9, tzinfo=timezone.utc)
    at = now.replace(tzinfo=None) if sqlite else now
    statements = [
        ("INSERT INTO workspaces (id, platform, external_id, name, settings_json, "
         "next_ticket_number, kb_revision, created_at) VALUES (1, 'slack', 'T1', 'Acme', :s, 3, "
         "0, :at)", {"s": json.dumps(SETTINGS)}),
        ("INSERT INTO workspaces (id, platform, external_id, name, settings_json, "
         "next_ticket_number, kb_revision, created_at) VALUES (2, 'discord', 'G1', 'Other', "
         "'{}', 1, 0, :at)", {}),
    ]
    for pid, ext, role in ((1, "U1", "requester"), (2, "U2", "agent"), (3, "U3", "lead"),
                           (4, "U4", "admin")):
        statements.append(("INSERT INTO people (id, workspace_id, external_id, display_name, "
                           "role, created_at) VALUES (:id, 1, :ext, :ext, :role, :at)",
                           {"id": pid, "ext": ext, "role": role}))
    for cid, purpose, channel in ((1, "triage", "CTRI"), (2, "intake", "CIN1"),
                                  (3, "intake", "CIN2")):
        statements.append(("INSERT INTO channel_configs (id, workspace_id, purpose, channel_id, "
                           "created_at) VALUES (:id, 1, :p, :c, :at)",
                           {"id": cid, "p": purpose, "c": channel}))
    for tid, number, status, owner in ((1, 1, "open", None), (2, 2, "in_progress", 2)):
        statements.append((
            "INSERT INTO tickets (id, workspace_id, number, requester_id, owner_id, status, "
            "priority, subject, first_message, in_a_hurry, triage_channel_id, created_at, "
            "updated_at) VALUES (:id, 1, :n, 1, :o, :s, 'P2', 'VPN', 'VPN drops', :f, 'CTRI', "
            ":at, :at)", {"id": tid, "n": number, "s": status, "o": owner, "f": False}))
        statements.append((
            "INSERT INTO promises (id, workspace_id, ticket_id, kind, text, made_at, due_at, "
            "status, misses_in_row, step, attempts) VALUES (:id, 1, :id, 'first_response', "
            "'', :at, :at, 'pending', 0, 0, 0)", {"id": tid}))
    async with engine.begin() as connection:
        for sql, values in statements:
            await connection.execute(text(sql), {"at": at, **values})


async def _rows(engine, sql: str) -> list[tuple]:
    async with engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(text(sql))).all()]


async def test_a_populated_single_desk_becomes_team_it_and_back(db_url):
    engine = create_engine(db_url)
    try:
        await _empty(engine)
        await migrate.upgrade(engine, BEFORE)
        await _populate(engine)
        tickets_before = await _rows(engine, "SELECT id, number, status, owner_id FROM tickets "
                                             "ORDER BY id")
        promises_before = await _rows(engine, "SELECT id, ticket_id, kind, status, due_at "
                                              "FROM promises ORDER BY id")
        await migrate.upgrade(engine)

        teams = await _rows(engine, "SELECT workspace_id, name, is_default, settings_json "
                                    "FROM teams ORDER BY workspace_id")
        assert [(w, n, bool(d)) for w, n, d, _ in teams] == [(1, "it", True), (2, "it", True)]
        moved = json.loads(teams[0][3])
        assert moved == {k: SETTINGS[k] for k in ("calendar", "sla", "templates")}
        left = await _rows(engine, "SELECT settings_json FROM workspaces WHERE id = 1")
        assert json.loads(left[0][0]) == {"ticket_emoji": "sos"}
        it = (await _rows(engine, "SELECT id FROM teams WHERE workspace_id = 1"))[0][0]
        assert await _rows(engine, "SELECT purpose, channel_id, team_id FROM channel_configs "
                                   "ORDER BY id") == [("triage", "CTRI", it),
                                                      ("intake", "CIN1", it),
                                                      ("intake", "CIN2", it)]
        assert await _rows(engine, "SELECT id, number, status, owner_id FROM tickets "
                                   "ORDER BY id") == tickets_before
        assert await _rows(engine, "SELECT DISTINCT team_id FROM tickets") == [(it,)]
        assert await _rows(engine, "SELECT id, ticket_id, kind, status, due_at FROM promises "
                                   "ORDER BY id") == promises_before
        assert await _rows(engine, "SELECT person_id, role FROM team_members ORDER BY person_id"
                           ) == [(2, "agent"), (3, "lead")]

        await migrate.downgrade(engine, BEFORE)
        back = await _rows(engine, "SELECT settings_json FROM workspaces WHERE id = 1")
        assert json.loads(back[0][0]) == SETTINGS
        assert await _rows(engine, "SELECT id, number, status, owner_id FROM tickets "
                                   "ORDER BY id") == tickets_before
        assert len(await _rows(engine, "SELECT id FROM channel_configs")) == 3
    finally:
        await _empty(engine)
        await engine.dispose()


async def test_the_desk_reads_the_same_policy_after_the_migration(db_url):
    """What the workspace's single desk had is what team ``it`` has: the same hours,
    targets and wording, through the repository and Desk.policy."""
    from bot.clock import SystemClock
    from bot.desk.policy import Desk
    from bot.settings import Settings
    from bot.storage.uow import Database

    engine = create_engine(db_url)
    try:
        await _empty(engine)
        await migrate.upgrade(engine, BEFORE)
        await _populate(engine)
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    db = Database.from_url(db_url)
    try:
        desk = Desk.from_settings(Settings(), SystemClock())
        async with db.unit_of_work() as uow:
            workspace = await uow.workspaces.get(1)
        policy = desk.policy(workspace)
        assert workspace.default_team.name == "it"
        assert policy.calendar.timezone == "Europe/Oslo"
        assert str(min(policy.calendar.holidays)) == "2026-12-25"
        assert policy.sla.targets[next(p for p in policy.sla.targets if p.value == "P2")] \
            .first_response.total_seconds() == 7200
        assert policy.ticket_emoji == "sos"
        assert policy.templates.render("intake.ack", requester="A", ref="#1", eta="x") \
            == "Hei A, #1: x"
    finally:
        await db.dispose()
        engine = create_engine(db_url)
        await _empty(engine)
        await engine.dispose()
