"""Migration 0009 changes the promises table (a ticket becomes optional, an incident is
added): on a populated database every promise, ticket and workspace is kept, both ways."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import text

from bot.storage import migrate
from bot.storage.engine import create_engine
from bot.storage.tables import Base

NOW = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)


async def _empty(engine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


async def _promises(engine) -> list[tuple]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT id, ticket_id, kind, status, misses_in_row FROM promises ORDER BY id"))
        return [tuple(row) for row in rows]


async def test_promises_survive_the_incident_migration_both_ways(db_url):
    engine = create_engine(db_url)
    try:
        await _empty(engine)
        await migrate.upgrade(engine, "0008")
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO workspaces (id, platform, external_id, name, settings_json, "
                "next_ticket_number, kb_revision, created_at) VALUES "
                "(1, 'slack', 'T1', 'T', '{}', 3, 0, :now)"), {"now": NOW})
            await connection.execute(text(
                "INSERT INTO people (id, workspace_id, external_id, display_name, role, "
                "created_at) VALUES (1, 1, 'U1', 'Ann', 'requester', :now)"), {"now": NOW})
            for number in (1, 2):
                await connection.execute(text(
                    "INSERT INTO tickets (id, workspace_id, number, requester_id, status, "
                    "priority, subject, first_message, in_a_hurry, created_at, updated_at) "
                    "VALUES (:id, 1, :number, 1, 'open', 'P3', 'VPN', 'VPN', false, :now, :now)"),
                    {"id": number, "number": number, "now": NOW})
                # A chain: #2's promise follows #1's (parent_id), as covers do.
                await connection.execute(text(
                    "INSERT INTO promises (id, workspace_id, ticket_id, kind, text, made_at, "
                    "due_at, status, misses_in_row, step, attempts, parent_id) VALUES (:id, 1, "
                    ":ticket, 'first_response', '', :now, :now, 'pending', :misses, 0, 0, "
                    ":parent)"), {"id": number, "ticket": number, "misses": number, "now": NOW,
                                  "parent": None if number == 1 else 1})
        before = await _promises(engine)
        assert len(before) == 2
        await migrate.upgrade(engine)
        assert await _promises(engine) == before
        async with engine.connect() as connection:
            assert (await connection.execute(text(
                "SELECT next_incident_number FROM workspaces"))).scalar_one() == 1
            assert (await connection.execute(text(
                "SELECT count(*) FROM promises WHERE incident_id IS NULL"))).scalar_one() == 2
            # An incident and its chain of promises, which a downgrade lets go.
        async with engine.begin() as connection:
            await connection.execute(text(
                "INSERT INTO incidents (id, workspace_id, number, title, owner_id, status, "
                "summary, created_at, updated_at) VALUES (1, 1, 1, 'VPN', 1, 'open', '', "
                ":now, :now)"), {"now": NOW})
            for number, parent in ((3, None), (4, 3)):
                await connection.execute(text(
                    "INSERT INTO promises (id, workspace_id, incident_id, kind, text, made_at, "
                    "due_at, status, misses_in_row, step, attempts, parent_id) VALUES (:id, 1, "
                    "1, 'incident_update', '', :now, :now, 'pending', 0, 0, 0, :parent)"),
                    {"id": number, "now": NOW, "parent": parent})
        await migrate.downgrade(engine, "0008")
        assert await _promises(engine) == before
        async with engine.connect() as connection:
            assert (await connection.execute(text(
                "SELECT count(*) FROM tickets"))).scalar_one() == 2
    finally:
        await _empty(engine)
        await engine.dispose()
