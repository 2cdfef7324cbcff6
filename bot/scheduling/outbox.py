"""The outbox dispatcher: reliable, idempotent delivery of what handlers queued.

Rows are claimed with a lease in one statement, so several processes can share the
outbox without sending a row twice; completion is fenced by the claim token, so a
process whose lease expired cannot overwrite the row another process now owns.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import and_, func, or_, select, update

from bot.adapters.base import ChatAdapter, DeliveryError, OutboundMessage
from bot.scheduling.cards import prepare_card, remember_card, remember_thread_root
from bot.scheduling.pacing import Pacer
from bot.storage.tables import OutboxRow
from bot.storage.uow import Database, UnitOfWork

logger = logging.getLogger(__name__)

# Called in the transaction that marks a row dead, to tell someone who can fix it.
OnDead = Callable[["UnitOfWork", "ClaimedRow", DeliveryError], Awaitable[None]]


@dataclass(frozen=True)
class ClaimedRow:
    """An outbox row this process holds under a lease."""

    id: int
    workspace_id: int
    ticket_id: int | None
    platform: str
    kind: str
    message: OutboundMessage
    attempts: int
    token: str


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off for failed sends: exponential from ``base`` up to ``cap``, with jitter,
    and ``max_attempts`` before a row is declared dead."""

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=10)
    max_attempts: int = 8

    def delay(self, attempts: int) -> timedelta:
        """How long to wait before attempt ``attempts + 1``; full jitter avoids herds."""
        ceiling = min(self.cap, self.base * (2 ** max(attempts - 1, 0)))
        return ceiling * (0.5 + random.random() / 2)


