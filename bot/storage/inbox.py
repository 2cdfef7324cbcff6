"""The inbox: inbound events acknowledged to their platform and not yet handled.

Slack's Events API does not deliver again what the desk answered 200, so an event
that lived only in memory between its acknowledgement and its handling was lost when
the process died or stopped. Now the adapter writes it here first (``keep``, before
the 200) and deletes it once the desk has handled it (``done``).

Each row has an owner, the process handling it, and a lease that the owner renews
while it lives (``tick``, once per tick while it holds rows). A row whose lease ran
out (its owner was killed, or stopped and handed it back with ``hand_back``) is taken
by any instance with one claiming statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL) and handled again from its stored payload by the platform's replay. If
the first owner had committed the handling after all and died before ``done``, the
router's dedupe (``processed_events``) drops the replay: handled once either way.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import delete, update

from bot.core.tasks import BackgroundTasks
from bot.storage.batch import claimable
from bot.storage.tables import InboxRow
from bot.storage.uow import Database
from bot.storage.workspace_repository import insert_for

logger = logging.getLogger(__name__)

# Handles one kept payload again, as its platform first delivered it.
Replay = Callable[[str], Awaitable[None]]

LEASE = timedelta(seconds=30)
SCAN_EVERY = timedelta(seconds=5)
# An event whose handling killed its process this often is dropped, loudly, rather
# than taking every instance down with it in turn.
MAX_ATTEMPTS = 5


class DurableInbox:
    """The database's inbox for this process: ``keep`` and ``done`` for the adapters
    (the ``bot.core.Inbox`` port), ``tick`` and ``hand_back`` for the ticker and the
    stop."""

    def __init__(self, db: Database, *, lease: timedelta = LEASE,
                 scan_every: timedelta = SCAN_EVERY, batch: int = 50) -> None:
        self.db = db
        self.lease = lease
        self.scan_every = scan_every
        self.batch = batch
        self.owner = uuid.uuid4().hex
        self.replays: dict[str, Replay] = {}
        self._mine: set[tuple[str, str]] = set()
        self._renewed_at: datetime | None = None
        self._scanned_at: datetime | None = None
        self._replaying = BackgroundTasks(logger)
        self.taken_over = 0  # rows of another (dead or stopped) owner handled here

    def replay_with(self, platform: str, replay: Replay) -> None:
        """``platform``'s events found in the inbox without a living owner go to
        ``replay``; a platform without one is never taken over here."""
        self.replays[platform] = replay

    @property
    def held(self) -> int:
        """How many rows this process holds and has not finished."""
        return len(self._mine)

    async def keep(self, platform: str, key: str, payload: str) -> bool:
        """Write the event before it is acknowledged; False when it is there already."""
        now = self.db.clock.now()
        async with self.db.unit_of_work() as uow:
            result = await uow.session.execute(
                insert_for(uow.session, InboxRow).values(
                    platform=platform, event_key=key[:128], payload=payload, owner=self.owner,
                    lease_until=now + self.lease, received_at=now, attempts=1)
                .on_conflict_do_nothing(index_elements=["platform", "event_key"])
                .returning(InboxRow.id))
            fresh = result.scalar_one_or_none() is not None
        if fresh:
            self._mine.add((platform, key[:128]))
        return fresh

    async def done(self, platform: str, key: str) -> None:
        """The event was handled: delete its row, whoever holds it now."""
        self._mine.discard((platform, key[:128]))
        async with self.db.unit_of_work() as uow:
            await uow.session.execute(delete(InboxRow).where(
                InboxRow.platform == platform, InboxRow.event_key == key[:128]))

    async def retry_later(self, platform: str, key: str) -> None:
        """Handling failed or was cut short: end the row's lease now, so the next scan
        (here or in another instance) replays it."""
        self._mine.discard((platform, key[:128]))
        now = self.db.clock.now()
        async with self.db.unit_of_work() as uow:
            await uow.session.execute(update(InboxRow).where(
                InboxRow.platform == platform, InboxRow.event_key == key[:128],
                InboxRow.owner == self.owner).values(lease_until=now - timedelta(microseconds=1)))

    async def tick(self) -> None:
        """Renew this process's leases when half gone, and every ``scan_every`` take
        rows whose lease ran out and replay them."""
        now = self.db.clock.now()
        if self._mine and (self._renewed_at is None
                           or now - self._renewed_at >= self.lease / 2):
            async with self.db.unit_of_work() as uow:
                await uow.session.execute(update(InboxRow).where(InboxRow.owner == self.owner)
                                          .values(lease_until=now + self.lease))
            self._renewed_at = now
        if self.replays and (self._scanned_at is None or now - self._scanned_at >= self.scan_every):
            self._scanned_at = now
            if await self.take_over() >= self.batch:
                # A full batch: a dead instance left a backlog. Take the next batch on
                # the next tick rather than ``scan_every`` later (50 every 5 s per
                # instance would leave a burst's backlog waiting minutes).
                self._scanned_at = None

    async def take_over(self) -> int:
        """Claim rows whose lease ran out and start replaying them; returns how many."""
        now = self.db.clock.now()
        picked = claimable(self.db.engine.dialect.name, InboxRow, InboxRow.lease_until < now,
                           InboxRow.platform.in_(list(self.replays)),
                           order_by=(InboxRow.lease_until, InboxRow.id), limit=self.batch)
        async with self.db.unit_of_work() as uow:
            rows = list((await uow.session.execute(
                update(InboxRow).where(picked)
                .values(owner=self.owner, lease_until=now + self.lease,
                        attempts=InboxRow.attempts + 1)
                .returning(InboxRow.platform, InboxRow.event_key, InboxRow.payload,
                           InboxRow.attempts))).all())
        for row in rows:
            if row.attempts > MAX_ATTEMPTS:
                logger.error("inbound %s event %s was taken over %d times without being "
                             "handled; dropping it", row.platform, row.event_key, row.attempts - 1)
                await self.done(row.platform, row.event_key)
                continue
            logger.info("taking over inbound %s event %s (its owner stopped, died, or "
                        "handed it back after a failure)", row.platform, row.event_key)
            self._mine.add((row.platform, row.event_key))
            self.taken_over += 1
            self._replaying.start(self._replay(row.platform, row.event_key, row.payload),
                                  name="inbox-replay")
        return len(rows)

    async def _replay(self, platform: str, key: str, payload: str) -> None:
        try:
            await self.replays[platform](payload)
        except Exception:  # another scan, here or elsewhere, tries again
            logger.exception("replaying inbound %s event %s failed", platform, key)
            try:
                await self.retry_later(platform, key)
            except Exception:  # then its lease runs out
                self._mine.discard((platform, key[:128]))

    async def idle(self, timeout: float) -> bool:
        """Stopping: let the replays already started finish (up to ``timeout`` seconds);
        True when none is left running. They are events some instance acknowledged."""
        return await self._replaying.wait(timeout)

    async def hand_back(self) -> int:
        """Stopping: cancel the replays still running, then let any instance take this
        process's unfinished rows at once (their lease ends now); returns how many."""
        # A replay left running after its row is handed back could be handled twice:
        # here, and by the instance that takes the row.
        await self._replaying.cancel()
        if not self._mine:
            return 0
        now = self.db.clock.now()
        async with self.db.unit_of_work() as uow:
            result = await uow.session.execute(
                update(InboxRow).where(InboxRow.owner == self.owner)
                .values(lease_until=now - timedelta(microseconds=1)))
        count = result.rowcount or 0
        self._mine.clear()
        if count:
            logger.info("handed %d unfinished inbound event(s) back to the inbox", count)
        return count
