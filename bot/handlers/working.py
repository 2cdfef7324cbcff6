"""Agents at work: claim a ticket, reply to the requester, promise a follow-up.

Each of these keeps or makes promises in the same unit of work as the change, so the
ledger always knows what the desk has said.
"""

from __future__ import annotations

from bot.domain.people import Role
from bot.domain.promises import PromiseKind
from bot.domain.tickets import Ticket, TicketAction, TicketStatus
from bot.domain.when import parse_when
from bot.handlers.context import BadInput, Context
from bot.handlers.notify import to_requester
from bot.handlers.text import defang, excerpt
from bot.handlers.tickets_common import change_status, load_ticket, split_number, when_for


async def start_update_cadence(ctx: Context, ticket: Ticket) -> object:
    """Replace the ticket's status-update promise with one due an update interval from now."""
    assert ctx.workspace is not None and ctx.policy is not None
    await ctx.uow.promises.cancel(ticket.id, ctx.now, (PromiseKind.STATUS_UPDATE,))
    deadline = ctx.policy.sla.update_deadline(ticket.priority, ctx.now, ctx.policy.calendar)
    return await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.STATUS_UPDATE,
                                       deadline.due_at, ctx.now, owner_id=ticket.owner_id,
                                       warn_at=deadline.warn_at)


async def take_ownership(ctx: Context, ticket: Ticket) -> Ticket:
    """Make the acting agent the owner, keep the first response, start the cadence."""
    assert ctx.person is not None and ctx.workspace is not None and ctx.policy is not None
    ticket = await change_status(ctx, ticket, TicketAction.CLAIM, owner_id=ctx.person.id,
                                 first_response_at=ticket.first_response_at or ctx.now)
    await ctx.uow.tickets.add_event(ticket.id, "owner", ctx.now, author_id=ctx.person.id,
                                    body=ctx.person.name)
    await ctx.uow.promises.keep(ticket.id, "claim", ctx.now)
    if not [p for p in await ctx.uow.promises.open_for_ticket(ticket.id)
            if p.kind is PromiseKind.RESOLUTION]:
        target = ctx.policy.sla.resolution_deadline(ticket.priority, ticket.created_at,
                                                    ctx.policy.calendar)
        await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.RESOLUTION,
                                    target.due_at, ctx.now, owner_id=ctx.person.id,
                                    warn_at=target.warn_at)
    return ticket


async def claim(ctx: Context) -> None:
    """``/ticket claim <n>``: take ownership and tell the requester who has it."""
    number, _ = split_number(ctx.args, "Usage: `/ticket claim <n>`")
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None
    if ticket.owner_id == ctx.person.id and ticket.status is TicketStatus.IN_PROGRESS:
        await ctx.answer(ctx.t("work.already_owner", ref=ticket.ref))
        ctx.handled = True
        return
    ticket = await take_ownership(ctx, ticket)
    update = await start_update_cadence(ctx, ticket)
    requester = await ctx.uow.people.get(ticket.requester_id)
    await ctx.post(to_requester(ticket, ctx.t(
        "work.claimed", agent=ctx.person.name, ref=ticket.ref,
        next=when_for(ctx, update.due_at, requester))), ticket_id=ticket.id)
    await ctx.answer(ctx.t("work.claimed_agent", ref=ticket.ref, subject=ticket.subject,
                           requester=requester.name, next=when_for(ctx, update.due_at)))
    ctx.handled = True


async def reply(ctx: Context) -> None:
    """``/ticket reply <n> <text>``: a public reply, relayed to the requester's thread."""
    usage = "Usage: `/ticket reply <n> <text>`"
    number, text = split_number(ctx.args, usage)
    if not text:
        raise BadInput("I need the text of the reply.", usage)
    ticket = await load_ticket(ctx, number)
    await send_public_reply(ctx, ticket, text)
    ctx.handled = True


async def send_public_reply(ctx: Context, ticket: Ticket, text: str) -> None:
    """Relay an agent's words to the requester, keeping whatever promises a reply keeps."""
    assert ctx.person is not None
    if ticket.owner_id is None and ticket.status.is_active:
        ticket = await take_ownership(ctx, ticket)
    elif ticket.first_response_at is None:
        ticket = await ctx.uow.tickets.update(ticket.id, first_response_at=ctx.now)
    await ctx.uow.tickets.add_event(ticket.id, "reply", ctx.now, author_id=ctx.person.id, body=text)
    await ctx.uow.promises.keep(ticket.id, "reply", ctx.now)
    body = ctx.t("work.reply", agent=ctx.person.name, text=defang(excerpt(text)))
    if ticket.status.is_active and ticket.status is not TicketStatus.WAITING_REQUESTER:
        update = await start_update_cadence(ctx, ticket)
        requester = await ctx.uow.people.get(ticket.requester_id)
        body += "\n" + ctx.t("work.reply_next", next=when_for(ctx, update.due_at, requester))
    await ctx.post(to_requester(ticket, body), ticket_id=ticket.id)


async def followup(ctx: Context) -> None:
    """``/ticket followup <n> <when> [text]``: a promise, in the agent's name, to update."""
    usage = "Usage: `/ticket followup <n> <when> [text]`, e.g. `/ticket followup 4 2h`."
    number, rest = split_number(ctx.args, usage)
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None and ctx.workspace is not None and ctx.policy is not None
    due, note = _split_when(ctx, rest, usage)
    if ticket.owner_id is None:
        ticket = await take_ownership(ctx, ticket)
    await ctx.uow.promises.cancel(ticket.id, ctx.now,
                                  (PromiseKind.STATUS_UPDATE, PromiseKind.FOLLOW_UP))
    warn_at = ctx.now + (due - ctx.now) * ctx.policy.sla.warn_at
    await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.FOLLOW_UP, due, ctx.now,
                                owner_id=ctx.person.id, text=note, warn_at=warn_at)
    await ctx.uow.tickets.add_event(ticket.id, "promise", ctx.now, author_id=ctx.person.id,
                                    body=note, promise_kind=PromiseKind.FOLLOW_UP.value,
                                    due_at=due.isoformat())
    requester = await ctx.uow.people.get(ticket.requester_id)
    extra = f" “{defang(excerpt(note))}”" if note else ""
    await ctx.post(to_requester(ticket, ctx.t(
        "work.followup", agent=ctx.person.name, ref=ticket.ref,
        due=when_for(ctx, due, requester), text=extra)), ticket_id=ticket.id)
    await ctx.answer(ctx.t("work.followup_agent", requester=requester.name, ref=ticket.ref,
                           due=when_for(ctx, due)))
    ctx.handled = True


def _split_when(ctx: Context, rest: str, usage: str):
    """The longest leading words that read as a time, and the note after them."""
    assert ctx.person is not None
    words = rest.split()
    for take in (3, 2, 1):
        if len(words) >= take:
            try:
                due = parse_when(" ".join(words[:take]), ctx.now, ctx.person.tz or
                                 (ctx.policy.calendar.timezone if ctx.policy else None))
            except ValueError as error:
                last_error = error
                continue
            return due, " ".join(words[take:])
    raise BadInput(str(last_error) if words else "I need a time.", usage)


def register(router) -> None:
    """Wire the agent commands into the router."""
    for word, handler, description in (
        ("claim", claim, "claiming tickets"),
        ("reply", reply, "replying on tickets"),
        ("followup", followup, "promising follow-ups"),
    ):
        router.on_command("ticket", word, handler, role=Role.AGENT, description=description)
