"""Retention: the delivery records the desk no longer needs are pruned, a little at a time.

What goes, once older than ``HELPDESK_RETENTION_DAYS``:

- outbox rows that were ``sent`` or ``superseded``: what they said is in the ticket's
  timeline, and where a card or a command's thread lives is on the ticket itself
  (``tickets.triage_message_id``, ``tickets.thread_id``, written when the row was sent),
  so no later card, thread or retry reads them. Kept even so: a row that covered a lapsed
  promise (``promises.cover_outbox_id``), because the promise report reads whether that
  update went out on time (bot/storage/reports.py), and promises are records;
- processed event ids: a platform re-delivers within minutes or hours, never a month on.

What stays: every ``pending`` or ``sending`` row, every ``dead`` row (evidence an admin
may need of a message that never arrived; rare, and counted in the promise report),
tickets, timelines and promises.

Each batch is one short transaction deleting at most ``batch`` rows, and a run does a
bounded number of batches: on SQLite each batch queues at the write gate like any other
writer, so an event arriving meanwhile waits for one batch, not for the whole prune.

On SQLite, once a day, ``PRAGMA optimize`` and an incremental vacuum that hands freed
pages back to the file system, a bounded number of pages per transaction. That needs
``auto_vacuum=INCREMENTAL``, which bot/storage/engine.py sets on new databases; an
older file keeps auto_vacuum off (the pruned pages are then reused, and the file stops
growing without shrinking) until it is converted once while the desk is stopped:
``sqlite3 helpdesk.sqlite3 'PRAGMA auto_vacuum=INCREMENTAL; VACUUM;'``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, text

from bot.storage.tables import OutboxRow, ProcessedEventRow, PromiseRow
from bot.storage.uow import Database

logger = logging.getLogger(__name__)

# Outbox rows in these states have done their work.
PRUNABLE = ("sent", "superseded")
# Rows per DELETE: short enough that a waiting event is hardly held up.
BATCH = 500
# Batches per table per run: a run removes at most BATCH * MAX_BATCHES rows of each.
MAX_BATCHES = 20
# How often a run starts; a backlog bigger than one run takes a few runs.
EVERY = timedelta(minutes=5)
# How often SQLite is optimised and vacuumed.
MAINTAIN_EVERY = timedelta(days=1)
# Pages freed per incremental vacuum transaction, and transactions per day.
VACUUM_PAGES = 1_000
MAX_VACUUM_STEPS = 50


@dataclass
class Pruned:
    """What one run removed; ``more`` when a bound stopped it with rows still due."""

    outbox: int = 0
    events: int = 0
    more: bool = False
    vacuumed_pages: int = 0


class Retention:
    """Prunes old delivery records in small batches; the ticker asks :meth:`due` each
    tick and runs :meth:`run` in the background when it is."""

    def __init__(self, db: Database, days: int, *, batch: int = BATCH,
                 max_batches: int = MAX_BATCHES, every: timedelta = EVERY) -> None:
        if days < 1:
            raise ValueError("retention is at least one day")
        self.db = db
        self.keep = timedelta(days=days)
        self.batch = batch
        self.max_batches = max_batches
        self.every = every
        # The first run waits one interval: a desk just started has a backlog to send first.
        self.next_run = db.clock.now() + every
        self.next_maintenance = self.next_run
        self.running = False

    def due(self, now: datetime) -> bool:
        """Whether a run should start now (never while one runs)."""
        return not self.running and now >= self.next_run

    async def run(self) -> Pruned:
        """One run: prune both tables, then, once a day, SQLite's upkeep."""
        self.running = True
        try:
            now = self.db.clock.now()
            self.next_run = now + self.every
            pruned = await self.prune(now)
            if now >= self.next_maintenance:
                self.next_maintenance = now + MAINTAIN_EVERY
                pruned.vacuumed_pages = await self.maintain()
            if pruned.outbox or pruned.events:
                logger.info("retention removed %d outbox rows and %d event ids older than "
                            "%d days%s", pruned.outbox, pruned.events, self.keep.days,
                            "; more next run" if pruned.more else "")
            return pruned
        finally:
            self.running = False

    async def prune(self, now: datetime) -> Pruned:
        """Delete what is older than the retention at ``now``, batch by batch."""
        cutoff = now - self.keep
        outbox, more_outbox = await self._batches(_old_outbox(cutoff, self.batch))
        events, more_events = await self._batches(_old_events(cutoff, self.batch))
        return Pruned(outbox, events, more_outbox or more_events)

    async def _batches(self, statement) -> tuple[int, bool]:
        removed = 0
        for _ in range(self.max_batches):
            async with self.db.unit_of_work() as uow:
                count = (await uow.session.execute(statement)).rowcount or 0
            removed += count
            if count < self.batch:
                return removed, False
        return removed, True

    async def maintain(self) -> int:
        """SQLite only: ``PRAGMA optimize``, then hand free pages back to the file system
        (when the file was made with auto_vacuum=INCREMENTAL); returns pages freed."""
        if self.db.engine.dialect.name != "sqlite":
            return 0
        freed = 0
        async with self.db.unit_of_work() as uow:
            await uow.session.execute(text("PRAGMA optimize"))
            incremental = (await uow.session.execute(text("PRAGMA auto_vacuum"))).scalar() == 2
        if not incremental:
            return 0
        for _ in range(MAX_VACUUM_STEPS):
            async with self.db.unit_of_work() as uow:
                free = (await uow.session.execute(text("PRAGMA freelist_count"))).scalar() or 0
                if not free:
                    break
                # Nothing else may run in this unit of work: see _incremental_vacuum.
                await _incremental_vacuum(uow, min(free, VACUUM_PAGES))
                left = (await uow.session.execute(text("PRAGMA freelist_count"))).scalar() or 0
            freed += free - left
            if left >= free:
                break  # nothing moved (another connection's reader may pin the pages)
        return freed


async def _incremental_vacuum(uow, pages: int) -> None:
    """Free up to ``pages`` pages, while this unit of work holds the write gate.

    SQLite frees one page per step of the pragma, and the sqlite3 module steps a
    statement without result columns once (``fetchall`` steps it no further), so through
    ``execute`` it frees one page. ``executescript`` runs each statement to its end; it
    first commits the unit of work's transaction (empty: nothing was written in it), and
    the pragma then takes the write lock on its own for its one statement."""
    connection = await uow.session.connection()
    raw = await connection.get_raw_connection()
    await raw.driver_connection.executescript(f"PRAGMA incremental_vacuum({int(pages)})")


def _old_outbox(cutoff: datetime, batch: int):
    """A batch of finished outbox rows older than ``cutoff`` that nothing reads again."""
    covering = exists().where(PromiseRow.cover_outbox_id == OutboxRow.id)
    old = (select(OutboxRow.id)
           # (status, due_at) is ix_outbox_due; a row is sent at or after it is due.
           .where(OutboxRow.status.in_(PRUNABLE), OutboxRow.due_at < cutoff,
                  func.coalesce(OutboxRow.sent_at, OutboxRow.created_at) < cutoff,
                  ~covering)
           .limit(batch))
    return delete(OutboxRow).where(OutboxRow.id.in_(old.scalar_subquery()))


def _old_events(cutoff: datetime, batch: int):
    """A batch of processed event ids received before ``cutoff``."""
    old = select(ProcessedEventRow.id).where(ProcessedEventRow.received_at < cutoff).limit(batch)
    return delete(ProcessedEventRow).where(ProcessedEventRow.id.in_(old.scalar_subquery()))
