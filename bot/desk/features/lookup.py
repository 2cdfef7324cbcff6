"""Pieces every ticket command shares: finding the ticket, changing its state, wording."""

from __future__ import annotations

from datetime import timedelta

from bot.domain.errors import DomainError, Phrase, Unreadable
from bot.domain.people import Role
from bot.domain.promises import DESK_OWES, warn_time_for_span
from bot.domain.teams import Team
from bot.domain.tickets import (
    IllegalTransition, Ticket, TicketAction, TicketStatus, UnknownTicket, read_row_id,
    read_ticket_number, transition,
)
from bot.desk.context import BadInput, Context
from bot.logs import bind

__all__ = ["UnknownTicket", "UnknownButtonTicket", "NotTheirTeam", "split_number",
           "load_ticket", "load_visible_ticket", "ticket_of_button", "change_status",
           "when_for", "works_for", "may_work"]


class UnknownButtonTicket(DomainError):
    """A button's value names no ticket of this workspace (a stale or forged press)."""

    def __init__(self) -> None:
        super().__init__("errors.unknown_button_ticket")


class NotTheirTeam(DomainError):
    """A member of staff acted on, or asked to read, a ticket of a team they do not
    work. A team's tickets, notes and flags are its own (an HR matter is private), so
    the answer names the team and who can help, and nothing is shown or changed."""

    def __init__(self, ticket: Ticket, team: Team, key: str = "errors.not_their_team") -> None:
        super().__init__(key, ref=ticket.ref, team=team.name, number=ticket.number)


def split_number(args: str, usage: str) -> tuple[int, str]:
    """``"12 rest of text"`` (or ``"#12 ..."``) as (12, "rest of text"). Without a
    number, or with something that is not one, BadInput saying which, with the
    command's ``usage`` (a template key); so is a number no ticket can have (0, or past
    the database's range), before anything is looked up."""
    first, _, rest = args.strip().partition(" ")
    try:
        number = read_ticket_number(first)
    except Unreadable as error:
        raise BadInput.unreadable(error, usage) from None
    return number, rest.strip()


async def load_ticket(ctx: Context, number: int, *, any_team: bool = False) -> Ticket:
    """Ticket ``#number`` in the current workspace, or a polite UnknownTicket, for a
    member of staff to act on: someone who does not work the ticket's team (an admin
    excepted) is refused with NotTheirTeam (docs/teams.md, "Whose tickets"). Only
    ``any_team`` lookups skip that, for what belongs to the whole desk (an incident)."""
    assert ctx.workspace is not None
    ticket = await ctx.uow.tickets.by_number(ctx.workspace.id, number)
    if ticket is None:
        raise UnknownTicket(number)
    bind(ticket=ticket.id)
    ctx.for_ticket(ticket)
    if not any_team and not await may_work(ctx, ticket):
        assert ctx.team is not None
        raise NotTheirTeam(ticket, ctx.team)
    return ticket


async def load_visible_ticket(ctx: Context, number: int) -> Ticket:
    """Ticket ``#number`` when the person may see it: the staff of its team (and
    admins) see it whole, a requester only their own. Someone else's ticket is answered
    exactly as one that does not exist, so nobody can count the desk's tickets by
    asking. A member of another team's staff reads their own ticket as its requester
    does (``ctx.role`` becomes the requester's for this event), and is told another
    team's ticket is that team's, never shown its notes or flags."""
    ticket = await load_ticket(ctx, number, any_team=True)
    mine = ctx.person is not None and ticket.requester_id == ctx.person.id
    if not ctx.role.at_least(Role.AGENT):
        if not mine:
            raise UnknownTicket(number)
    elif not await may_work(ctx, ticket):
        if not mine:
            assert ctx.team is not None
            raise NotTheirTeam(ticket, ctx.team, "errors.not_their_team_to_read")
        ctx.role = Role.REQUESTER
    return ticket


async def may_work(ctx: Context, ticket: Ticket) -> bool:
    """True when whoever acted may act on ``ticket`` and read its private parts: an
    admin, or someone who works its team (someone in no team works the default one)."""
    if ctx.role.at_least(Role.ADMIN) or not ctx.role.at_least(Role.AGENT):
        # A requester's own rights are each command's business (their own ticket).
        return True
    assert ctx.person is not None and ctx.workspace is not None
    return await works_for(ctx, ctx.person.id, ctx.workspace.team(ticket.team_id))


async def ticket_of_button(ctx: Context, value: str) -> Ticket | None:
    """The ticket a button's value names (its row id, before any ``:``), if it is one of
    this workspace's; None for anything else (a stale, foreign or forged value), never
    an error from the database."""
    assert ctx.workspace is not None
    ticket_id = read_row_id(value.partition(":")[0])
    if ticket_id is None:
        return None
    ticket = await ctx.uow.tickets.find(ticket_id)
    if ticket is None or ticket.workspace_id != ctx.workspace.id:
        return None
    bind(ticket=ticket.id)
    ctx.for_ticket(ticket)
    return ticket


async def change_status(ctx: Context, ticket: Ticket, action: TicketAction, **values) -> Ticket:
    """Apply a guarded transition and record it in the timeline. Waiting on the
    requester stops the desk's clock; leaving that wait, whichever way, starts it again."""
    owner = values.get("owner_id", ticket.owner_id)
    try:
        status = transition(ticket.status, action, has_owner=owner is not None,
                            number=ticket.number)
    except IllegalTransition as refusal:
        if ctx.role.at_least(Role.AGENT):
            # Staff read the staff's words for a status ("awaiting the requester's
            # confirmation"), never the requester's ("waiting for your confirmation").
            refusal.fields["status"] = Phrase(f"status.agent.{refusal.status.value}")
        raise
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
        promise.id: calendar.business_time_between(ctx.now, promise.due_at)
        for promise in await ctx.uow.promises.open_for_ticket(ticket.id)
        if promise.kind in DESK_OWES})


async def resume_desk_clock(ctx: Context, ticket: Ticket) -> None:
    """The wait is over: each paused promise is due its remaining business time from now
    (with a heads-up at the SLA's share of that)."""
    assert ctx.policy is not None
    calendar, share = ctx.policy.calendar, ctx.policy.sla.warn_at
    resumed = {}
    for promise in await ctx.uow.promises.paused_for_ticket(ticket.id):
        span = promise.paused_remaining or timedelta(0)
        # With nothing left it falls due at the next opening, and gives no heads-up.
        resumed[promise.id] = (calendar.add_business_time(ctx.now, span),
                               warn_time_for_span(ctx.now, span, share, calendar))
    await ctx.uow.promises.resume(resumed)


def when_for(ctx: Context, moment, person=None) -> str:
    """A time as ``person`` (default: whoever acted) reads it, in their zone."""
    assert ctx.policy is not None
    who = person or ctx.person
    tz = who.reads_in(ctx.policy.calendar.timezone) if who else ctx.policy.calendar.timezone
    return ctx.policy.when(moment, ctx.now, tz)


async def works_for(ctx: Context, person_id: int, team: Team) -> bool:
    """True when the person works ``team`` (someone in no team works the default one)."""
    teams = await ctx.uow.workspaces.teams_of(person_id)
    return team.id in teams or (team.is_default and not teams)
