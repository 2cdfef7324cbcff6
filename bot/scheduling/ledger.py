"""The ledger sweeper: no promise passes silently.

Due promises are claimed with a lease in one statement (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite). Each is then covered in its own
transaction that first marks it missed *fenced by the claim token*: if another worker
re-claimed it after our lease expired, or a person kept it meanwhile, the fence fails
and we write nothing. A worker killed after claiming leaves a lease that expires and
the promise is claimed again, so every lapse is covered exactly once.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from bot.desk import Desk
from bot.domain.promises import PromiseStatus
from bot.handlers.lapses import LapseCover
from bot.handlers.warnings import warn_before_breach
from bot.storage.promises import promise_from_row
from bot.storage.tables import PromiseRow
from bot.storage.uow import Database

logger = logging.getLogger(__name__)

_PENDING, _SENDING = PromiseStatus.PENDING.value, PromiseStatus.SENDING.value
MAX_COVER_ATTEMPTS = 5


class PromiseSweeper:
    """Finds promises that fell due unkept and has the bot cover each one."""

    def __init__(self, db: Database, desk: Desk, *, batch_size: int = 200,
                 lease: timedelta = timedelta(seconds=60)) -> None:
        self.db = db
        self.desk = desk
        self.batch_size = batch_size
        self.lease = lease

    async def sweep(self) -> int:
        """Warn before breaches, then cover every due promise; returns how many were covered."""
        if not await self.anything_due():
            return 0
        await self.warn()
        covered = 0
        while True:
            claimed = await self.claim()
            if not claimed:
                return covered
            for promise_id, token in claimed:
                covered += await self.cover(promise_id, token)

    async def anything_due(self) -> bool:
        """One cheap read (no write lock) that says whether a sweep has work: most ticks
        have none, and the claims below each need a write transaction."""
        now = self.db.clock.now()
        async with self.db.reading() as uow:
            due, lease, warn = (await uow.session.execute(select(
                select(func.min(PromiseRow.due_at)).where(PromiseRow.status == _PENDING)
                .scalar_subquery(),
                select(func.min(PromiseRow.lease_until)).where(PromiseRow.status == _SENDING)
                .scalar_subquery(),
                select(func.min(PromiseRow.warn_at))
                .where(PromiseRow.status == _PENDING, PromiseRow.warned_at.is_(None))
                .scalar_subquery()))).one()
        return any(moment is not None and moment <= now for moment in (due, lease, warn))

    async def claim(self) -> list[tuple[int, str]]:
        """Claim up to ``batch_size`` due promises (or ones whose lease expired)."""
        now, token = self.db.clock.now(), uuid.uuid4().hex
        due = or_(and_(PromiseRow.status == _PENDING, PromiseRow.due_at <= now),
                  and_(PromiseRow.status == _SENDING, PromiseRow.lease_until < now))
        pick = select(PromiseRow.id).where(due).order_by(PromiseRow.due_at).limit(self.batch_size)
        if self.db.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        statement = (update(PromiseRow).where(PromiseRow.id.in_(pick.scalar_subquery()))
                     .values(status=_SENDING, claim_token=token, lease_until=now + self.lease,
                             attempts=PromiseRow.attempts + 1)
                     .returning(PromiseRow.id))
        async with self.db.unit_of_work() as uow:
            ids = (await uow.session.execute(statement)).scalars().all()
        return [(promise_id, token) for promise_id in sorted(ids)]

    async def cover(self, promise_id: int, token: str) -> int:
        """Cover one claimed promise; returns 1 if this worker covered it."""
        try:
            async with self.db.unit_of_work() as uow:
                now = self.db.clock.now()
                fenced = await uow.session.execute(
                    update(PromiseRow)
                    .where(PromiseRow.id == promise_id, PromiseRow.claim_token == token,
                           PromiseRow.status == _SENDING)
                    .values(status=PromiseStatus.MISSED.value, resolution="bot", resolved_at=now,
                            claim_token=None, lease_until=None)
                    .returning(PromiseRow))
                row = fenced.scalar_one_or_none()
                if row is None:
                    logger.info("promise %d was kept or re-claimed meanwhile; skipping", promise_id)
                    return 0
                cover_id = await LapseCover(uow, self.desk, promise_from_row(row), now).run()
                if cover_id is not None:
                    await uow.session.execute(update(PromiseRow).where(PromiseRow.id == promise_id)
                                              .values(cover_outbox_id=cover_id))
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
        pick = (select(PromiseRow.id)
                .where(PromiseRow.status == _PENDING, PromiseRow.warned_at.is_(None),
                       PromiseRow.warn_at <= now, PromiseRow.due_at > now)
                .order_by(PromiseRow.warn_at).limit(self.batch_size))
        if self.db.engine.dialect.name == "postgresql":
            pick = pick.with_for_update(skip_locked=True)
        async with self.db.unit_of_work() as uow:
            rows = (await uow.session.execute(
                update(PromiseRow).where(PromiseRow.id.in_(pick.scalar_subquery()))
                .values(warned_at=now).returning(PromiseRow))).scalars().all()
            for row in rows:
                await warn_before_breach(uow, self.desk, promise_from_row(row), now)
        return len(rows)
