"""Messages inside a ticket's threads, and the "same issue or new?" question.

In the requester's thread, the requester's words go to the agents; an agent writing
there directly counts as a public reply. In the triage card's thread, an agent's
message is relayed to the requester as a public reply, unless it starts with
``note:``, which makes it an internal note that never reaches the requester.
"""

from __future__ import annotations

from bot.core import Button, IncomingMessage
from bot.domain.people import Role
from bot.domain.tickets import Ticket, TicketAction, TicketStatus
from bot.desk.cards import queue_card
from bot.desk.context import Context
from bot.desk.features.intake import open_ticket
from bot.desk.notify import to_agents, to_person, to_requester
from bot.desk.features.resolution import record_comment_if_expected, reopen_ticket
from bot.desk.quoting import defang, excerpt
from bot.desk.features.lookup import change_status, ticket_of_button
from bot.desk.features.working import add_note, send_public_reply, start_update_cadence

_ACTIVE = (TicketStatus.OPEN, TicketStatus.IN_PROGRESS, TicketStatus.WAITING_REQUESTER,
           TicketStatus.WAITING_THIRD_PARTY)


async def on_thread_message(ctx: Context) -> None:
    """A message in a thread that belongs to a ticket."""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if not event.thread_id or not event.text.strip():
        return
    ticket = await ctx.uow.tickets.by_thread(ctx.workspace.id, event.channel_id, event.thread_id)
    if ticket is None:
        return
    ctx.handled = True
    in_triage = (event.channel_id == ticket.triage_channel_id
                 and event.thread_id == ticket.triage_message_id)
    if in_triage:
        await _from_triage_thread(ctx, ticket, event.text)
    elif ctx.person.id == ticket.requester_id:
        await requester_wrote(ctx, ticket, event.text)
    elif ctx.role.at_least(Role.AGENT):
        await _agent_in_requester_thread(ctx, ticket, event.text)


async def _from_triage_thread(ctx: Context, ticket: Ticket, text: str) -> None:
    if not ctx.role.at_least(Role.AGENT):
        await ctx.answer(ctx.t("intake.only_agents_here"))
        return
    stripped = text.strip()
    if stripped.lower().startswith("note:"):
        await add_note(ctx, ticket, stripped[5:].strip())
    else:
        await send_public_reply(ctx, ticket, stripped)


async def _agent_in_requester_thread(ctx: Context, ticket: Ticket, text: str) -> None:
    """The requester already saw it; record it as the public reply it is."""
    assert ctx.person is not None
    await send_public_reply(ctx, ticket, text, already_visible=True)
    requester = await ctx.uow.people.get(ticket.requester_id)
    relay = to_agents(ticket, ctx.t("intake.agent_in_thread", agent=ctx.person.name,
                                    requester=requester.name, ref=ticket.ref,
                                    text=defang(excerpt(text))))
    if relay is not None:
        await ctx.post(relay, ticket_id=ticket.id)


async def requester_wrote(ctx: Context, ticket: Ticket, text: str) -> None:
    """The requester added to their ticket: record it, tell the agents, and move the
    ticket on if it was waiting for them."""
    assert ctx.person is not None
    if ticket.status is TicketStatus.CLOSED and await record_comment_if_expected(ctx, ticket, text):
        return
    await ctx.uow.tickets.add_event(ticket.id, "requester", ctx.now, author_id=ctx.person.id,
                                    body=text)
    if ticket.status is TicketStatus.CLOSED:
        # The closing messages invite a reply here to reopen.
        await reopen_ticket(ctx, ticket)
        return
    # While resolved, words ("thanks!") are not an answer: the yes/no buttons are.
    await ctx.uow.promises.keep(ticket.id, "requester_reply", ctx.now)
    if ticket.status is TicketStatus.WAITING_REQUESTER:
        ticket = await change_status(ctx, ticket, TicketAction.RESUME)
        await start_update_cadence(ctx, ticket)
        owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
        await ctx.post(to_requester(ticket, ctx.t(
            "agent.resumed", owner=owner.name if owner else ctx.t("lapse_words.the_desk"),
            ref=ticket.ref)), ticket_id=ticket.id)
    relay_text = ctx.t("intake.requester_replied", requester=ctx.person.name, ref=ticket.ref,
                       text=defang(excerpt(text)))
    relay = to_agents(ticket, relay_text)
    if relay is not None:
        await ctx.post(relay, ticket_id=ticket.id)
    elif ticket.owner_id:
        await ctx.post(to_person(await ctx.uow.people.get(ticket.owner_id), relay_text, ticket),
                       ticket_id=ticket.id)
    await queue_card(ctx, ticket)


async def ask_same_or_new(ctx: Context) -> None:
    """A new direct message from someone with an open ticket: same issue, or new?"""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if not event.is_direct or event.thread_id or not event.text.strip():
        return
    open_tickets = await ctx.uow.tickets.list(ctx.workspace.id, requester_id=ctx.person.id,
                                              statuses=_ACTIVE, limit=1)
    if not open_tickets:
        return
    ticket = open_tickets[0]
    await ctx.uow.tickets.add_event(ticket.id, "held", ctx.now, author_id=ctx.person.id,
                                    body=event.text, message_id=event.message_id,
                                    channel_id=event.channel_id)
    value = f"{ticket.id}:{event.message_id}"
    await ctx.answer(ctx.t("intake.same_or_new", ref=ticket.ref, subject=defang(ticket.subject)),
                     private=False, buttons=(
                         Button(ctx.t("intake.same_button", ref=ticket.ref), "intake.same", value,
                                "primary"),
                         Button(ctx.t("intake.new_button"), "intake.new", value)),
                     thread_id=event.message_id)
    ctx.handled = True


async def _held_message(ctx: Context) -> tuple[Ticket, dict, str] | None:
    message_id = ctx.args.partition(":")[2]
    ticket = await ticket_of_button(ctx, ctx.args)
    if ticket is None or ticket.requester_id != (ctx.person.id if ctx.person else None):
        return None
    timeline = await ctx.uow.tickets.timeline(ticket.id)
    if any(e.kind == "held_answered" and (e.data or {}).get("message_id") == message_id
           for e in timeline):
        return None  # a second press of either button changes nothing
    for entry in reversed(timeline):
        if entry.kind == "held" and (entry.data or {}).get("message_id") == message_id:
            await ctx.uow.tickets.add_event(ticket.id, "held_answered", ctx.now,
                                            author_id=ctx.person.id, message_id=message_id)
            return ticket, entry.data or {}, entry.body
    return None


async def same_issue(ctx: Context) -> None:
    """The held message belongs to the open ticket."""
    held = await _held_message(ctx)
    ctx.handled = True
    if held is not None:
        ticket, _, text = held
        await requester_wrote(ctx, ticket, text)
        await ctx.post(to_requester(ticket, ctx.t("intake.added_to", ref=ticket.ref)),
                       ticket_id=ticket.id)


async def new_issue(ctx: Context) -> None:
    """The held message is a new problem: open a ticket for it in its own thread."""
    held = await _held_message(ctx)
    ctx.handled = True
    if held is not None and ctx.person is not None:
        _, data, text = held
        await open_ticket(ctx, ctx.person, text, channel_id=data["channel_id"],
                          thread_id=data["message_id"], source_message_id=data["message_id"])


def register(router) -> None:
    """Thread messages and the same-or-new question come before opening a new ticket."""
    router.on_message(on_thread_message)
    router.on_message(ask_same_or_new)
    router.on_button("intake.same", same_issue)
    router.on_button("intake.new", new_issue)

