"""Reading the outbox the way a test needs to: when the next queued row falls due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from bot.storage.tables import OutboxRow
from bot.storage.uow import Database


async def next_due_at(db: Database, platforms: list[str]) -> datetime | None:
    """When the earliest pending row for ``platforms`` falls due, or None when none is
    pending (a row held back by pacing or a retry is pending with a later due time)."""
    async with db.reading() as uow:
        return (await uow.session.execute(
            select(OutboxRow.due_at).where(OutboxRow.status == "pending",
                                           OutboxRow.platform.in_(platforms))
            .order_by(OutboxRow.due_at).limit(1))).scalar_one_or_none()