class OutboxDispatcher:
    """Delivers due outbox rows through the adapters registered for their platforms."""

    def __init__(self, db: Database, adapters: dict[str, ChatAdapter], *, batch_size: int = 100,
                 lease: timedelta = timedelta(seconds=60), retry: RetryPolicy = RetryPolicy(),
                 on_dead: OnDead | None = None) -> None:
        self.db = db
        self.on_dead = on_dead
        self.adapters = adapters
        self.batch_size = batch_size
        self.lease = lease
        self.retry = retry
        self.pacer = Pacer()
        self._wake = asyncio.Event()
        db.on_outbox_commit(self.wake)

    def wake(self) -> None:
        """Deliver as soon as possible (called after a transaction adds rows)."""
        self._wake.set()

    async def wait_for_work(self, timeout: float) -> None:
        """Sleep until woken or ``timeout`` seconds pass."""
        try:
            await asyncio.wait_for(self._wake.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        self._wake.clear()

    async def drain(self) -> int:
        """Deliver everything due now, batch after batch; returns how many were sent."""
        sent = 0
        self.pacer.forget_before(self.db.clock.now() - timedelta(minutes=1))
        if not await self.anything_due():
            return 0
        while True:
            claimed = await self.claim()
            if not claimed:
                return sent
            for row in claimed:
                sent += await self.deliver(row)

    async def anything_due(self) -> bool:
        """One cheap read (no write lock) that says whether a claim could find work."""
        now = self.db.clock.now()
        platforms = list(self.adapters)
        async with self.db.reading() as uow:
            due, lease = (await uow.session.execute(select(
                select(func.min(OutboxRow.due_at))
                .where(OutboxRow.status == "pending", OutboxRow.platform.in_(platforms))
                .scalar_subquery(),
                select(func.min(OutboxRow.lease_until))
                .where(OutboxRow.status == "sending", OutboxRow.platform.in_(platforms))
                .scalar_subquery()))).one()
        return any(moment is not None and moment <= now for moment in (due, lease))

    async def claim(self) -> list[ClaimedRow]:
        """Claim up to ``batch_size`` due rows (or rows whose lease expired) in one statement."""
        now, token = self.db.clock.now(), uuid.uuid4().hex
        due = or_(and_(OutboxRow.status == "pending", OutboxRow.due_at <= now),
                  and_(OutboxRow.status == "sending", OutboxRow.lease_until < now))
        pick = (select(OutboxRow.id).where(due, OutboxRow.platform.in_(list(self.adapters)))
                .order_by(OutboxRow.due_at, OutboxRow.id).limit(self.batch_size))
        if self.db.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        statement = (
            update(OutboxRow).where(OutboxRow.id.in_(pick.scalar_subquery()))
            .values(status="sending", claim_token=token, lease_until=now + self.lease,
                    attempts=OutboxRow.attempts + 1)
            .returning(OutboxRow.id, OutboxRow.workspace_id, OutboxRow.ticket_id,
                       OutboxRow.platform, OutboxRow.kind, OutboxRow.payload_json,
                       OutboxRow.attempts)
        )
        async with self.db.unit_of_work() as uow:
            rows = (await uow.session.execute(statement)).all()
        claimed = [ClaimedRow(r.id, r.workspace_id, r.ticket_id, r.platform, r.kind,
                              OutboundMessage.from_dict(json.loads(r.payload_json)), r.attempts,
                              token) for r in rows]
        return sorted(claimed, key=lambda c: c.id)

    async def deliver(self, row: ClaimedRow) -> int:
        """Send one claimed row and record the outcome; returns 1 if it was sent."""
        adapter = self.adapters[row.platform]
        now = self.db.clock.now()
        channel = row.message.direct_to or row.message.channel_id
        ready = self.pacer.reserve(getattr(adapter, "pacing", None), row.platform,
                                   row.workspace_id, channel, now)
        if ready is not None:
            # Too soon for this channel: hand the row back for later, attempt unspent.
            await self._complete(row, status="pending", due_at=ready, attempts=row.attempts - 1)
            return 0
        message, key = row.message, f"hd-{row.id}"
        if row.kind == "card":
            message, key = await prepare_card(self.db, row)
            if message is None:
                await self._complete(row, status="superseded")
                return 0
        try:
            delivery = await adapter.send(message, idempotency_key=key, attempt=row.attempts)
        except DeliveryError as error:
            await self._failed(row, error)
            return 0
        except Exception as error:  # an adapter bug must not stop the dispatcher
            logger.exception("adapter %s raised while sending outbox row %d", row.platform, row.id)
            await self._failed(row, DeliveryError(type(error).__name__))
            return 0
        if row.kind == "card" and not message.edit_of:
            await remember_card(self.db, row, delivery)
        elif row.kind == "thread_root":
            await remember_thread_root(self.db, row, delivery)
        await self._complete(row, status="sent", result_message_id=delivery.message_id,
                             sent_at=self.db.clock.now())
        return 1

    async def _failed(self, row: ClaimedRow, error: DeliveryError) -> None:
        now = self.db.clock.now()
        if error.retry_after is not None:
            # A rate limit is not the row's fault: re-schedule without spending an attempt.
            await self._complete(row, status="pending", attempts=row.attempts - 1,
                                 due_at=now + timedelta(seconds=error.retry_after),
                                 last_error=str(error)[:500])
            return
        if error.permanent or row.attempts >= self.retry.max_attempts:
            logger.error("outbox row %d is dead after %d attempts: %s", row.id, row.attempts, error)
            await self._complete(row, status="dead", last_error=str(error)[:500],
                                 then=(lambda uow: self.on_dead(uow, row, error))
                                 if self.on_dead and row.kind != "alert" else None)
            return
        await self._complete(row, status="pending", due_at=now + self.retry.delay(row.attempts),
                             last_error=str(error)[:500])

    async def _complete(self, row: ClaimedRow, then=None, **values) -> bool:
        """Write the outcome only if we still hold the claim (fenced by its token); ``then``
        runs in the same transaction when the fence holds."""
        async with self.db.unit_of_work() as uow:
            result = await uow.session.execute(
                update(OutboxRow).where(OutboxRow.id == row.id, OutboxRow.claim_token == row.token)
                .values(claim_token=None, lease_until=None, **values))
            if result.rowcount and then is not None:
                await then(uow)
        if not result.rowcount:
            logger.warning("outbox row %d was re-claimed by another worker; outcome dropped", row.id)
        return bool(result.rowcount)

    async def next_due_at(self) -> datetime | None:
        """When the earliest pending row falls due, or None when nothing is pending."""
        async with self.db.reading() as uow:
            return (await uow.session.execute(
                select(OutboxRow.due_at).where(OutboxRow.status == "pending",
                                               OutboxRow.platform.in_(list(self.adapters)))
                .order_by(OutboxRow.due_at).limit(1))).scalar_one_or_none()
