"""Intake: one plain message opens a ticket, acknowledged in its thread with an honest wait.

The ticket, its timeline entry, the first-response promise and the acknowledgement are
written in one unit of work, so the requester never has a ticket without an answer.
"""

from __future__ import annotations

import logging
import re

from bot.adapters.base import IncomingMessage, OutboundMessage
from bot.domain.people import Person
from bot.domain.priority import Impact, PriorityDecision, Urgency
from bot.domain.promises import PromiseKind
from bot.domain.sla import format_duration
from bot.domain.tickets import Ticket, TicketAction, TicketStatus, subject_from, transition
from bot.domain.timefmt import format_when
from bot.handlers.context import Context

logger = logging.getLogger(__name__)

_HURRY = re.compile(r"\b(asap|urgent(ly)?|in a (hurry|rush)|right away|emergency)\b", re.I)
_WAITING_QUEUE = (TicketStatus.NEW, TicketStatus.OPEN)


def said_they_are_in_a_hurry(text: str) -> bool:
    """True when the requester's words say they are short of time."""
    return bool(_HURRY.search(text))


async def open_ticket(ctx: Context, requester: Person, text: str, *, channel_id: str,
                      thread_id: str, source_message_id: str | None) -> Ticket:
    """Open a ticket for ``requester`` and queue its acknowledgement in their thread."""
    assert ctx.workspace is not None and ctx.policy is not None
    uow, now, policy = ctx.uow, ctx.now, ctx.policy
    ahead = len(await uow.tickets.list(ctx.workspace.id, statuses=_WAITING_QUEUE, unowned=True,
                                       limit=1000))
    number = await uow.workspaces.take_ticket_number(ctx.workspace.id)
    decision = PriorityDecision.computed(Impact.MEDIUM, Urgency.MEDIUM)
    status = transition(TicketStatus.NEW, TicketAction.ACKNOWLEDGE, has_owner=False)
    ticket = await uow.tickets.add(
        workspace_id=ctx.workspace.id, number=number, requester_id=requester.id,
        status=status.value, priority=decision.priority.value, impact=decision.impact.value,
        urgency=decision.urgency.value, subject=subject_from(text), first_message=text,
        channel_id=channel_id, thread_id=thread_id, source_message_id=source_message_id,
        in_a_hurry=said_they_are_in_a_hurry(text), created_at=now, updated_at=now,
    )
    await uow.tickets.add_event(ticket.id, "opened", now, author_id=requester.id, body=text)

    deadline = policy.sla.first_response_deadline(ticket.priority, now, policy.calendar)
    await uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.FIRST_RESPONSE,
                            deadline.due_at, now, warn_at=deadline.warn_at)
    eta = _eta_sentence(ctx, requester, deadline.due_at, ahead)
    await ctx.post(OutboundMessage(
        channel_id=channel_id, thread_id=thread_id,
        text=ctx.t("intake.ack", requester=requester.name, ref=ticket.ref,
                   subject=ticket.subject, eta=eta),
        ticket_number=ticket.number,
    ), ticket_id=ticket.id)
    logger.info("opened ticket #%d in workspace %d", number, ctx.workspace.id)
    return ticket


def _eta_sentence(ctx: Context, requester: Person, due, ahead: int) -> str:
    assert ctx.policy is not None
    calendar, now, tz = ctx.policy.calendar, ctx.now, requester.tz or calendar_tz(ctx)
    due_text = format_when(due, now, tz)
    if not calendar.is_open(now):
        return ctx.t("intake.eta_closed", opens=format_when(calendar.next_opening(now), now, tz),
                     due=due_text)
    wait = format_duration(due - now)
    if ahead:
        return ctx.t("intake.eta_busy", ahead=ahead, due=due_text, wait=wait)
    return ctx.t("intake.eta_open", due=due_text, wait=wait)


def calendar_tz(ctx: Context) -> str:
    """The desk's own time zone, for people whose platform gives none."""
    assert ctx.policy is not None
    return ctx.policy.calendar.timezone


async def on_message(ctx: Context) -> None:
    """A requester's message: attach it to its ticket's thread, or open a new ticket."""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if event.thread_id:
        ticket = await ctx.uow.tickets.by_thread(ctx.workspace.id, event.channel_id, event.thread_id)
        if ticket is not None:
            await attach_to_ticket(ctx, ticket, event.text)
            ctx.handled = True
            return
    if not (event.is_direct or event.mentions_bot or await _is_intake_channel(ctx)):
        return
    if not event.text.strip():
        return
    await open_ticket(ctx, ctx.person, event.text, channel_id=event.channel_id,
                      thread_id=event.thread_id or event.message_id,
                      source_message_id=event.message_id)
    ctx.handled = True


async def _is_intake_channel(ctx: Context) -> bool:
    assert ctx.workspace is not None
    return ctx.event.channel_id in await ctx.uow.workspaces.channels(ctx.workspace.id, "intake")


async def attach_to_ticket(ctx: Context, ticket: Ticket, text: str) -> None:
    """Record a requester's message in their ticket's timeline."""
    assert ctx.person is not None
    await ctx.uow.tickets.add_event(ticket.id, "requester", ctx.now, author_id=ctx.person.id,
                                    body=text)
    await ctx.uow.promises.keep(ticket.id, "requester_reply", ctx.now)


def register(router) -> None:
    """Wire intake into the router."""
    router.on_message(on_message)
