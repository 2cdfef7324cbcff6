"""The tick's peek: one statement on a kept connection, outside any transaction. It sees
every commit, holds nothing open, and outlives a dropped or failed connection."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.clock import OffsetClock
from bot.storage.tables import WorkspaceRow
from bot.storage.uow import Database
from tests.conftest import _admin
from tests.support.harness import reset_schema

WORKSPACES = select(func.count()).select_from(WorkspaceRow)


async def _new_workspace(db: Database, external_id: str) -> None:
    async with db.unit_of_work() as uow:
        await uow.workspaces.ensure("test", external_id, external_id, db.clock.now())


async def test_a_peek_sees_each_commit_and_keeps_one_connection(db_url):
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)
    try:
        assert (await db.peek.one(WORKSPACES))[0] == 0
        await _new_workspace(db, "T1")
        # A snapshot held from the first peek would still count none.
        assert (await db.peek.one(WORKSPACES))[0] == 1
        await _new_workspace(db, "T2")
        assert (await db.peek.one(WORKSPACES))[0] == 2
        assert db.engine.pool.checkedout() == 1  # the peek's own, kept between peeks
    finally:
        await db.dispose()
    assert db.engine.pool.checkedout() == 0


@pytest.mark.postgres
async def test_a_peek_leaves_no_transaction_open_on_postgresql(postgres_url):
    db = Database.from_url(postgres_url, OffsetClock())
    try:
        (pid,) = await db.peek.one(select(func.pg_backend_pid()))
        async with db.reading() as uow:
            state = (await uow.session.execute(
                text("SELECT state FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid})).scalar_one()
        assert state == "idle"  # not "idle in transaction"
    finally:
        await db.dispose()


@pytest.mark.postgres
async def test_a_peek_survives_the_server_dropping_its_connection(postgres_url):
    db = Database.from_url(postgres_url, OffsetClock())
    try:
        (first,) = await db.peek.one(select(func.pg_backend_pid()))
        assert await _admin(make_url(postgres_url),
                            f"SELECT pg_terminate_backend({int(first)})") is True
        (second,) = await db.peek.one(select(func.pg_backend_pid()))
        assert second != first
    finally:
        await db.dispose()


async def test_a_failed_peek_leaves_the_next_one_a_fresh_connection(sqlite_url):
    db = Database.from_url(sqlite_url, OffsetClock())
    await reset_schema(db)
    try:
        with pytest.raises(DBAPIError):
            await db.peek.one(text("SELECT count(*) FROM no_such_table"))
        assert db.engine.pool.checkedout() == 0  # the failed connection was let go
        assert (await db.peek.one(WORKSPACES))[0] == 0
    finally:
        await db.dispose()
