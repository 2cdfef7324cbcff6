"""SQLite writers in one process take turns in the order they asked, and a unit of work
opened inside another in the same task still works."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from bot.clock import OffsetClock
from bot.storage.uow import Database
from tests.support.harness import reset_schema


async def test_writers_take_turns_first_come_first_served(sqlite_url):
    db = Database.from_url(sqlite_url, OffsetClock())
    await reset_schema(db)
    order: list[str] = []
    first_in = asyncio.Event()
    let_go = asyncio.Event()

    async def writer(name: str, hold: bool = False) -> None:
        async with db.unit_of_work() as uow:
            await uow.session.execute(text("SELECT 1"))
            order.append(name)
            if hold:
                first_in.set()
                await let_go.wait()

    try:
        holder = asyncio.create_task(writer("a", hold=True))
        await first_in.wait()
        waiting = []
        for name in "bcde":
            waiting.append(asyncio.create_task(writer(name)))
            await asyncio.sleep(0.01)  # each asks before the next
        let_go.set()
        await asyncio.gather(holder, *waiting)
        assert order == ["a", "b", "c", "d", "e"]
    finally:
        await db.dispose()


async def test_a_unit_of_work_inside_another_in_the_same_task_does_not_wait_on_itself(
        sqlite_url):
    db = Database.from_url(sqlite_url, OffsetClock())
    await reset_schema(db)
    try:
        async with db.unit_of_work() as outer:
            async with db.unit_of_work() as inner:
                await inner.workspaces.ensure("test", "T1", "T1", db.clock.now())
            assert (await outer.session.execute(text("SELECT count(*) FROM workspaces"))
                    ).scalar_one() == 1
        # The gate is free again for the next writer.
        async with db.unit_of_work() as after:
            await after.session.execute(text("SELECT 1"))
        assert db.write_gate is not None and not db.write_gate._lock.locked()
    finally:
        await db.dispose()
