"""The ticker: APScheduler's AsyncIOScheduler in UTC, used only to say "tick".

Deadlines live in our tables, never in APScheduler's job store: its jobs carry fixed
ids and no state, so a restart or a second instance loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduling.ledger import PromiseSweeper
from bot.scheduling.outbox import OutboxDispatcher
from bot.scheduling.probe import what_is_due

logger = logging.getLogger(__name__)

TICK_JOB_ID = "helpdesk-tick"


class Ticker:
    """Every ``tick_seconds``: one read asks what is due; the sweeper covers lapsed
    promises if any, and the dispatcher is woken if any outbox row came due.

    The dispatcher also wakes at once when a transaction adds outbox rows, so the tick
    only bounds how late a scheduled row, a retry or another process's row can be. An
    idle tick is that one read.
    """

    def __init__(self, tick_seconds: float, dispatcher: OutboxDispatcher,
                 sweeper: PromiseSweeper | None = None) -> None:
        self.tick_seconds = tick_seconds
        self.dispatcher = dispatcher
        self.sweeper = sweeper
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self._delivery: asyncio.Task | None = None
        self._stopping = False

    async def tick(self) -> None:
        """One tick: probe, sweep if promises are due, wake the dispatcher if rows are."""
        due = await what_is_due(self.dispatcher.db, list(self.dispatcher.adapters),
                                ledger=self.sweeper is not None)
        if self.sweeper is not None and due.ledger_work:
            await self.sweeper.sweep(due)  # its commits wake the dispatcher themselves
        if due.outbox_work:
            self.dispatcher.wake(leases_expired=due.outbox_leases)

    def start(self) -> None:
        """Start ticking (needs a running event loop)."""
        self.scheduler.add_job(self._guarded_tick, "interval", id=TICK_JOB_ID,
                               seconds=self.tick_seconds, max_instances=1, coalesce=True,
                               misfire_grace_time=None, replace_existing=True)
        self.scheduler.start()
        self.dispatcher.take_handoffs()
        self._delivery = asyncio.create_task(self._deliver_forever(), name="outbox-delivery")
        self.dispatcher.wake()  # whatever was queued before we started

    async def _guarded_tick(self) -> None:
        try:
            await self.tick()
        except Exception:
            logger.exception("the scheduler tick failed; it runs again next tick")

    async def _deliver_forever(self) -> None:
        while not self._stopping:
            await self.dispatcher.wait_for_work(None)
            if self._stopping:
                return
            try:
                # Woken by a hand-over, a commit that left rows pending, or the tick's
                # probe: no need to probe again.
                await self.dispatcher.drain(probe=False)
            except Exception:
                logger.exception("outbox delivery failed; retrying next tick")

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop ticking; let the delivery loop record what it has already sent (for up
        to ``grace_seconds``) so nothing sent is sent again after a restart."""
        self._stopping = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._delivery is not None:
            self.dispatcher.stop_soon()
            try:
                await asyncio.wait_for(self._delivery, grace_seconds)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            try:
                await self.dispatcher.release_handoffs()
            except Exception:  # their leases expire and a later claim takes them
                logger.exception("could not hand unsent outbox rows back")
