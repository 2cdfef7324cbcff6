"""The ticker: APScheduler's AsyncIOScheduler in UTC, used only to say "tick".

Deadlines live in our tables, never in APScheduler's job store: its jobs carry fixed
ids and no state, so a restart or a second instance loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.tasks import BackgroundTasks
from bot.ledger.sweeper import PromiseSweeper
from bot.metrics import Metrics
from bot.outbox.dispatcher import OutboxDispatcher
from bot.storage.due import what_is_due
from bot.storage.inbox import DurableInbox
from bot.storage.retention import Retention

logger = logging.getLogger(__name__)

TICK_JOB_ID = "helpdesk-tick"


def _quiet_scheduler_log() -> None:
    """APScheduler logs "Running job ..." and "... executed successfully" at INFO for
    every tick, two lines a second: at INFO the log says what the desk did, not that the
    ticker ticked. Its warnings and errors (a missed or failed run) still show; with the
    log at DEBUG, everything does."""
    scheduler_log = logging.getLogger("apscheduler")
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        scheduler_log.setLevel(logging.WARNING)
    else:
        scheduler_log.setLevel(logging.NOTSET)


class Ticker:
    """Every ``tick_seconds``: one read asks what is due; the sweeper covers lapsed
    promises if any, and the dispatcher is woken if any outbox row came due.

    The dispatcher also wakes at once when a transaction adds outbox rows, so the tick
    only bounds how late a scheduled row, a retry or another process's row can be. An
    idle tick is that one read.
    """

    def __init__(self, tick_seconds: float, dispatcher: OutboxDispatcher,
                 sweeper: PromiseSweeper | None = None,
                 retention: Retention | None = None, *, metrics: Metrics | None = None,
                 inbox: DurableInbox | None = None, monotonic=time.monotonic) -> None:
        self.tick_seconds = tick_seconds
        self.dispatcher = dispatcher
        self.sweeper = sweeper
        self.retention = retention
        # Renews this process's inbox leases and takes over a dead instance's events.
        self.inbox = inbox
        self.metrics = metrics or Metrics()
        # For /readyz (bot/web/service.py): on the monotonic clock, because they measure
        # whether this process still ticks, not the desk's time (the console moves that).
        self._monotonic = monotonic
        self.started_at: float | None = None
        self.last_tick_at: float | None = None
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self._delivery: asyncio.Task | None = None
        self._stopping = False
        self._one_at_a_time = asyncio.Lock()  # the scheduled tick and a _wake_at tick
        self._timer: asyncio.TimerHandle | None = None
        self._tasks = BackgroundTasks(logger)  # the delivery loop and early ticks
        self._pruning: asyncio.Task | None = None

    async def tick(self) -> None:
        """One tick: probe, sweep if promises are due (or due soon, or prepared ahead and
        now due), wake the dispatcher if rows are."""
        async with self._one_at_a_time:
            begun = time.perf_counter()
            await self._tick()
            self.metrics.tick_seconds.observe(time.perf_counter() - begun)
            self.last_tick_at = self._monotonic()

    async def _tick(self) -> None:
        sweeper = self.sweeper
        due = await what_is_due(self.dispatcher.db, list(self.dispatcher.adapters),
                                ledger=sweeper is not None,
                                ahead=sweeper.prepare_ahead if sweeper else timedelta(0))
        if sweeper is not None and (due.ledger_work or sweeper.next_prepared_at):
            await sweeper.sweep(due)  # its commits wake the dispatcher themselves
            self._wake_at(sweeper.next_prepared_at)
        if due.outbox_work:
            self.dispatcher.wake(leases_expired=due.outbox_leases)

    def _wake_at(self, moment: datetime | None) -> None:
        """Tick again at ``moment`` (the earliest prepared cover's due time), so covers
        prepared ahead go out on time rather than at the next tick."""
        if moment is None or self._stopping or not self.scheduler.running:
            return  # a piped console ticks line by line and must not be raced
        delay = (moment - self.dispatcher.db.clock.now()).total_seconds()
        if delay >= self.tick_seconds:
            return  # an ordinary tick comes first
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(max(delay, 0.0), self._tick_early)

    def _tick_early(self) -> None:
        self._tasks.start(self._guarded_tick(), name="prepared-covers-due")

    def start(self) -> None:
        """Start ticking (needs a running event loop)."""
        _quiet_scheduler_log()
        self.scheduler.add_job(self._guarded_tick, "interval", id=TICK_JOB_ID,
                               seconds=self.tick_seconds, max_instances=1, coalesce=True,
                               misfire_grace_time=None, replace_existing=True)
        self.scheduler.start()
        self.started_at = self._monotonic()
        self.dispatcher.take_handoffs()
        self._delivery = self._tasks.start(self._deliver_forever(), name="outbox-delivery")
        self.dispatcher.wake()  # whatever was queued before we started

    async def _guarded_tick(self) -> None:
        if self._stopping:
            return  # stop() hands back what was prepared; a tick now would prepare more
        try:
            await self.tick()
        except Exception:
            logger.exception("the scheduler tick failed; it runs again next tick")
        if self.inbox is not None:
            try:
                await self.inbox.tick()
            except Exception:
                logger.exception("the inbox's tick failed; it runs again next tick")
        retention = self.retention
        if retention is not None and retention.due(self.dispatcher.db.clock.now()):
            # Beside the ticks, not in one: it prunes batch by batch between them.
            self._pruning = self._tasks.start(retention.run(), name="retention")

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
        self.started_at = None
        if self._timer is not None:
            self._timer.cancel()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        if self._pruning is not None:
            self._pruning.cancel()  # its batch rolls back; the next start prunes again
            # ... and that rollback is waited for here, while the database is still open:
            # a task left cancelling after the engine is disposed can wait for ever.
            await asyncio.wait({self._pruning}, timeout=grace_seconds)
        if self.sweeper is not None:
            await self._release_prepared(grace_seconds)
        if self._delivery is not None:
            self.dispatcher.stop_soon()
            try:
                await asyncio.wait_for(self._delivery, grace_seconds)
            except (asyncio.TimeoutError, asyncio.CancelledError):
                pass
            except Exception:  # logged when it happened (BackgroundTasks)
                pass
            try:
                await self.dispatcher.release_handoffs()
            except Exception:  # their leases expire and a later claim takes them
                logger.exception("could not hand unsent outbox rows back")

    async def _release_prepared(self, grace_seconds: float) -> None:
        # After any running tick, which may be preparing more; if it runs long, the
        # claims' leases expire and another process covers them the ordinary way.
        try:
            await asyncio.wait_for(self._one_at_a_time.acquire(), grace_seconds)
        except asyncio.TimeoutError:
            logger.warning("a sweep was still running; promises prepared ahead are left "
                           "to their leases")
            return
        try:
            await self.sweeper.release_prepared()
        except Exception:
            logger.exception("could not hand back the promises prepared ahead")
        finally:
            self._one_at_a_time.release()
