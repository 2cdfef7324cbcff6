"""The ledger sweeper: no promise passes silently.

Due promises are claimed with a lease in one statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite). A claimed batch is covered as a set in one
transaction: one UPDATE marks them missed, fenced by the claim token (a promise another
worker re-claimed after our lease expired, or one a person kept meanwhile, is left
out); their inputs are loaded with a few IN-queries; the pure planner works out each
cover (bot/ledger/plans.py); and the plans are written together (bot/ledger/sets.py).
If anything in a batch fails, the batch rolls back and each promise is covered on its
own, so one bad promise cannot hold up the others. A worker killed after claiming
leaves a lease that expires and the promise is claimed again, so every lapse is
covered exactly once.

**Covers prepared ahead.** Covering is the slow part of a burst (everything promised
"by opening time" lapses at 9:00 together), so a promise due within ``prepare_ahead``
is claimed early, with a lease running past its due time, and planned by the same
planner with its due time as "now". At the due time one transaction per chunk
checks that each ticket is as the plan assumed, fences the promises and applies the
plans: the same fence and the same writes as an ordinary cover, with the planning
already done. A plan whose ticket changed meanwhile, or that would be committed more
than ``FRESH_FOR`` after its due time (its wording would not own the lateness), is
covered afresh; a promise kept, cancelled or re-claimed meanwhile fails the fence and
nothing is said. Stopping hands the claims back; a process that dies leaves leases
that expire, and the promises are covered the ordinary way.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import or_, select, update

from bot.desk.policy import Desk
from bot.domain.promises import Promise, PromiseKind, PromiseStatus
from bot.domain.tickets import Ticket
from bot.ledger.digest import post_digests
from bot.ledger.incident_covers import cover_incidents
from bot.ledger.plans import CoverPlan, plan_cover
from bot.ledger.sets import (
    PlanRows, apply_plans, apply_warnings, load_inputs, rows_of, write_rows,
)
from bot.desk.cards import queue_cards
from bot.ledger.warnings import plan_warning
from bot.metrics import Metrics
from bot.logs import bound
from bot.storage.batch import among, claimable
from bot.storage.due import Due, what_is_due
from bot.storage.engine import RECONNECT_PAUSES, lost_connection
from bot.storage.promise_repository import promise_from_row
from bot.storage.tables import PromiseRow, TicketRow
from bot.storage.uow import Database, UnitOfWork

logger = logging.getLogger(__name__)

_PENDING, _SENDING = PromiseStatus.PENDING.value, PromiseStatus.SENDING.value
_promises = PromiseRow.__table__
MAX_COVER_ATTEMPTS = 5
# A cover prepared ahead and committed later than this after its due time is worked
# out afresh (its wording would not own the lateness).
FRESH_FOR = timedelta(seconds=30)
# Prepared covers committed per transaction on SQLite. Nothing of a chunk is sent
# before it commits, and between chunks the dispatcher's sends and records take their
# turn at the one write lock, so for the last requester of a burst fewer, bigger
# commits are sooner: at 30,000 open / 10,000 due, p99 lateness was 2.35 s with 2,500
# a commit, 2.27 s with 5,000 and 1.72 s with 10,000 (docs/performance.md). The price
# is the lock: a ticket opened in the middle of a 10,000-cover commit waits for it
# (about 1.5 s).
COMMIT_CHUNK = 10000
# PostgreSQL has no single writer, and most of a commit's time there is the server's
# (index and foreign-key work on every row): chunks commit side by side on their own
# connections, so the server works on one while this process builds the next. At
# 30,000 open / 10,000 due: 1,000 x 3 lanes 2.96 s, 2,500 x 2 2.44 s, 5,000 x 2 2.54 s,
# 10,000 x 1 3.34 s (p99 lateness).
COMMIT_CHUNK_SHARED, COMMIT_LANES = 2500, 2


class Claimed(NamedTuple):
    """A promise this worker holds under a lease."""

    id: int
    token: str
    ticket_id: int


@dataclass(frozen=True)
class Prepared:
    """A promise claimed ahead of its due time and, when it could be planned ahead
    (the first of its ticket's promises in the window), the plan for its cover."""

    claim: Claimed
    due_at: datetime
    rows: PlanRows | None = None

    def is_fresh(self, now: datetime) -> bool:
        """Whether the plan's wording still holds at ``now``."""
        return self.rows is not None and now - self.due_at <= FRESH_FOR

    @property
    def owner(self) -> int:
        """Whose reminder the cover carries (0: none), to keep an owner's covers in one
        commit, and so in one gathered message."""
        notices = self.rows.plan.notices if self.rows else ()
        return notices[0].person.id if notices else 0


def _ticket_state(ticket: Ticket) -> tuple:
    """What a prepared plan depends on besides the promise itself."""
    return (ticket.status.value, ticket.owner_id, ticket.priority.value)


class PromiseSweeper:
    """Finds promises that fell due unkept and has the bot cover each one."""

    def __init__(self, db: Database, desk: Desk, *, batch_size: int = 200,
                 lease: timedelta = timedelta(seconds=60),
                 prepare_ahead: timedelta = timedelta(0),
                 metrics: Metrics | None = None) -> None:
        self.db = db
        self.desk = desk
        self.metrics = metrics or Metrics()
        self.batch_size = batch_size
        self.lease = lease
        # Covers of promises due within this are planned before their time; zero turns
        # that off.
        self.prepare_ahead = prepare_ahead
        self._prepared: dict[int, Prepared] = {}
        self._dialect = db.engine.dialect.name

    @property
    def next_prepared_at(self) -> datetime | None:
        """When the earliest cover prepared ahead falls due (None: there is none)."""
        return min((entry.due_at for entry in self._prepared.values()), default=None)

    async def sweep(self, due: Due | None = None) -> int:
        """Warn before breaches, cover every due promise, and prepare the covers of
        promises due soon; returns how many were covered. ``due`` is what a tick's probe
        already found (else we probe here)."""
        if due is None:
            due = await what_is_due(self.db, outbox=False, ahead=self.prepare_ahead)
        covered = await self.commit_prepared()
        if not due.ledger_work:
            return covered
        if due.warnings:
            await self.warn()
        if due.promises or due.promise_leases or due.warnings:
            while claimed := await self.claim():
                covered += await self.cover_batch(claimed)
                covered += await self.commit_prepared()
        if due.promises_soon and self.prepare_ahead > timedelta(0):
            while await self.prepare():
                covered += await self.commit_prepared()
        return covered + await self.commit_prepared()

    # -- claiming and covering ------------------------------------------------------

    async def claim(self) -> list[Claimed]:
        """Claim up to ``batch_size`` due promises (or ones whose lease expired)."""
        now, token = self.db.clock.now(), uuid.uuid4().hex
        async with self.db.unit_of_work() as uow:
            # Two statements rather than one OR: each is an ordered index range scan that
            # stops at its LIMIT (see docs/performance.md on dead index entries).
            ids = await self._claim_where(uow, now, token, self.batch_size,
                                          PromiseRow.status == _PENDING, PromiseRow.due_at <= now)
            if len(ids) < self.batch_size:
                ids += await self._claim_where(uow, now, token, self.batch_size - len(ids),
                                               PromiseRow.status == _SENDING,
                                               PromiseRow.lease_until < now)
        return sorted(Claimed(promise_id, token, ticket_id) for promise_id, ticket_id in ids)

    async def _claim_where(self, uow: UnitOfWork, now: datetime, token: str, limit: int,
                           *conditions, lease_until: datetime | None = None
                           ) -> list[tuple[int, int]]:
        picked = claimable(self._dialect, PromiseRow, *conditions,
                           order_by=(PromiseRow.due_at,), limit=limit)
        statement = (update(PromiseRow).where(picked)
                     .values(status=_SENDING, claim_token=token,
                             lease_until=lease_until or now + self.lease,
                             attempts=PromiseRow.attempts + 1)
                     .returning(PromiseRow.id, PromiseRow.ticket_id))
        return [tuple(row) for row in (await uow.session.execute(statement)).all()]

    async def cover_batch(self, claimed: list[Claimed]) -> int:
        """Cover claimed promises together in one transaction, and one by one if that
        fails; returns how many this worker covered. A promise covered alone has its ids
        on every log line meanwhile."""
        if len(claimed) == 1:
            with bound(promise=claimed[0].id, ticket=claimed[0].ticket_id):
                return await self._cover_claimed(claimed)
        return await self._cover_claimed(claimed)

    async def _cover_claimed(self, claimed: list[Claimed]) -> int:
        if not claimed:
            return 0
        try:
            for pause in (*RECONNECT_PAUSES, None):
                try:
                    return await self._cover_once(claimed)
                except Exception as error:
                    # A lost connection (a PostgreSQL restart) is no fault of these
                    # promises: cover the same batch again, still ours under its claim,
                    # once the database is back, rather than spend an attempt of each
                    # one by one, or wait out the lease and cover them late.
                    if pause is None or not lost_connection(error):
                        raise
                    logger.warning("the database connection was lost covering %d "
                                   "promise(s); trying again in %.1f s", len(claimed), pause)
                    await asyncio.sleep(pause)
        except Exception as error:
            if lost_connection(error):
                logger.error("the database stayed away; %d claimed promise(s) are left to "
                             "their leases", len(claimed))
                return 0
            if len(claimed) == 1:
                logger.exception("covering promise %d failed", claimed[0].id)
                await self._give_up_if_exhausted(claimed[0])
                return 0
            logger.exception("covering %d promises together failed; covering them one by "
                             "one", len(claimed))
        return sum([await self.cover_batch([claim]) for claim in claimed])

    async def _cover_once(self, claimed: list[Claimed]) -> int:
        async with self.db.unit_of_work() as uow:
            now = self.db.clock.now()
            fenced = await self._fence(uow, now, claimed)
            plans = await self._cover(uow, fenced, now)
        self._count(plans)  # committed: they lapsed, and the updates are on their way
        return len(fenced)

    async def _fence(self, uow: UnitOfWork, now: datetime,
                     claimed: list[Claimed]) -> list[Promise]:
        """Mark claimed promises missed, covered by the bot, each only while it is still
        ours under its claim token (a promise kept or re-claimed meanwhile is left out);
        returns the promises fenced, in the order claimed."""
        ids = await uow.promises.fence([(c.id, c.token) for c in claimed], now)
        if len(ids) < len(claimed):
            logger.info("%d claimed promise(s) were kept or re-claimed meanwhile; skipping",
                        len(claimed) - len(ids))
        fenced = await uow.promises.many(ids)
        return [fenced[c.id] for c in claimed if c.id in fenced]

    def _count(self, plans: list[CoverPlan]) -> None:
        """Count committed covers: each a lapse, and kept by the bot when its plan
        told the requester (an empty plan owed nothing any more and said nothing)."""
        self.metrics.lapsed([p.promise.kind.value for p in plans],
                            covered=[p.promise.kind.value for p in plans
                                     if p.update is not None])

    async def _cover(self, uow: UnitOfWork, promises: list[Promise],
                     now: datetime) -> list[CoverPlan]:
        """Plan and apply the covers of fenced ``promises``; returns the plans. A ticket
        with several in the batch has them covered in turn, each planned after the one
        before it is written, so each sees what the last did (a close, a cancelled
        update)."""
        # An incident's promise is covered once for all its requesters (its own plan).
        incident = [p for p in promises if p.incident_id is not None]
        if incident:
            await cover_incidents(uow, self.desk, incident, now)
        promises = [p for p in promises if p.incident_id is None]
        # A team's weekly digest is posted, not covered: it has no ticket (its own plan).
        digests = [p for p in promises if p.kind is PromiseKind.WEEKLY_DIGEST]
        if digests:
            await post_digests(uow, self.desk, digests, now)
            promises = [p for p in promises if p.kind is not PromiseKind.WEEKLY_DIGEST]
        rounds: list[list[Promise]] = []
        seen: dict[int, int] = {}
        for promise in promises:
            turn = seen.get(promise.ticket_id, 0)
            seen[promise.ticket_id] = turn + 1
            if turn == len(rounds):
                rounds.append([])
            rounds[turn].append(promise)
        applied: list[CoverPlan] = []
        for batch in rounds:
            inputs = await load_inputs(uow, self.desk, batch, lambda _: now)
            plans = [plan_cover(item) for item in inputs]
            await apply_plans(uow, plans, now)
            applied += plans
        return applied

    async def _give_up_if_exhausted(self, claim: Claimed) -> None:
        """After ``MAX_COVER_ATTEMPTS`` failures stop retrying (a bug, not a lapse, is
        at work) and record it as failed, visible in the report as undelivered."""
        async with self.db.unit_of_work() as uow:
            result = await uow.session.execute(
                update(PromiseRow).where(PromiseRow.id == claim.id,
                                         PromiseRow.claim_token == claim.token,
                                         PromiseRow.attempts >= MAX_COVER_ATTEMPTS)
                .values(status=PromiseStatus.MISSED.value, resolution="failed",
                        resolved_at=self.db.clock.now(), claim_token=None, lease_until=None))
        if result.rowcount:
            logger.error("gave up covering promise %d after %d attempts", claim.id,
                         MAX_COVER_ATTEMPTS)
        # Otherwise the lease expires and a later sweep tries again.

    # -- warnings before a breach ---------------------------------------------------

    async def warn(self) -> int:
        """Warn owners of promises that reached their warning time; each warning once,
        and one message per owner for the sweep."""
        now = self.db.clock.now()
        picked = claimable(self._dialect, PromiseRow,
                           PromiseRow.status == _PENDING, PromiseRow.warned_at.is_(None),
                           PromiseRow.warn_at <= now, PromiseRow.due_at > now,
                           order_by=(PromiseRow.warn_at,), limit=self.batch_size)
        async with self.db.unit_of_work() as uow:
            rows = (await uow.session.execute(
                update(_promises).where(picked).values(warned_at=now).returning(*_promises.c)
            )).all()
            if not rows:
                return 0
            inputs = await load_inputs(uow, self.desk, [promise_from_row(row) for row in rows],
                                       lambda _: now)
            plans = [(plan_warning(item), item.workspace, item.ticket.id) for item in inputs]
            await apply_warnings(uow, plans, now)
            # A report still counted on an incident's card (its requester never answered
            # "Is this what you're seeing?") whose reply is about to be late needs a
            # card of its own: nobody has picked it up.
            await queue_cards(uow, now, [(item.workspace, item.ticket) for item in inputs
                                         if item.ticket.offered_incident_id is not None])
        return len(rows)

    # -- covers prepared ahead ------------------------------------------------------

    async def prepare(self) -> int:
        """Claim up to a batch of promises due within ``prepare_ahead`` and plan their
        covers as of their due times; returns how many were claimed. A promise whose
        owner is still to be warned waits for its warning first."""
        now, token = self.db.clock.now(), uuid.uuid4().hex
        horizon = now + self.prepare_ahead
        async with self.db.unit_of_work() as uow:
            ids = [promise_id for promise_id, _ in await self._claim_where(
                uow, now, token, self.batch_size, PromiseRow.status == _PENDING,
                PromiseRow.due_at > now, PromiseRow.due_at <= horizon,
                # An incident's cover is worked out at its due time, never ahead.
                PromiseRow.ticket_id.is_not(None),
                or_(PromiseRow.warn_at.is_(None), PromiseRow.warned_at.is_not(None),
                    PromiseRow.warn_at <= now),
                lease_until=horizon + self.lease)]
        if not ids:
            return 0
        async with self.db.reading() as uow:
            found = await uow.promises.many(set(ids))
            promises = [found[promise_id] for promise_id in sorted(found)]
            # One plan per ticket in the window: a ticket's second promise is covered at
            # its due time, after the first one's plan is written.
            busy = {entry.claim.ticket_id for entry in self._prepared.values()}
            first = []
            for promise in promises:
                if promise.ticket_id not in busy:
                    busy.add(promise.ticket_id)
                    first.append(promise)
            plans: dict[int, PlanRows] = {}
            try:
                inputs = await load_inputs(uow, self.desk, first, lambda p: p.due_at)
                plans = {item.promise.id: rows_of(plan_cover(item), item.now)
                         for item in inputs}
            except Exception:
                logger.exception("preparing %d covers failed; they are covered at their "
                                 "due time instead", len(first))
        for promise in promises:
            self._prepared[promise.id] = Prepared(
                Claimed(promise.id, token, promise.ticket_id), promise.due_at,
                plans.get(promise.id))
        return len(ids)

    async def commit_prepared(self) -> int:
        """Commit every prepared cover whose promise is now due; returns how many were
        covered (those worked out afresh included)."""
        now = self.db.clock.now()
        # By owner within a due time, so each owner's reminders share a commit (and so
        # a message) rather than one message per commit.
        due = sorted((e for e in self._prepared.values() if e.due_at <= now),
                     key=lambda e: (e.due_at, e.owner, e.claim.id))
        for entry in due:
            del self._prepared[entry.claim.id]
        size, lanes = COMMIT_CHUNK, 1
        if self._dialect != "sqlite":
            size, lanes = COMMIT_CHUNK_SHARED, COMMIT_LANES
        lane = asyncio.Semaphore(lanes)

        async def commit(chunk: list[Prepared]) -> int:
            async with lane:
                return await self._commit_chunk(chunk)

        return sum(await asyncio.gather(*(commit(due[start:start + size])
                                          for start in range(0, len(due), size))))

    async def _commit_chunk(self, chunk: list[Prepared]) -> int:
        now = self.db.clock.now()
        ready = [e for e in chunk if e.is_fresh(now)]
        again = [e.claim for e in chunk if not e.is_fresh(now)]
        covered = 0
        if ready:
            try:
                async with self.db.unit_of_work() as uow:
                    now = self.db.clock.now()
                    changed = await self._changed_tickets(uow, ready)
                    again += [e.claim for e in ready if e.claim.ticket_id in changed]
                    planned = [e for e in ready if e.claim.ticket_id not in changed]
                    # The updates' ids are taken first where the database allows it, so
                    # the fence itself points each promise at its update.
                    with_update = [e.claim.id for e in planned if e.rows.update is not None]
                    covers = dict(zip(with_update,
                                      await uow.outbox.reserve_ids(len(with_update))))
                    fenced = await uow.promises.fence(
                        [(e.claim.id, e.claim.token) for e in planned], now, covers)
                    written = [e.rows for e in planned if e.claim.id in fenced]
                    await write_rows(uow, written, now,
                                     {i: c for i, c in covers.items() if i in fenced})
                self._count([rows.plan for rows in written])
                covered += len(fenced)
            except Exception:
                logger.exception("committing %d prepared covers failed; covering them "
                                 "afresh", len(ready))
                again += [e.claim for e in ready]
        for token in {claim.token for claim in again}:
            covered += await self.cover_batch(sorted(c for c in again if c.token == token))
        return covered

    async def _changed_tickets(self, uow: UnitOfWork, entries: list[Prepared]) -> set[int]:
        """Tickets whose status, owner or priority differ from what their plan assumed."""
        found = {ticket_id: (status, owner_id, priority)
                 for ticket_id, status, owner_id, priority in (await uow.session.execute(
                     select(TicketRow.id, TicketRow.status, TicketRow.owner_id,
                            TicketRow.priority)
                     .where(among(TicketRow.id, list({e.claim.ticket_id for e in entries}),
                                  self._dialect)))).all()}
        changed = {e.claim.ticket_id for e in entries
                   if found.get(e.claim.ticket_id) != _ticket_state(e.rows.plan.ticket)}
        # A plan that points the requester to an update already promised holds only
        # while that promise is still open at the same time.
        relied = {e.rows.plan.relies_on: e.claim.ticket_id for e in entries
                  if e.rows.plan.relies_on is not None}
        if relied:
            still = {(promise_id, due_at) for promise_id, due_at in (await uow.session.execute(
                select(PromiseRow.id, PromiseRow.due_at).where(
                    among(PromiseRow.id, [promise_id for promise_id, _ in relied],
                          self._dialect),
                    PromiseRow.status.in_((_PENDING, _SENDING))))).all()}
            changed |= {ticket_id for pair, ticket_id in relied.items() if pair not in still}
        return changed

    async def release_prepared(self) -> int:
        """Hand back the claims of covers not yet committed (when stopping), so another
        process covers them on time; returns how many."""
        entries, self._prepared = list(self._prepared.values()), {}
        released = 0
        async with self.db.unit_of_work() as uow:
            for token in {e.claim.token for e in entries}:
                result = await uow.session.execute(
                    update(PromiseRow).where(
                        PromiseRow.id.in_([e.claim.id for e in entries if e.claim.token == token]),
                        PromiseRow.status == _SENDING, PromiseRow.claim_token == token)
                    # The claim counted an attempt; handing it back undoes that.
                    .values(status=_PENDING, claim_token=None, lease_until=None,
                            attempts=PromiseRow.attempts - 1))
                released += result.rowcount or 0
        return released


__all__ = ["Claimed", "Prepared", "PromiseSweeper"]
