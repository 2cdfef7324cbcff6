"""Covers prepared ahead: when a promise will fall due within the next few seconds, the
sweeper works out its cover before the moment comes, so at the due time only a fenced
commit and the sends are left.

Promises often fall due together (everything promised "by opening time" lapses at
9:00), and covering is the slow part: reading the ticket and people, wording the
update, working out the next time. A promise due within ``ahead`` is claimed with a
lease as usual, and its cover is worked out by the same code that covers it at the due
time (``LapseCover``, told the due time as "now"), in a read-only unit of work. Its rows
are kept in memory, not written, already turned into the database driver's values
(``bot.storage.batch.bind_row``). At the due time one transaction marks the promise
missed, fenced by the claim token exactly like an ordinary cover, and writes the rows.

What keeps this honest:

* A promise kept, cancelled or re-claimed meanwhile fails the fence: nothing is sent.
* A ticket whose status, owner or priority changed meanwhile is covered afresh at the
  due time; so is a cover committed more than ``FRESH_FOR`` after its due time (its
  wording would not own the lateness).
* A cover that would change anything besides adding rows (closing a ticket, cancelling
  other promises) is not prepared: it is covered at the due time as always. Likewise a
  second promise of a ticket that already has one prepared.
* A process that stops hands its claims back; one that dies leaves leases that expire,
  and the promises are then covered the ordinary way.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from contextlib import contextmanager
from datetime import datetime
from typing import Iterator

from sqlalchemy import or_, select, text, tuple_, update

from bot.domain.promises import PromiseStatus
from bot.ledger.notices import queue_notices
from bot.ledger.cover_ahead import (
    Claimed, Prepared, changed_tickets, is_fresh, owner_of, work_out_covers,
)
from bot.storage.batch import new_ids, write_bound, write_new_rows
from bot.storage.tables import OutboxRow, PromiseRow
from bot.storage.uow import UnitOfWork

__all__ = ["COMMIT_CHUNK", "Claimed", "Prepared", "PreparesAhead"]

logger = logging.getLogger(__name__)

# Prepared covers committed per transaction on SQLite: their work is done, so a commit
# is a few statements whatever its size, and each commit costs fixed work besides (its
# statements, the dispatcher's sends and records in between). Measured at 100,000 open
# / 10,000 due: p99 lateness 3.0 s with 500 a commit, 2.7 s with 1,000, 2.1 s with
# 2,500, 2.0 s with 5,000. 5,000 holds SQLite's one write lock about 0.7 s, which is
# how long a new ticket may wait in the middle of such a burst.
COMMIT_CHUNK = 5000
# PostgreSQL has no single writer: chunks commit side by side on their own connections,
# so the server's work on one overlaps ours on the next.
COMMIT_CHUNK_SHARED, COMMIT_LANES = 1000, 3
# A burst of at least this many covers is committed with the cyclic GC paused.
PAUSE_COLLECTOR_AT = 1000
PENDING, SENDING = PromiseStatus.PENDING.value, PromiseStatus.SENDING.value
_outbox = OutboxRow.__table__


@contextmanager
def collector_paused(pause: bool) -> Iterator[None]:
    """Pause Python's cyclic garbage collector inside the block, when ``pause`` and it
    was running."""
    paused = pause and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


class PreparesAhead:
    """The sweeper's side of preparing covers ahead (mixed into ``PromiseSweeper``, whose
    claim, fence, load and batch cover it reuses)."""

    async def prepare(self) -> int:
        """Claim up to a batch of promises due within ``prepare_ahead`` and work out their
        covers; returns how many were claimed. A promise whose owner is still to be warned
        waits for its warning first."""
        now, token = self.db.clock.now(), uuid.uuid4().hex
        horizon = now + self.prepare_ahead
        async with self.db.unit_of_work() as uow:
            ids = [promise_id for promise_id, _ in await self._claim_where(
                uow, now, token, self.batch_size, PromiseRow.status == PENDING,
                PromiseRow.due_at > now, PromiseRow.due_at <= horizon,
                or_(PromiseRow.warn_at.is_(None), PromiseRow.warned_at.is_not(None),
                    PromiseRow.warn_at <= now),
                lease_until=horizon + self.lease)]
        if not ids:
            return 0
        async with self.db.reading() as uow:
            rows = (await uow.session.execute(
                select(PromiseRow).where(PromiseRow.id.in_(ids)))).scalars().all()
            try:
                loaded = await self._load(uow, rows)
                entries = await work_out_covers(uow, self.desk, rows, token,
                                                self._prepared_tickets)
                del loaded
            except Exception:
                logger.exception("preparing %d covers failed; they are covered at their "
                                 "due time instead", len(rows))
                entries = [Prepared(r.id, token, r.ticket_id, r.due_at) for r in rows]
        self._prepared.update((e.id, e) for e in entries)
        return len(ids)

    async def commit_prepared(self) -> int:
        """Commit every prepared cover whose promise is now due; returns how many were
        covered (those worked out afresh included)."""
        now = self.db.clock.now()
        # By owner within a due time, so each owner's reminders share a chunk (and so a
        # message, bot/ledger/notices.py) rather than one message per chunk.
        due = sorted((e for e in self._prepared.values() if e.due_at <= now),
                     key=lambda e: (e.due_at, owner_of(e), e.id))
        for entry in due:
            del self._prepared[entry.id]
            self._prepared_tickets.discard(entry.ticket_id)
        size, lanes = COMMIT_CHUNK, 1
        if self.db.engine.dialect.name != "sqlite":
            size, lanes = COMMIT_CHUNK_SHARED, COMMIT_LANES
        chunks = [due[start:start + size] for start in range(0, len(due), size)]
        lane = asyncio.Semaphore(lanes)  # one on SQLite: its chunks commit in turn

        async def commit(chunk: list[Prepared]) -> int:
            async with lane:
                return await self._commit_chunk(chunk)

        # A full garbage collection walks every object the process holds (a few hundred
        # ms in a large desk); reference counting frees the burst's garbage meanwhile,
        # and the collector runs again as soon as the burst is committed.
        with collector_paused(len(due) >= PAUSE_COLLECTOR_AT):
            return sum(await asyncio.gather(*(commit(chunk) for chunk in chunks)))

    async def _commit_chunk(self, chunk: list[Prepared]) -> int:
        now = self.db.clock.now()
        ready = [e for e in chunk if is_fresh(e, now)]
        live = [e for e in chunk if not is_fresh(e, now)]
        covered = 0
        if ready:
            try:
                done, stale = await self._write_prepared(ready)
                covered += done
                live += stale
            except Exception:
                logger.exception("committing %d prepared covers failed; covering them "
                                 "afresh", len(ready))
                live += ready
        by_token: dict[str, list] = {}
        for e in live:
            by_token.setdefault(e.token, []).append(Claimed(e.id, e.token, e.ticket_id))
        for claims in by_token.values():
            covered += await self.cover_batch(sorted(claims))
        return covered

    async def _write_prepared(self, ready: list[Prepared]) -> tuple[int, list[Prepared]]:
        """One transaction: fence, write the rows; returns (covered, stale entries)."""
        async with self.db.unit_of_work() as uow:
            stale = await changed_tickets(uow, ready)
            now = self.db.clock.now()
            candidates = [e for e in ready if e.ticket_id not in stale]
            # The updates' ids are taken first, so the fence itself links each promise to
            # its update: a second UPDATE of the same rows costs PostgreSQL a new row
            # version and its foreign-key checks again. Ids of promises the fence leaves
            # out are simply never used.
            with_update = [e for e in candidates if e.update is not None]
            cover_ids = dict(zip((e.id for e in with_update),
                                 await new_ids(uow.session, _outbox, len(with_update))))
            fenced = await self._fence_linked(uow, now, candidates, cover_ids)
            entries = [e for e in candidates if e.id in fenced]
            # Requesters' updates first: in a burst they are not queued behind the rest.
            updates = [e for e in entries if e.update is not None]
            posts = [post for e in entries for post in e.posts]
            await uow.outbox.write_bound([e.update for e in updates] + posts,
                                         ids=[cover_ids[e.id] for e in updates])
            await write_bound(uow.session, [row for e in entries for row in e.rows])
            queue_notices(uow, [n for e in entries for n in e.notices or ()], now)
            await self._queue_cards(uow, [e.card for e in entries], now)
            await write_new_rows(uow.session, OutboxRow)
        return len(entries), [e for e in ready if e.ticket_id in stale]

    async def _fence_linked(self, uow: UnitOfWork, now: datetime, entries: list[Prepared],
                            cover_ids: dict[int, int]) -> set[int]:
        """Fence ``entries`` by their claim tokens, pointing each at its update's id;
        returns the ids of the promises fenced."""
        if not entries:
            return set()
        if self.db.engine.dialect.name == "postgresql":
            # One statement for the whole chunk, its values as arrays.
            result = await uow.session.execute(text(
                "UPDATE promises SET status = 'missed', resolution = 'bot', resolved_at = :now,"
                " claim_token = NULL, lease_until = NULL, cover_outbox_id = v.cover"
                " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:tokens AS VARCHAR[]),"
                " CAST(:covers AS BIGINT[])) AS v(id, token, cover)"
                " WHERE promises.id = v.id AND promises.claim_token = v.token"
                " AND promises.status = 'sending' RETURNING promises.id"),
                {"now": now, "ids": [e.id for e in entries],
                 "tokens": [e.token for e in entries],
                 "covers": [cover_ids.get(e.id) for e in entries]})
            return set(result.scalars())
        # One statement for the chunk, whatever claims its covers came from: each
        # promise by its own claim token (the id IN lets SQLite use the primary key).
        fence = self._fence(now, PromiseRow.id).where(
            PromiseRow.id.in_([e.id for e in entries]),
            tuple_(PromiseRow.id, PromiseRow.claim_token).in_([(e.id, e.token) for e in entries]))
        fenced = set((await uow.session.execute(fence)).scalars())
        # SQLite: a CASE of a thousand ids in the fence costs more than linking after.
        await self._link_covers(uow, [(promise_id, cover_ids.get(promise_id))
                                      for promise_id in fenced])
        return fenced

    async def release_prepared(self) -> int:
        """Hand back the claims of covers not yet committed (when stopping), so another
        process covers them on time; returns how many."""
        entries, self._prepared = list(self._prepared.values()), {}
        self._prepared_tickets.clear()
        released = 0
        async with self.db.unit_of_work() as uow:
            for token in {e.token for e in entries}:
                result = await uow.session.execute(
                    update(PromiseRow).where(
                        PromiseRow.id.in_([e.id for e in entries if e.token == token]),
                        PromiseRow.status == SENDING, PromiseRow.claim_token == token)
                    # The claim counted an attempt; handing it back undoes that.
                    .values(status=PENDING, claim_token=None, lease_until=None,
                            attempts=PromiseRow.attempts - 1))
                released += result.rowcount or 0
        return released
