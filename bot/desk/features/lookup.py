"""Pieces every ticket command shares: finding the ticket, changing its state, wording."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.errors import DomainError
from bot.domain.promises import DESK_OWES, remaining_at, resumed_due, warn_time
from bot.domain.tickets import Ticket, TicketAction, TicketStatus, transition
from bot.domain.timefmt import format_when
from bot.desk.context import BadInput, Context


class UnknownTicket(DomainError):
    """No ticket with that number in this workspace."""

    def __init__(self, number: int) -> None:
        super().__init__("errors.unknown_ticket", number=number)


def split_number(args: str, usage: str) -> tuple[int, str]:
    """``"12 rest of text"`` (or ``"#12 ..."``) as (12, "rest of text"); without a number,
    BadInput with the command's ``usage`` (a template key)."""
    first, _, rest = args.strip().partition(" ")
    digits = first.lstrip("#")
    if not digits.isdigit():
        raise BadInput("input.need_ticket_number", usage)
    return int(digits), rest.strip()


async def load_ticket(ctx: Context, number: int) -> Ticket:
    """Ticket ``#number`` in the current workspace, or a polite UnknownTicket."""
    assert ctx.workspace is not None
    ticket = await ctx.uow.tickets.by_number(ctx.workspace.id, number)
    if ticket is None:
        raise UnknownTicket(number)
    return ticket


async def change_status(ctx: Context, ticket: Ticket, action: TicketAction, **values) -> Ticket:
    """Apply a guarded transition and record it in the timeline. Waiting on the
    requester stops the desk's clock; leaving that wait, whichever way, starts it again."""
    owner = values.get("owner_id", ticket.owner_id)
    status = transition(ticket.status, action, has_owner=owner is not None, number=ticket.number)
    waiting = TicketStatus.WAITING_REQUESTER
    if status is waiting and ticket.status is not waiting:
        await pause_desk_clock(ctx, ticket)
    elif ticket.status is waiting and status is not waiting:
        await resume_desk_clock(ctx, ticket)
    updated = await ctx.uow.tickets.update(ticket.id, status=status.value, updated_at=ctx.now,
                                           **values)
    if status is not ticket.status:
        await ctx.uow.tickets.add_event(ticket.id, "status", ctx.now,
                                        author_id=ctx.person.id if ctx.person else None,
                                        body=status.value, previous=ticket.status.value)
    return updated


async def pause_desk_clock(ctx: Context, ticket: Ticket) -> None:
    """While the desk waits on the requester it owes nothing: each of its open promises
    keeps the business time it has left, and none of them lapses, warns or escalates."""
    assert ctx.policy is not None
    calendar = ctx.policy.calendar
    await ctx.uow.promises.pause({
        promise.id: remaining_at(promise, ctx.now, calendar)
        for promise in await ctx.uow.promises.open_for_ticket(ticket.id)
        if promise.kind in DESK_OWES})


async def resume_desk_clock(ctx: Context, ticket: Ticket) -> None:
    """The wait is over: each paused promise is due its remaining business time from now
    (with a heads-up at the SLA's share of that)."""
    assert ctx.policy is not None
    calendar, share = ctx.policy.calendar, ctx.policy.sla.warn_at
    for promise in await ctx.uow.promises.paused_for_ticket(ticket.id):
        due = resumed_due(promise.paused_remaining or timedelta(0), ctx.now, calendar)
        await ctx.uow.promises.resume(promise.id, due, warn_time(ctx.now, due, share, calendar))


def when_for(ctx: Context, moment, person=None) -> str:
    """A time as ``person`` (default: whoever acted) reads it, in their zone."""
    assert ctx.policy is not None
    who = person or ctx.person
    tz = (who.tz if who else None) or ctx.policy.calendar.timezone
    return format_when(moment, ctx.now, tz)
