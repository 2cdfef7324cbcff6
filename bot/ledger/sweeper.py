"""The ledger sweeper: no promise passes silently.

Due promises are claimed with a lease in one statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite). A claimed batch is then covered *as a set*
in one transaction: one UPDATE marks them missed, fenced by the claim token (if another
worker re-claimed one after our lease expired, or a person kept it meanwhile, the fence
leaves it out), three IN-queries load their tickets, workspaces and people, the updates,
reminders and next promises are worked out in memory and written with multi-row
INSERTs. If anything in a batch fails, the batch rolls back and each promise is covered
on its own, so one bad promise cannot hold up the others. A worker killed after
claiming leaves a lease that expires and the promise is claimed again, so every lapse is
covered exactly once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import bindparam, select, update

from bot.desk.policy import Desk
from bot.domain.promises import PromiseStatus
from bot.desk.cards import queue_card_in
from bot.ledger.lapses import LapseCover
from bot.ledger.notices import queue_notices
from bot.ledger.warnings import warn_before_breach
from bot.ledger import prepared as ahead
from bot.ledger.prepared import Claimed
from bot.storage.due import Due, what_is_due
from bot.storage.promise_repository import promise_from_row
from bot.storage.batch import claimable, write_new_rows
from bot.storage.tables import (
    OutboxRow, PersonRow, PromiseRow, TicketEventRow, TicketRow, WorkspaceRow,
)
from bot.storage.uow import Database, UnitOfWork

logger = logging.getLogger(__name__)

_PENDING, _SENDING = PromiseStatus.PENDING.value, PromiseStatus.SENDING.value
_promises = PromiseRow.__table__
MAX_COVER_ATTEMPTS = 5


class PromiseSweeper(ahead.PreparesAhead):
    """Finds promises that fell due unkept and has the bot cover each one."""

    def __init__(self, db: Database, desk: Desk, *, batch_size: int = 200,
                 lease: timedelta = timedelta(seconds=60),
                 prepare_ahead: timedelta = timedelta(0)) -> None:
        self.db = db
        self.desk = desk
        self.batch_size = batch_size
        self.lease = lease
        # Covers of promises due within this are worked out before their time
        # (bot/ledger/prepared.py); zero turns that off.
        self.prepare_ahead = prepare_ahead
        self._prepared: dict[int, ahead.Prepared] = {}
        self._prepared_tickets: set[int] = set()

    @property
    def next_prepared_at(self):
        """When the earliest cover prepared ahead falls due (None: there is none)."""
        return min((e.due_at for e in self._prepared.values()), default=None)

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

    async def _claim_where(self, uow: UnitOfWork, now, token: str, limit: int,
                           *conditions, lease_until=None) -> list[tuple[int, int]]:
        picked = claimable(self.db.engine.dialect.name, PromiseRow, *conditions,
                           order_by=(PromiseRow.due_at,), limit=limit)
        statement = (update(PromiseRow).where(picked)
                     .values(status=_SENDING, claim_token=token,
                             lease_until=lease_until or now + self.lease,
                             attempts=PromiseRow.attempts + 1)
                     .returning(PromiseRow.id, PromiseRow.ticket_id))
        return [tuple(row) for row in (await uow.session.execute(statement)).all()]

    async def cover_batch(self, claimed: list[Claimed]) -> int:
        """Cover a claimed batch: together in one transaction, and one by one if that
        fails. A ticket with several promises in the batch has all but its first covered
        on their own afterwards, so each cover sees what the one before it did."""
        together, alone, seen = [], [], set()
        for claim in claimed:
            (alone if claim.ticket_id in seen else together).append(claim)
            seen.add(claim.ticket_id)
        covered = 0
        if together:
            try:
                covered += await self._cover_set(together)
            except Exception:
                logger.exception("covering %d promises together failed; covering them one "
                                 "by one", len(together))
                alone = together + alone
        for claim in alone:
            covered += await self.cover(claim.id, claim.token)
        return covered

    async def _cover_set(self, claimed: list[Claimed]) -> int:
        token = claimed[0].token
        async with self.db.unit_of_work() as uow:
            now = self.db.clock.now()
            first = (await uow.session.execute(self._fence(now).where(
                PromiseRow.id.in_([c.id for c in claimed]), PromiseRow.claim_token == token))
            ).scalars().all()
            loaded = await self._load(uow, first)
            covers, notices = [], []
            with uow.session.no_autoflush:
                for row in first:
                    cover = LapseCover(uow, self.desk, promise_from_row(row), now, card=False,
                                       notices=notices)
                    covers.append((row, await cover.run(), cover))
            queue_notices(uow, notices, now)  # one reminder per owner for the batch
            # Every row the covers queued, a few statements in all.
            await write_new_rows(uow.session, OutboxRow, PromiseRow, TicketEventRow)
            await self._link_covers(uow, [(row.id, out.id if out is not None else None)
                                          for row, out, _ in covers])
            await self._queue_cards(uow, [(cover.workspace, cover.policy, cover.ticket)
                                          for _, _, cover in covers], now)
            await write_new_rows(uow.session, OutboxRow)
            del loaded
        return len(first)

    async def _link_covers(self, uow: UnitOfWork, covered: list) -> None:
        """Point each covered promise at the update that covered it, one ``executemany``;
        ``covered`` is (promise id, id of the requester-facing outbox row or None) pairs."""
        links = [{"_id": promise_id, "cover": cover_id} for promise_id, cover_id in covered
                 if cover_id is not None]
        if links:
            await uow.session.execute(
                update(_promises).where(_promises.c.id == bindparam("_id"))
                .values(cover_outbox_id=bindparam("cover")), links)

    def _fence(self, now, returning=PromiseRow):
        """Mark claimed promises missed, covered by the bot; the caller adds which ones
        and the claim token, so a promise kept or re-claimed meanwhile is left out.
        Returns the rows (or just ``returning``, say their ids)."""
        return (update(PromiseRow).where(PromiseRow.status == _SENDING)
                .values(status=PromiseStatus.MISSED.value, resolution="bot", resolved_at=now,
                        claim_token=None, lease_until=None)
                .returning(returning))

    async def _load(self, uow: UnitOfWork, rows: list[PromiseRow]) -> list:
        """Load the batch's tickets, workspaces and people into the session's identity
        map (three queries), so the covers' lookups need none. The returned list keeps
        them referenced: the identity map alone would let them go."""
        tickets = (await uow.session.execute(select(TicketRow).where(
            TicketRow.id.in_({r.ticket_id for r in rows})))).scalars().all()
        workspaces = (await uow.session.execute(select(WorkspaceRow).where(
            WorkspaceRow.id.in_({t.workspace_id for t in tickets})))).scalars().all()
        people_ids = ({t.requester_id for t in tickets} | {t.owner_id for t in tickets}
                      | {r.owner_id for r in rows}) - {None}
        people = (await uow.session.execute(select(PersonRow).where(
            PersonRow.id.in_(people_ids)))).scalars().all()
        return [*tickets, *workspaces, *people]

    async def _queue_cards(self, uow: UnitOfWork, covered: list, now) -> None:
        """The triage cards of the covered tickets, ``covered`` being (workspace, policy,
        ticket) triples, for workspaces that have a triage channel (after the rows are
        written, so each card shows the ticket's new next promise)."""
        triage = await uow.workspaces.having_channel({c[0].id for c in covered}, "triage")
        for workspace, policy, ticket in covered:
            if workspace.id in triage:
                await queue_card_in(uow, workspace, policy, now, ticket)

    async def cover(self, promise_id: int, token: str) -> int:
        """Cover one claimed promise; returns 1 if this worker covered it."""
        try:
            async with self.db.unit_of_work() as uow:
                now = self.db.clock.now()
                fenced = await uow.session.execute(self._fence(now).where(
                    PromiseRow.id == promise_id, PromiseRow.claim_token == token))
                row = fenced.scalar_one_or_none()
                if row is None:
                    logger.info("promise %d was kept or re-claimed meanwhile; skipping", promise_id)
                    return 0
                cover = await LapseCover(uow, self.desk, promise_from_row(row), now).run()
                if cover is not None:
                    await uow.session.flush()
                    await uow.session.execute(update(PromiseRow).where(PromiseRow.id == promise_id)
                                              .values(cover_outbox_id=cover.id))
            return 1
        except Exception:
            logger.exception("covering promise %d failed", promise_id)
            await self._give_up_if_exhausted(promise_id, token)
            return 0

    async def _give_up_if_exhausted(self, promise_id: int, token: str) -> None:
        """After ``MAX_COVER_ATTEMPTS`` failures stop retrying (a bug, not a lapse, is
        at work) and record it as failed, visible in the report as undelivered."""
        async with self.db.unit_of_work() as uow:
            result = await uow.session.execute(
                update(PromiseRow).where(PromiseRow.id == promise_id,
                                         PromiseRow.claim_token == token,
                                         PromiseRow.attempts >= MAX_COVER_ATTEMPTS)
                .values(status=PromiseStatus.MISSED.value, resolution="failed",
                        resolved_at=self.db.clock.now(), claim_token=None, lease_until=None))
        if result.rowcount:
            logger.error("gave up covering promise %d after %d attempts", promise_id,
                         MAX_COVER_ATTEMPTS)
        # Otherwise the lease expires and a later sweep tries again.

    async def warn(self) -> int:
        """Warn owners of promises that reached their warning time; each warning once."""
        now = self.db.clock.now()
        picked = claimable(self.db.engine.dialect.name, PromiseRow,
                           PromiseRow.status == _PENDING, PromiseRow.warned_at.is_(None),
                           PromiseRow.warn_at <= now, PromiseRow.due_at > now,
                           order_by=(PromiseRow.warn_at,), limit=self.batch_size)
        async with self.db.unit_of_work() as uow:
            rows = (await uow.session.execute(
                update(PromiseRow).where(picked)
                .values(warned_at=now).returning(PromiseRow))).scalars().all()
            loaded = await self._load(uow, rows) if rows else []
            notices: list = []  # one heads-up per owner for the batch, not one per promise
            with uow.session.no_autoflush:
                for row in rows:
                    await warn_before_breach(uow, self.desk, promise_from_row(row), now, notices)
            queue_notices(uow, notices, now)
            await write_new_rows(uow.session, OutboxRow)
            del loaded
        return len(rows)
