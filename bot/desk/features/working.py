"""Agents at work: claim, assign, reply, note and promise a follow-up.

Each keeps or makes promises in the same unit of work as the change, so the ledger
always knows what the desk has said, and each refreshes the ticket's card.
"""

from __future__ import annotations

from bot.domain.errors import DomainError, Phrase, Unreadable
from bot.domain.people import Person, Role
from bot.domain.promises import Promise, PromiseKind, warn_time
from bot.domain.tickets import Ticket, TicketAction, TicketStatus
from bot.domain.sla import Deadline
from bot.domain.timefmt import stated_minute
from bot.domain.when import When, read_when
from bot.desk.cards import queue_card
from bot.desk.context import BadInput, Context
from bot.desk.notify import to_person, to_requester
from bot.desk.features.admin import describe_hours
from bot.desk.people_refs import person_refs
from bot.desk.quoting import defang, excerpt
from bot.desk.features.lookup import (NotTheirTeam, change_status, load_ticket, may_work,
                                      split_number, when_for, works_for)


async def start_update_cadence(ctx: Context, ticket: Ticket) -> Promise:
    """Replace the ticket's status-update promise with one due an update interval from now."""
    assert ctx.workspace is not None and ctx.policy is not None
    await ctx.uow.promises.cancel(ticket.id, ctx.now, (PromiseKind.STATUS_UPDATE,))
    deadline = ctx.policy.sla.update_deadline(ticket.priority, ctx.now, ctx.policy.calendar)
    return await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.STATUS_UPDATE,
                                       deadline.due_at, ctx.now, owner_id=ticket.owner_id,
                                       warn_at=deadline.warn_at)


async def give_ownership(ctx: Context, ticket: Ticket, owner: Person) -> Ticket:
    """Make ``owner`` the ticket's owner; the first response is kept, the cadence starts."""
    assert ctx.workspace is not None and ctx.policy is not None
    ticket = await change_status(ctx, ticket, TicketAction.CLAIM, owner_id=owner.id,
                                 first_response_at=ticket.first_response_at or ctx.now)
    await ctx.uow.tickets.add_event(ticket.id, "owner", ctx.now, author_id=ctx.person.id,
                                    body=owner.name, owner_id=owner.id)
    await ctx.uow.promises.keep(ticket.id, "claim", ctx.now)
    await ctx.uow.promises.hand_to(ticket.id, owner.id)
    open_kinds = {p.kind for p in await ctx.uow.promises.open_for_ticket(ticket.id)}
    target = resolution_target(ctx, ticket)
    if PromiseKind.RESOLUTION not in open_kinds and target is not None:
        await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.RESOLUTION,
                                    target.due_at, ctx.now, owner_id=owner.id,
                                    warn_at=target.warn_at)
    return ticket


def resolution_target(ctx: Context, ticket: Ticket) -> Deadline | None:
    """The resolution target of ``ticket``'s priority, counted from its opening; None
    when it has already passed (a target set in the past would be "missed" the moment
    it is made, with a time nobody aimed for)."""
    assert ctx.policy is not None
    target = ctx.policy.sla.resolution_deadline(ticket.priority, ticket.created_at,
                                                ctx.policy.calendar)
    # Judged on the minute it would be stated, as the promise is recorded.
    return target if stated_minute(target.due_at) > ctx.now else None


async def _hand_over(ctx: Context, ticket: Ticket, owner: Person) -> None:
    """Give the ticket to ``owner`` and tell the requester, by name, who has it now
    (and the previous owner, if someone else had it)."""
    previous = ticket.owner_id
    ticket = await give_ownership(ctx, ticket, owner)
    if previous is not None and previous not in (owner.id, ctx.person.id):
        await ctx.post(to_person(await ctx.uow.people.get(previous), ctx.t(
            "agent.taken_over", agent=owner.name, ref=ticket.ref,
            subject=defang(ticket.subject)), ticket), ticket_id=ticket.id)
    update = await _next_update(ctx, ticket)
    requester = await ctx.uow.people.get(ticket.requester_id)
    key = "work.claimed" if owner.id == ctx.person.id else "agent.assigned_requester"
    await ctx.post(to_requester(ticket, ctx.t(
        key, agent=owner.name, owner=owner.name, ref=ticket.ref,
        next=when_for(ctx, update.due_at, requester))), ticket_id=ticket.id)
    if owner.id == ctx.person.id:
        await ctx.answer(ctx.t("work.claimed_agent", ref=ticket.ref, subject=defang(ticket.subject),
                               requester=requester.name, next=when_for(ctx, update.due_at)))
    else:
        await ctx.answer(ctx.t("agent.assigned_agent", owner=owner.name, ref=ticket.ref))
        await ctx.post(to_person(owner, ctx.t(
            "agent.assigned_you", assigner=ctx.person.name, ref=ticket.ref,
            subject=defang(ticket.subject), requester=requester.name,
            next=when_for(ctx, update.due_at, owner)), ticket), ticket_id=ticket.id)
    await queue_card(ctx, await ctx.uow.tickets.refresh(ticket.id))


