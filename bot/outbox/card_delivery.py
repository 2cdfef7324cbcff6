"""Delivering ticket cards: draw them as they are sent, post once, then edit in place.

A card row asks for a ticket's card; the card is drawn when the row is sent, by the
``RenderCards`` the composition root gives the dispatcher (the desk's CardRenderer),
from the ticket as it stands then. Only the newest card row for a ticket is worth
sending; an older one still queued is marked ``superseded``. The first post of a card
uses an idempotency key per ticket, so two workers racing to post a ticket's first card
make one message on the platform.

An ``incident_card`` row asks for an incident's one card (bot/desk/cards.py), drawn
when sent as a ticket's is; its first post is keyed per incident, later ones edit it.

A ticket linked to an incident before its first card went out (its requester said Yes
to "Is this what you're seeing?" while the card waited its turn in a storm) gets none:
the incident stands for it, and a storm's thousands of cards would otherwise drain
into the triage channel at its pace for half an hour. A card already posted is kept
and redrawn (it then names the incident).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Awaitable, Callable

from sqlalchemy import func, select, update

from bot.core import Delivery, OutboundMessage
from bot.storage.tables import IncidentTicketRow, OutboxRow, TicketRow
from bot.storage.uow import Database, UnitOfWork


# Draws the cards of these tickets as they stand in this unit of work, by ticket id.
RenderCards = Callable[[UnitOfWork, set[int], datetime], Awaitable[dict[int, OutboundMessage]]]


async def prepare_cards(db: Database, rows: list, render: RenderCards | None = None
                        ) -> dict[int, tuple[OutboundMessage | None, str]]:
    """For each claimed card row, the message to send and its idempotency key, or None
    when a newer card for the same ticket makes it pointless. One read for a whole
    batch: after a burst of lapses, thousands of cards are sent together. Without
    ``render`` a row's own message is sent as it was queued."""
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
        unposted = [t for t, (_, message_id) in where.items() if not message_id]
        linked = set((await uow.session.execute(
            select(IncidentTicketRow.ticket_id)
            .where(IncidentTicketRow.ticket_id.in_(unposted)))).scalars()) if unposted else set()
        where = {t: place for t, place in where.items() if t not in linked}
        live = {row.ticket_id for row in rows
                if row.ticket_id in where and newest.get(row.ticket_id, row.id) <= row.id}
        drawn = await render(uow, live, db.clock.now()) if render and live else {}
    prepared: dict[int, tuple[OutboundMessage | None, str]] = {}
    for row in rows:
        if row.ticket_id not in where or newest.get(row.ticket_id, row.id) > row.id:
            prepared[row.id] = (None, "")
            continue
        channel_id, message_id = where[row.ticket_id]
        message = drawn.get(row.ticket_id, row.message)
        if message_id and channel_id == message.channel_id:
            prepared[row.id] = (replace(message, edit_of=message_id), f"hd-{row.id}")
        else:
            # The channel is in the key: a ticket moved to another team gets a first
            # card there too, which a platform must not take for a retry of the old one.
            prepared[row.id] = (message, f"hd-card-{row.ticket_id}-{message.channel_id}")
    return prepared


async def prepare_incident_card(db: Database, row, render: RenderCards | None = None
                                ) -> tuple[OutboundMessage | None, str]:
    """The message and idempotency key for a claimed ``incident_card`` row: the
    incident's card drawn now (the row names its incident by reference in ``title``),
    an edit of the posted card once there is one. None when there is nothing to draw
    (no renderer, or the incident is gone)."""
    draw = getattr(render, "incident_card", None)
    number = read_ref(row.message.title or "")
    if draw is None or number is None:
        return None, ""
    async with db.reading() as uow:
        drawn = await draw(uow, row.workspace_id, number, db.clock.now())
    if drawn is None:
        return None, ""
    incident, message = drawn
    if incident.card_message_id:
        return replace(message, edit_of=incident.card_message_id), f"hd-{row.id}"
    # One first post per incident, whoever sends it.
    return message, f"hd-inccard-{incident.id}"


def read_ref(title: str) -> int | None:
    """The incident number an ``incident_card`` row names (``INC-N``), or None."""
    head, _, number = title.partition("-")
    return int(number) if head == "INC" and number.isdigit() else None


async def remember_incident_card(uow: UnitOfWork, row, delivery: Delivery) -> None:
    """After an incident card's first post, store where it lives so later drawings edit
    it (the first message is kept if two workers ever both posted one)."""
    number = read_ref(row.message.title or "")
    incident = await uow.incidents.by_number(row.workspace_id, number) if number else None
    if incident is not None:
        await uow.incidents.remember_card(incident.id, delivery.channel_id, delivery.message_id)


async def remember_card(uow: UnitOfWork, row, delivery: Delivery) -> None:
    """After a card's first post, store where it lives so later cards edit it.

    Runs in the transaction that records the delivery; the ``IS NULL`` guard keeps the
    first message if two workers ever both posted one, and the channel guard ignores a
    card that was already on its way to a team the ticket has since left."""
    await uow.session.execute(
        update(TicketRow).where(TicketRow.id == row.ticket_id,
                                TicketRow.triage_message_id.is_(None),
                                TicketRow.triage_channel_id.is_(None)
                                | TicketRow.triage_channel_id.in_(
                                    {row.message.channel_id, delivery.channel_id}))
        .values(triage_channel_id=delivery.channel_id, triage_message_id=delivery.message_id))


async def remember_thread_root(uow: UnitOfWork, row, delivery: Delivery) -> None:
    """A ticket opened by a command has no thread until its acknowledgement is posted;
    that message becomes the requester's thread."""
    await uow.session.execute(
        update(TicketRow).where(TicketRow.id == row.ticket_id,
                                (TicketRow.thread_id.is_(None)) | (TicketRow.thread_id == ""))
        .values(thread_id=delivery.message_id, channel_id=delivery.channel_id))
