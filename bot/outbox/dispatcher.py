"""The outbox dispatcher: reliable, idempotent delivery of what handlers queued.

Rows are claimed with a lease in one statement, so several processes can share the
outbox without sending a row twice; outcomes are written fenced by the claim token, so a
process whose lease expired cannot overwrite the row another process now owns.

The loop is: claim a batch, send it (channels concurrently), then in *one* transaction
write every outcome of that batch and claim the next. In a steady stream that is one
write transaction per batch rather than two or three per message, which matters most on
SQLite's single writer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import TextClause, bindparam, text, update

from bot.core import ChatAdapter, OutboundMessage
from bot.outbox.card_delivery import RenderCards
from bot.outbox.delivery import ClaimedRow, OnDead, Outcome, RetryPolicy, RowSender
from bot.outbox.handoff import Handoff
from bot.metrics import Metrics
from bot.storage.due import what_is_due
from bot.storage.batch import array_type, claimable
from bot.storage.tables import OutboxRow
from bot.storage.uow import Database, UnitOfWork

__all__ = ["ClaimedRow", "OutboxDispatcher", "Outcome", "RetryPolicy"]

logger = logging.getLogger(__name__)
_outbox = OutboxRow.__table__


class OutboxDispatcher:
    """Delivers due outbox rows through the adapters registered for their platforms."""

    def __init__(self, db: Database, adapters: dict[str, ChatAdapter], *, batch_size: int = 100,
                 lease: timedelta = timedelta(seconds=60), retry: RetryPolicy = RetryPolicy(),
                 on_dead: OnDead | None = None, concurrency: int = 8,
                 render_cards: RenderCards | None = None,
                 metrics: Metrics | None = None) -> None:
        self.db = db
        self.adapters = adapters
        self.batch_size = batch_size
        self.lease = lease
        self.sender = RowSender(db, adapters, retry, on_dead, concurrency,
                                render_cards=render_cards, metrics=metrics or Metrics())
        self.pacer = self.sender.pacer
        self._wake = asyncio.Event()
        self._stopping = False
        self._leases_expired = self._claim_wanted = False
        self._held: set[str] = set()  # platforms whose rows another instance sends
        self.handoff = Handoff(set(adapters), lease, lambda: db.clock.now(), self._wake.set)

    # The unit of work's OutboxSink (bot/storage/uow.py), connected by the composition
    # root: rows written for now are handed over in memory, others wake a claim.

    def preclaim(self, platform: str, kind: str,
                 due_at: datetime | None) -> tuple[str, datetime] | None:
        """The claim to write on a new row for this dispatcher, or None (see Handoff)."""
        return self.handoff.preclaim(platform, kind, due_at)

    def accept(self, rows: list) -> None:
        """Rows written claimed for us have committed: send them."""
        self.handoff.accept(rows)

    def committed(self) -> None:
        """A commit left rows pending: claim them."""
        self.wake()

    def wake(self, *, leases_expired: bool = False) -> None:
        """Claim and deliver as soon as possible (called after a transaction adds pending
        rows, and by the tick when a row comes due); ``leases_expired`` when a probe saw
        expired leases."""
        self._claim_wanted = True
        self._leases_expired = self._leases_expired or leases_expired
        self._wake.set()

    def hold_platform(self, platform: str, held: bool) -> None:
        """Claim no rows of ``platform`` while ``held`` (another instance holds its
        gateway and sends them, bot/failover.py); claim them again once not."""
        if held:
            self._held.add(platform)
            self.handoff.platforms.discard(platform)
        else:
            self._held.discard(platform)
            if platform in self.adapters:
                self.handoff.platforms.add(platform)
            self.wake()

    def take_handoffs(self) -> None:
        """From now on, rows this process's handlers queue for now are written claimed
        for this dispatcher and handed to it in memory (bot/outbox/handoff.py). Only
        for a dispatcher that is draining: a handed row nobody sends waits out its lease."""
        self.handoff.accepting = True

    def stop_soon(self) -> None:
        """Let the current batch finish and record its outcomes, then claim no more."""
        self._stopping = True
        self.handoff.accepting = False
        self._wake.set()

    async def release_handoffs(self) -> int:
        """Hand rows given to us but not sent back to the database as pending, so another
        process can deliver them at once; returns how many."""
        rows = self.handoff.drop_all()
        if rows:
            async with self.db.unit_of_work() as uow:
                await uow.session.execute(
                    update(OutboxRow).where(OutboxRow.id.in_([r.id for r in rows]),
                                            OutboxRow.claim_token == self.handoff.token)
                    .values(status="pending", claim_token=None, lease_until=None,
                            attempts=OutboxRow.attempts - 1))
        return len(rows)

    async def wait_for_work(self, timeout: float | None) -> bool:
        """Sleep until woken or ``timeout`` seconds pass (None: until woken); True when
        woken."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        woken = self._wake.is_set()
        self._wake.clear()
        return woken

    async def drain(self, *, probe: bool = True) -> int:
        """Deliver everything due now, batch after batch; returns how many were sent.

        ``probe`` first asks, without a write lock, whether anything is due: most ticks
        have nothing to do. Without it, the dispatcher claims only when woken to (by a
        commit that left rows pending, or a tick that saw one due), and otherwise sends
        just the rows handed to it."""
        self.pacer.forget_before(self.db.clock.now() - timedelta(minutes=1))
        # Expired leases (a crashed worker's rows) are looked for only when the probe
        # saw one: they are rare, and the ticker probes every tick.
        expired, self._leases_expired = self._leases_expired, False
        claim, self._claim_wanted = self._claim_wanted, False
        if probe:
            due, leases = await self._due()
            claim, expired = claim or due, expired or leases
        if not (claim or expired or self.handoff.waiting):
            return 0
        sent, outcomes = 0, []
        while True:
            # Woken meanwhile by a commit that left rows pending (an alert, say)?
            claim, self._claim_wanted = claim or self._claim_wanted, False
            # Rows handed over in memory (what people are waiting for) go before what a
            # claim would bring: in a burst of lapses that is thousands of cards, which
            # are then sent a batch at a time once the people's messages are out.
            claiming = (claim or expired) and not self._stopping and not self.handoff.waiting
            claimed = (await self._record_and_claim(outcomes, claim=claiming, expired=expired)
                       if outcomes or claiming else [])
            # After recording: an alert written with the outcomes is handed over too.
            handed = [] if self._stopping else self.handoff.take()
            batch = sorted(handed + claimed, key=lambda row: row.id)
            if claiming:
                # A full claim may have left more behind; otherwise new rows wake us again.
                claim, expired = len(claimed) >= self.batch_size, False
            if not batch:
                if (claim or self._claim_wanted) and not self._stopping:
                    continue  # a claim put off for handed rows, or our own commit's row
                return sent
            outcomes = await self.sender.send_all(batch)
            sent += sum(outcome.sent for outcome in outcomes)

    async def _due(self) -> tuple[bool, bool]:
        """Whether a pending row is due, and whether a lease has expired."""
        due = await what_is_due(self.db, list(self.adapters), ledger=False)
        return due.outbox, due.outbox_leases

    async def _record_and_claim(self, outcomes: list[Outcome], *, claim: bool,
                                expired: bool = True) -> list[ClaimedRow]:
        """In one transaction: write ``outcomes``, then (if ``claim``) claim the next
        batch of due rows, and rows whose lease expired when ``expired``."""
        if not outcomes and not claim:
            return []
        token, rows = uuid.uuid4().hex, []
        async with self.db.unit_of_work() as uow:
            await self._record(uow, outcomes)
            if claim:  # "now" after recording, so an alert just queued is due
                rows = await self._claim(uow, self.db.clock.now(), token, expired)
        return sorted((ClaimedRow(r.id, r.workspace_id, r.ticket_id, r.platform, r.kind,
                                  OutboundMessage.from_dict(json.loads(r.payload_json)),
                                  r.attempts, token,
                                  first_due_at=r.first_due_at or r.created_at)
                        for r in rows), key=lambda c: c.id)

    async def _claim(self, uow: UnitOfWork, now: datetime, token: str, expired: bool) -> list:
        # Two statements, not one with OR: each is an ordered index range scan that stops
        # at its LIMIT (an OR becomes a bitmap scan on PostgreSQL that revisits every dead
        # index entry a burst left behind, and a sort of every due row on SQLite).
        platforms = [p for p in self.adapters if p not in self._held]
        if not platforms:
            return []
        rows = await self._claim_where(uow, now, token, self.batch_size,
                                       OutboxRow.status == "pending", OutboxRow.due_at <= now,
                                       OutboxRow.platform.in_(platforms))
        room = self.batch_size - len(rows)
        if room > 0 and expired:
            rows += await self._claim_where(uow, now, token, room,
                                            OutboxRow.status == "sending",
                                            OutboxRow.lease_until < now,
                                            OutboxRow.platform.in_(platforms))
        return rows

    async def _claim_where(self, uow: UnitOfWork, now: datetime, token: str, limit: int,
                           *conditions) -> list:
        picked = claimable(self.db.engine.dialect.name, OutboxRow, *conditions,
                           order_by=(OutboxRow.due_at, OutboxRow.id), limit=limit)
        statement = (
            update(OutboxRow).where(picked)
            .values(status="sending", claim_token=token, lease_until=now + self.lease,
                    attempts=OutboxRow.attempts + 1)
            .returning(OutboxRow.id, OutboxRow.workspace_id, OutboxRow.ticket_id,
                       OutboxRow.platform, OutboxRow.kind, OutboxRow.payload_json,
                       OutboxRow.attempts, OutboxRow.first_due_at, OutboxRow.created_at))
        return list((await uow.session.execute(statement)).all())

    async def _record(self, uow: UnitOfWork, outcomes: list[Outcome]) -> None:
        """Write outcomes fenced by their claim tokens: plain ones of one shape with a
        single executemany, ones with follow-up work one by one."""
        by_shape: dict[tuple[str, ...], list[Outcome]] = {}
        for outcome in outcomes:
            if outcome.recorded:
                continue
            if outcome.then is None:
                by_shape.setdefault(outcome.shape, []).append(outcome)
                continue
            await self._record_with_then(uow, outcome)
        for shape, group in by_shape.items():
            if self.db.engine.dialect.name == "postgresql" and len(group) > 1:
                result = await uow.session.execute(*_record_at_once(shape, group))
            else:
                statement = (update(_outbox)
                             .where(_outbox.c.id == bindparam("_id"),
                                    _outbox.c.claim_token == bindparam("_token"))
                             .values(claim_token=None, lease_until=None,
                                     **{column: bindparam(column) for column in shape}))
                params = [{"_id": o.row.id, "_token": o.row.token, **o.values} for o in group]
                result = await uow.session.execute(statement, params)
            if 0 <= (result.rowcount if result.rowcount is not None else -1) < len(group):
                self._lost_claim(group, written=result.rowcount)

    async def _record_one(self, uow: UnitOfWork, outcome: Outcome, *, then: bool) -> None:
        """Write one outcome fenced by its claim token, and run its ``then`` when asked
        and the claim still holds."""
        result = await uow.session.execute(
            update(OutboxRow).where(OutboxRow.id == outcome.row.id,
                                    OutboxRow.claim_token == outcome.row.token)
            .values(claim_token=None, lease_until=None, **outcome.values))
        if not result.rowcount:
            self._lost_claim([outcome])
        elif then and outcome.then is not None:
            await outcome.then(uow)

    async def _record_with_then(self, uow: UnitOfWork, outcome: Outcome) -> None:
        """An outcome with an after-send step, in a savepoint of its own: if the step
        fails, only this row is left out (it stays claimed, its lease runs out and it is
        tried again: its platform finds the earlier send by its key), and the batch's
        other outcomes are kept. A row out of attempts is recorded without the step,
        so a step that always fails cannot keep it going round for ever."""
        try:
            async with uow.savepoint():
                await self._record_one(uow, outcome, then=True)
            return
        except Exception:
            logger.exception("the after-send step of outbox row %d failed; %s", outcome.row.id,
                             "recording it without that step"
                             if outcome.row.attempts >= self.sender.retry.max_attempts
                             else "it is left to its lease and tried again")
        if outcome.row.attempts >= self.sender.retry.max_attempts:
            await self._record_one(uow, outcome, then=False)

    @staticmethod
    def _lost_claim(outcomes: list[Outcome], written: int | None = None) -> None:
        ids = ", ".join(str(o.row.id) for o in outcomes[:10])
        if written is None:
            logger.warning("outbox row %s was re-claimed by another worker; outcome dropped", ids)
        else:
            logger.warning("%d of %d outbox outcomes (rows %s...) were dropped: re-claimed by "
                           "another worker after their lease expired",
                           len(outcomes) - written, len(outcomes), ids)


def _record_at_once(shape: tuple[str, ...], group: list[Outcome]) -> tuple:
    """PostgreSQL: one UPDATE for a whole group of outcomes, its values passed as one
    array per column (``unnest``), fenced by each row's claim token. An ``executemany``
    would run the UPDATE once per row, each with its own round of work on the server."""
    values = {"_id": [o.row.id for o in group], "_token": [o.row.token for o in group]}
    values.update((column, [o.values[column] for o in group]) for column in shape)
    return _record_statement(shape), values


@lru_cache(maxsize=32)
def _record_statement(shape: tuple[str, ...]) -> TextClause:
    """The statement of :func:`_record_at_once` for one shape, built once."""
    names = ("_id", "_token", *shape)
    kinds = ["BIGINT", "VARCHAR", *(array_type(_outbox, column) for column in shape)]
    return text(
        "UPDATE outbox SET claim_token = NULL, lease_until = NULL, "
        + ", ".join(f"{column} = v.{column}" for column in shape)
        + " FROM unnest(" + ", ".join(f"CAST(:{name} AS {kind}[])"
                                       for name, kind in zip(names, kinds))
        + f") AS v({', '.join(names)}) WHERE outbox.id = v._id AND outbox.claim_token = v._token")
