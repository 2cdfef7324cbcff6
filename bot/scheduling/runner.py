"""The ticker: APScheduler's AsyncIOScheduler in UTC, used only to say "tick".

Deadlines live in our tables, never in APScheduler's job store: its jobs carry fixed
ids and no state, so a restart or a second instance loses and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timezone
from typing import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduling.outbox import OutboxDispatcher

logger = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


class Ticker:
    """Runs ``jobs`` every ``tick_seconds`` and keeps the dispatcher delivering.

    The dispatcher also wakes at once when a transaction adds outbox rows, so the tick
    only bounds how late a scheduled row or a retry can be.
    """

    def __init__(self, tick_seconds: float, dispatcher: OutboxDispatcher,
                 jobs: dict[str, Job]) -> None:
        self.tick_seconds = tick_seconds
        self.dispatcher = dispatcher
        self.jobs = jobs
        self.scheduler = AsyncIOScheduler(timezone=timezone.utc)
        self._delivery: asyncio.Task | None = None
        self._stopping = False

    def start(self) -> None:
        """Start ticking (needs a running event loop)."""
        for job_id, job in self.jobs.items():
            self.scheduler.add_job(self._guard(job_id, job), "interval", id=job_id,
                                   seconds=self.tick_seconds, max_instances=1, coalesce=True,
                                   misfire_grace_time=None, replace_existing=True)
        self.scheduler.start()
        self._delivery = asyncio.create_task(self._deliver_forever(), name="outbox-delivery")

    def _guard(self, job_id: str, job: Job) -> Job:
        async def run() -> None:
            try:
                await job()
            except Exception:
                logger.exception("scheduled job %s failed; it runs again next tick", job_id)
            self.dispatcher.wake()
        return run

    async def _deliver_forever(self) -> None:
        woken = False
        while not self._stopping:
            try:
                # A wake-up means a commit just added rows: no need to probe for them.
                await self.dispatcher.drain(probe=not woken)
            except Exception:
                logger.exception("outbox delivery failed; retrying next tick")
            woken = await self.dispatcher.wait_for_work(self.tick_seconds)

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
