"""/readyz's judgement, piece by piece: the ticker's last tick, each adapter's
connection, the database; and the ticker's own record of when it ticked."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from bot.clock import OffsetClock
from bot.outbox.dispatcher import OutboxDispatcher
from bot.storage.health import DatabaseProbe
from bot.storage.uow import Database
from bot.ticker import Ticker
from bot.web import Readiness
from tests.support.harness import reset_schema


@dataclass
class Ticking:
    tick_seconds: float = 1.0
    started_at: float | None = 100.0
    last_tick_at: float | None = None


class Adapter:
    def __init__(self, connected: bool = True, hang: bool = False) -> None:
        self.connected, self.hang = connected, hang

    async def is_connected(self) -> bool:
        if self.hang:
            await asyncio.Event().wait()
        return self.connected


class Unbothered:
    """An adapter with no connection to lose (no ``is_connected``)."""


async def judged(db_url, adapters=None, ticker=None, now=103.0):
    db = Database.from_url(db_url, OffsetClock())
    await reset_schema(db)
    try:
        readiness = Readiness(DatabaseProbe(db, db_url), adapters or {}, ticker,
                              monotonic=lambda: now, adapter_timeout=0.05)
        return await readiness.problems()
    finally:
        await db.dispose()


async def test_a_ticker_within_three_ticks_is_fine_and_past_them_stalled(sqlite_url):
    assert await judged(sqlite_url, ticker=Ticking(last_tick_at=100.5), now=103.5) == (
        {}, ["database", "ticker"])
    problems, ok = await judged(sqlite_url, ticker=Ticking(last_tick_at=100.0), now=103.5)
    assert problems == {"ticker": "the last tick finished 4 s ago (it ticks every 1 s)"}
    assert ok == ["database"]


async def test_a_ticker_that_never_finished_a_tick_is_named_after_its_grace(sqlite_url):
    assert (await judged(sqlite_url, ticker=Ticking(), now=102.0))[0] == {}
    problems, _ = await judged(sqlite_url, ticker=Ticking(), now=110.0)
    assert problems == {"ticker": "no tick has finished since the ticker started 10 s ago "
                                  "(it ticks every 1 s)"}


async def test_a_stopped_ticker_is_named(sqlite_url):
    problems, _ = await judged(sqlite_url, ticker=Ticking(started_at=None))
    assert problems == {"ticker": "the ticker is not running"}


async def test_each_adapter_not_connected_is_named_by_its_platform(sqlite_url):
    problems, ok = await judged(sqlite_url, {"slack": Adapter(False), "discord": Adapter(),
                                             "test": Unbothered(),
                                             "other": Adapter(hang=True)})
    assert problems == {"slack": "not connected",
                        "other": "did not say whether it is connected within 0.05 s"}
    assert ok == ["database", "discord", "test"]


async def test_the_ticker_records_each_finished_tick_on_the_monotonic_clock(sqlite_url):
    db = Database.from_url(sqlite_url, OffsetClock())
    await reset_schema(db)
    moments = iter([5.0, 7.5])
    ticker = Ticker(1.0, OutboxDispatcher(db, {}), monotonic=lambda: next(moments))
    try:
        assert (ticker.started_at, ticker.last_tick_at) == (None, None)
        await ticker.tick()
        assert ticker.last_tick_at == 5.0
        ticker.start()
        assert ticker.started_at == 7.5
        await ticker.stop()
        assert ticker.started_at is None  # /readyz: a stopped ticker is not running
    finally:
        await db.dispose()
