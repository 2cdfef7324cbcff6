"""Pieces every ticket command shares: finding the ticket, changing its state, wording."""

from __future__ import annotations

from bot.domain.errors import DomainError
from bot.domain.people import Role
from bot.domain.tickets import IllegalTransition, Ticket, TicketAction, transition
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
    """Apply a guarded transition and record it in the timeline."""
    owner = values.get("owner_id", ticket.owner_id)
    try:
        status = transition(ticket.status, action, has_owner=owner is not None,
                            number=ticket.number)
    except IllegalTransition as refusal:
        if ctx.role.at_least(Role.AGENT):
            # Staff read the staff's words for a status ("awaiting the requester's
            # confirmation"), never the requester's ("waiting for your confirmation").
            refusal.fields["status"] = refusal.status.agent_label
        raise
    updated = await ctx.uow.tickets.update(ticket.id, status=status.value, updated_at=ctx.now,
                                           **values)
    if status is not ticket.status:
        await ctx.uow.tickets.add_event(ticket.id, "status", ctx.now,
                                        author_id=ctx.person.id if ctx.person else None,
                                        body=status.value, previous=ticket.status.value)
    return updated


def when_for(ctx: Context, moment, person=None) -> str:
    """A time as ``person`` (default: whoever acted) reads it, in their zone."""
    assert ctx.policy is not None
    who = person or ctx.person
    tz = (who.tz if who else None) or ctx.policy.calendar.timezone
    return format_when(moment, ctx.now, tz)
