"""Delivering ticket cards: post once, then edit that message in place.

Only the newest card row for a ticket is worth sending; an older one still queued is
marked ``superseded``. The first post of a card uses an idempotency key per ticket, so
two workers racing to post a ticket's first card make one message on the platform.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select, update

from bot.core import Delivery, OutboundMessage
from bot.storage.tables import OutboxRow, TicketRow
from bot.storage.uow import Database, UnitOfWork


async def prepare_card(db: Database, row) -> tuple[OutboundMessage | None, str]:
    """The message to send for a claimed card row and its idempotency key, or None
    when a newer card for the same ticket makes this one pointless."""
    async with db.reading() as uow:
        newer = (await uow.session.execute(
            select(func.count()).select_from(OutboxRow).where(
                OutboxRow.ticket_id == row.ticket_id, OutboxRow.kind == "card",
                OutboxRow.id > row.id, OutboxRow.status.in_(("pending", "sending"))))).scalar_one()
        if newer:
            return None, ""
        ticket = await uow.session.get(TicketRow, row.ticket_id)
    if ticket is None:
        return None, ""
    if ticket.triage_message_id and ticket.triage_channel_id == row.message.channel_id:
        return replace(row.message, edit_of=ticket.triage_message_id), f"hd-{row.id}"
    return row.message, f"hd-card-{row.ticket_id}"


async def remember_card(uow: UnitOfWork, row, delivery: Delivery) -> None:
    """After a card's first post, store where it lives so later cards edit it.

    Runs in the transaction that records the delivery; the ``IS NULL`` guard keeps the
    first message if two workers ever both posted one."""
    await uow.session.execute(
        update(TicketRow).where(TicketRow.id == row.ticket_id,
                                TicketRow.triage_message_id.is_(None))
        .values(triage_channel_id=delivery.channel_id, triage_message_id=delivery.message_id))


async def remember_thread_root(uow: UnitOfWork, row, delivery: Delivery) -> None:
    """A ticket opened by a command has no thread until its acknowledgement is posted;
    that message becomes the requester's thread."""
    await uow.session.execute(
        update(TicketRow).where(TicketRow.id == row.ticket_id,
                                (TicketRow.thread_id.is_(None)) | (TicketRow.thread_id == ""))
        .values(thread_id=delivery.message_id, channel_id=delivery.channel_id))
