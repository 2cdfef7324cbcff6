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


async def prepare_cards(db: Database, rows: list) -> dict[int, tuple[OutboundMessage | None, str]]:
    """For each claimed card row, the message to send and its idempotency key, or None
    when a newer card for the same ticket makes it pointless. One read for a whole
    batch: after a burst of lapses, thousands of cards are sent together."""
    if not rows:
        return {}
    tickets_of = {row.ticket_id for row in rows}
    async with db.reading() as uow:
        newest = dict((await uow.session.execute(
            select(OutboxRow.ticket_id, func.max(OutboxRow.id))
            .where(OutboxRow.ticket_id.in_(tickets_of), OutboxRow.kind == "card",
                   OutboxRow.status.in_(("pending", "sending")))
            .group_by(OutboxRow.ticket_id))).all())
        where = {ticket_id: (channel_id, message_id)
                 for ticket_id, channel_id, message_id in (await uow.session.execute(
                     select(TicketRow.id, TicketRow.triage_channel_id,
                            TicketRow.triage_message_id)
                     .where(TicketRow.id.in_(tickets_of)))).all()}
    prepared: dict[int, tuple[OutboundMessage | None, str]] = {}
    for row in rows:
        if row.ticket_id not in where or newest.get(row.ticket_id, row.id) > row.id:
            prepared[row.id] = (None, "")
            continue
        channel_id, message_id = where[row.ticket_id]
        if message_id and channel_id == row.message.channel_id:
            prepared[row.id] = (replace(row.message, edit_of=message_id), f"hd-{row.id}")
        else:
            prepared[row.id] = (row.message, f"hd-card-{row.ticket_id}")
    return prepared


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