async def _next_update(ctx: Context, ticket: Ticket) -> Promise:
    """The update the requester is owed after a change of hands. A follow-up someone
    promised still stands (it is the new owner's now): the requester was told that
    time, so it is the one said again, and no later cadence is started beside it.
    Otherwise the update cadence starts afresh."""
    for promise in await ctx.uow.promises.open_for_ticket(ticket.id):
        if promise.kind is PromiseKind.FOLLOW_UP:
            return promise
    return await start_update_cadence(ctx, ticket)


async def claim(ctx: Context) -> None:
    """``/ticket claim <n>``: take ownership and tell the requester who has it."""
    number, _ = split_number(ctx.args, "usage.ticket_claim")
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None
    ctx.handled = True
    if ticket.owner_id == ctx.person.id and ticket.status is TicketStatus.IN_PROGRESS:
        await ctx.answer(ctx.t("work.already_owner", ref=ticket.ref))
        return
    await _hand_over(ctx, ticket, ctx.person)


async def assign(ctx: Context) -> None:
    """``/ticket assign <n> <person>``: hand the ticket to another agent."""
    number, rest = split_number(ctx.args, "usage.ticket_assign")
    refs = person_refs(rest)
    if not refs:
        raise BadInput("input.need_assignee", "usage.ticket_assign")
    ticket = await load_ticket(ctx, number)
    assert ctx.workspace is not None
    ref, label, _ = refs[0]
    owner = await ctx.uow.people.find(ctx.workspace.id, ref)
    if owner is None:
        # "assign 5 hr" or "assign 5 team hr", with nobody called so: a team where a
        # person goes, which is /ticket transfer.
        words = rest.split()
        named = ctx.workspace.team_named(words[1] if len(words) > 1 and words[0].lower()
                                         == "team" else ref)
        if named is not None:
            raise BadInput("input.assign_to_team", "usage.ticket_assign", name=named.name,
                           number=ticket.number)
    if owner is None or not owner.role.at_least(Role.AGENT):
        raise BadInput("input.not_an_agent", name=label)
    assert ctx.team is not None
    if not await works_for(ctx, owner.id, ctx.team):
        # The requester would be told someone "from our hr team" has it: untrue.
        raise BadInput("input.assignee_not_in_team", name=owner.name, team=ctx.team.name,
                       ref=ticket.ref, number=ticket.number)
    ctx.handled = True
    if ticket.owner_id == owner.id:
        # Nothing changes hands, so nobody is told it did (the requester heard already).
        await ctx.answer(ctx.t("work.already_owned_by", owner=owner.name, ref=ticket.ref)
                         if owner.id != (ctx.person.id if ctx.person else None)
                         else ctx.t("work.already_owner", ref=ticket.ref))
        return
    await _hand_over(ctx, ticket, owner)


async def reply(ctx: Context) -> None:
    """``/ticket reply <n> <text>``: a public reply, relayed to the requester's thread."""
    number, text = split_number(ctx.args, "usage.ticket_reply")
    if not text:
        raise BadInput("input.need_reply_text", "usage.ticket_reply")
    ticket = await load_ticket(ctx, number, any_team=True)
    if not await may_work(ctx, ticket) and not await _was_on(ctx, ticket):
        assert ctx.team is not None
        raise NotTheirTeam(ticket, ctx.team)
    await send_public_reply(ctx, ticket, text)
    ctx.handled = True


async def _was_on(ctx: Context, ticket: Ticket) -> bool:
    """True when whoever acted has written on ``ticket`` before: after a transfer the
    old team's people may still answer the requester they were talking to (docs/teams.md)."""
    assert ctx.person is not None
    return any(entry.author_id == ctx.person.id
               for entry in await ctx.uow.tickets.timeline(ticket.id))


