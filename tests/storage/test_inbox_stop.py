"""Stopping with inbox rows being replayed (issue 18): a replay still running when its row
is handed back could be handled twice, here and by the instance that takes the row, so
the stop lets replays finish within the grace and cancels the rest before handing back."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy import insert, select

from bot.clock import OffsetClock
from bot.storage.inbox import DurableInbox
from bot.storage.tables import InboxRow
from bot.storage.uow import Database
from tests.support.harness import reset_schema


async def _rows(db) -> list[tuple[str, str, bool]]:
    now = db.clock.now()
    async with db.reading() as uow:
        rows = (await uow.session.execute(select(InboxRow.event_key, InboxRow.owner,
                                                 InboxRow.lease_until))).all()
    return sorted((key, owner, lease <= now) for key, owner, lease in rows)


async def _dead_instance_left(db, *keys: str) -> None:
    past = db.clock.now() - timedelta(minutes=1)
    async with db.unit_of_work() as uow:
        await uow.session.execute(insert(InboxRow), [
            {"platform": "slack", "event_key": key, "owner": "dead-instance",
             "payload": json.dumps({"key": key}), "lease_until": past, "received_at": past,
             "attempts": 1} for key in keys])


async def test_a_stop_waits_for_quick_replays_and_hands_back_the_slow_one(db_url):
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)  # PostgreSQL tests share one database
    try:
        inbox = DurableInbox(db)
        handled: list[str] = []
        unwound: list[str] = []

        async def replay(payload: str) -> None:
            key = json.loads(payload)["key"]
            try:
                await asyncio.sleep(0.01 if key == "Ev-quick" else 60)
                handled.append(key)
                await inbox.done("slack", key)
            finally:
                if key not in handled:
                    unwound.append(key)

        inbox.replay_with("slack", replay)
        await _dead_instance_left(db, "Ev-quick", "Ev-slow")
        assert await inbox.take_over() == 2

        assert await inbox.idle(1.0) is False  # the slow one is still running
        assert handled == ["Ev-quick"]
        assert await inbox.hand_back() == 1
        # The slow replay was cancelled (and had unwound) before its row was handed
        # back: only the instance that takes the row handles it now.
        assert unwound == ["Ev-slow"]
        assert await _rows(db) == [("Ev-slow", inbox.owner, True)]
    finally:
        await db.dispose()


async def test_a_dead_instances_backlog_is_taken_a_batch_a_tick(db_url):
    # One batch every scan interval (50 every 5 s) left a burst's backlog waiting for
    # minutes: a full batch now brings the next scan to the next tick.
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)  # PostgreSQL tests share one database
    try:
        inbox = DurableInbox(db, batch=50)
        handled: list[str] = []

        async def replay(payload: str) -> None:
            key = json.loads(payload)["key"]
            handled.append(key)
            await inbox.done("slack", key)

        inbox.replay_with("slack", replay)
        await _dead_instance_left(db, *(f"Ev-{n:03d}" for n in range(120)))
        taken = []
        for _ in range(3):  # three ticks, no time passing between them
            before = inbox.taken_over
            await inbox.tick()
            taken.append(inbox.taken_over - before)
            await inbox.idle(5.0)
        assert taken == [50, 50, 20]
        assert sorted(handled) == [f"Ev-{n:03d}" for n in range(120)]
    finally:
        await db.dispose()