async def send_public_reply(ctx: Context, ticket: Ticket, text: str, *,
                            already_visible: bool = False) -> None:
    """An agent's words to the requester, keeping whatever promises a reply keeps.
    ``already_visible`` when the agent wrote in the requester's own thread."""
    assert ctx.person is not None
    # A reply takes a waiting ticket, but only for someone who works its team: after a
    # transfer, the old team's answer reaches the requester and the ticket still waits
    # for someone in the new team (docs/teams.md).
    if (ticket.owner_id is None and ticket.status.is_active
            and (ctx.team is None or await works_for(ctx, ctx.person.id, ctx.team))):
        ticket = await give_ownership(ctx, ticket, ctx.person)
    elif ticket.first_response_at is None:
        ticket = await ctx.uow.tickets.update(ticket.id, first_response_at=ctx.now)
    await ctx.uow.tickets.add_event(ticket.id, "reply", ctx.now, author_id=ctx.person.id, body=text)
    await ctx.uow.promises.keep(ticket.id, "reply", ctx.now)
    body = ctx.t("work.reply", agent=ctx.person.name, text=defang(excerpt(text)))
    if ticket.status in (TicketStatus.OPEN, TicketStatus.IN_PROGRESS,
                         TicketStatus.WAITING_THIRD_PARTY):
        update = await start_update_cadence(ctx, ticket)
        if not asks_the_requester(text):
            # The desk's own line, a paragraph of its own after the agent's words.
            requester = await ctx.uow.people.get(ticket.requester_id)
            body += "\n\n" + ctx.t("work.reply_next",
                                    next=when_for(ctx, update.due_at, requester))
    if not already_visible:
        await ctx.post(to_requester(ticket, body), ticket_id=ticket.id)
    await queue_card(ctx, ticket)


def asks_the_requester(text: str) -> bool:
    """True when an agent's reply ends in a question: the requester is being asked
    something, so "the next update will be by ..." would talk past the question. The
    update cadence is still kept (the ledger covers it); it is just not announced."""
    return text.rstrip().endswith("?")


async def note(ctx: Context) -> None:
    """``/ticket note <n> <text>``: an internal note, for agents' eyes only."""
    number, text = split_number(ctx.args, "usage.ticket_note")
    if not text:
        raise BadInput("input.need_note_text", "usage.ticket_note")
    await add_note(ctx, await load_ticket(ctx, number), text)
    ctx.handled = True


async def add_note(ctx: Context, ticket: Ticket, text: str) -> None:
    """Record an internal note. It goes to the timeline and the triage thread only:
    nothing here may ever address the requester."""
    assert ctx.person is not None
    await ctx.uow.tickets.add_event(ticket.id, "note", ctx.now, author_id=ctx.person.id, body=text)
    await ctx.answer(ctx.t("agent.note_saved", ref=ticket.ref))


async def followup(ctx: Context) -> None:
    """``/ticket followup <n> <when> [text]``: a promise, in the agent's name, to update.

    It replaces the ticket's stated update time (an earlier follow-up, or the update
    cadence). Moving that time later is said to the requester as a move, and recorded
    as one; moving it earlier is just the new time. A resolved or closed ticket owes no
    update, so a follow-up on it is refused."""
    number, rest = split_number(ctx.args, "usage.ticket_followup")
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None and ctx.workspace is not None and ctx.policy is not None
    if not ticket.status.is_active:
        raise DomainError("work.followup_inactive", ref=ticket.ref,
                          status=Phrase(f"status.agent.{ticket.status.value}"))
    when, words = _read_when(ctx, rest)
    # The minute the agent and the requester are told, and the one recorded: whether
    # the time moved is judged on it (10:29:40 against a stated 10:30 is no move).
    due = stated_minute(when.at)
    if ticket.owner_id is None:
        ticket = await give_ownership(ctx, ticket, ctx.person)
    ended_wait = ticket.status is TicketStatus.WAITING_REQUESTER
    if ended_wait:
        # A promised update means the desk has the ball again: the wait ends (its nudge
        # and close are withdrawn, the paused promises resume), so the time given now is
        # one the desk's clock is running for, never one that lapses while "waiting".
        await ctx.uow.promises.cancel(ticket.id, ctx.now, (PromiseKind.AWAITING_REQUESTER,))
        ticket = await change_status(ctx, ticket, TicketAction.RESUME)
    replaced = (PromiseKind.STATUS_UPDATE, PromiseKind.FOLLOW_UP)
    stated = min((p for p in await ctx.uow.promises.open_for_ticket(ticket.id)
                  if p.kind in replaced), key=lambda p: p.due_at, default=None)
    moved_from = stated if stated is not None and due > stated.due_at else None
    await ctx.uow.promises.cancel(ticket.id, ctx.now, replaced)
    warn_at = warn_time(ctx.now, due, ctx.policy.sla.warn_at, ctx.policy.calendar)
    await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.FOLLOW_UP, due, ctx.now,
                                owner_id=ctx.person.id, text=words, warn_at=warn_at,
                                parent_id=moved_from.id if moved_from else None)
    moved = {"moved_from": moved_from.due_at.isoformat()} if moved_from else {}
    await ctx.uow.tickets.add_event(ticket.id, "promise", ctx.now, author_id=ctx.person.id,
                                    body=words, promise_kind=PromiseKind.FOLLOW_UP.value,
                                    due_at=due.isoformat(), **moved)
    requester = await ctx.uow.people.get(ticket.requester_id)
    if moved_from is not None:
        # An apology only once someone has waited past the time they were given.
        key = "work.followup_moved" if moved_from.due_at <= ctx.now else "work.followup_moved_ahead"
        said = ctx.t(key, ref=ticket.ref, agent=ctx.person.name,
                     old=when_for(ctx, moved_from.due_at, requester),
                     due=when_for(ctx, due, requester))
        answer = ctx.t("work.followup_moved_agent", requester=requester.name, ref=ticket.ref,
                       old=when_for(ctx, moved_from.due_at), due=when_for(ctx, due))
    else:
        said = ctx.t("work.followup", agent=ctx.person.name, ref=ticket.ref,
                     due=when_for(ctx, due, requester))
        answer = ctx.t("work.followup_agent", requester=requester.name, ref=ticket.ref,
                       due=when_for(ctx, due))
    answer += _how_the_time_was_read(ctx, when, due)
    if ended_wait:
        answer += "\n" + ctx.t("work.followup_ends_wait", requester=requester.name, ref=ticket.ref)
    if words:
        # The agent's own words, relayed as written on a line of their own.
        said += "\n" + ctx.t("work.reply", agent=ctx.person.name, text=defang(excerpt(words)))
    await ctx.post(to_requester(ticket, said), ticket_id=ticket.id)
    await ctx.answer(answer)
    await queue_card(ctx, ticket)
    ctx.handled = True


def _how_the_time_was_read(ctx: Context, when: When, due) -> str:
    """What the agent is told, after the confirmation, about how their time was read.

    A span counts in the desk's hours, which a person at 17:30 asking for "2h" may not
    expect: when that gives another time than the clock would, the agent is told. A
    clock time outside the desk's hours is the agent's own word and is kept (they may
    well work then; refusing it would only make them pick a time they don't mean), but
    they are told it is outside the hours, so it is a choice and not a slip."""
    assert ctx.policy is not None
    calendar = ctx.policy.calendar
    if when.span is not None:
        if when.at == ctx.now + when.span:
            return ""
        return " " + ctx.t("work.followup_business_time", span=when.written,
                           hours=describe_hours(calendar, ctx.policy.templates),
                           due=when_for(ctx, due))
    if calendar.is_in_hours(due):
        return ""
    return " " + ctx.t("work.followup_outside_hours",
                       hours=describe_hours(calendar, ctx.policy.templates))


def _read_when(ctx: Context, rest: str):
    """The time the leading words name, and the rest (``bot.domain.when.read_when``:
    a span counts in the desk's hours)."""
    assert ctx.person is not None and ctx.policy is not None
    if not rest.split():
        raise BadInput("input.need_time", "usage.ticket_followup")
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    try:
        return read_when(rest, ctx.now, tz, ctx.policy.calendar)
    except Unreadable as error:
        raise BadInput.unreadable(error, "usage.ticket_followup") from None


def register(router) -> None:
    """Wire the agent commands into the router."""
    for word, handler in (
        ("claim", claim),
        ("assign", assign),
        ("reply", reply),
        ("note", note),
        ("followup", followup),
    ):
        router.on_command("ticket", word, handler, role=Role.AGENT,
                          description=f"commands.ticket_{word}")

