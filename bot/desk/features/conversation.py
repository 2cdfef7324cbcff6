"""Messages inside a ticket's threads, and the "same issue or new?" question.

In the requester's thread, the requester's words go to the agents; an agent writing
there directly counts as a public reply. In the triage card's thread, an agent's
message is relayed to the requester as a public reply, unless it starts with
``note:``, which makes it an internal note that never reaches the requester.
"""

from __future__ import annotations

import re
from datetime import timedelta

from bot.core import Button, IncomingMessage
from bot.domain.people import Role
from bot.domain.promises import UPDATE_KINDS
from bot.domain.tickets import ACTIVE_STATUSES, Ticket, TicketAction, TicketStatus
from bot.desk.cards import queue_card
from bot.desk.context import Context
from bot.logs import bind
from bot.desk.features.intake import is_intake_channel, open_ticket
from bot.desk.notify import tell_staff, to_agents, to_person, to_requester
from bot.desk.features.resolution import record_comment_if_expected, reopen_ticket
from bot.desk.quoting import defang, excerpt
from bot.desk.features.lookup import change_status, ticket_of_button, when_for
from bot.desk.features.working import add_note, send_public_reply, start_update_cadence



async def on_thread_message(ctx: Context) -> None:
    """A message in a thread that belongs to a ticket."""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if not event.thread_id or not event.text.strip():
        return
    ticket = await ctx.uow.tickets.by_thread(ctx.workspace.id, event.channel_id, event.thread_id)
    if ticket is None:
        return
    bind(ticket=ticket.id)
    ctx.for_ticket(ticket)
    ctx.handled = True
    in_triage = (event.channel_id == ticket.triage_channel_id
                 and event.thread_id == ticket.triage_message_id)
    if in_triage:
        await _from_triage_thread(ctx, ticket, event.text)
    elif await ctx.uow.tickets.is_moved_card(ticket.id, event.channel_id, event.thread_id):
        await _under_old_card(ctx, ticket, event.text)
    elif ctx.person.id == ticket.requester_id:
        await requester_wrote(ctx, ticket, event.text)
    elif ctx.role.at_least(Role.AGENT):
        await _agent_in_requester_thread(ctx, ticket, event.text)


async def _from_triage_thread(ctx: Context, ticket: Ticket, text: str) -> None:
    if not ctx.role.at_least(Role.AGENT):
        await ctx.answer(ctx.t("intake.only_agents_here"))
        return
    stripped = text.strip()
    note = note_text(stripped)
    if note is not None:
        await add_note(ctx, ticket, note or stripped)
    else:
        await send_public_reply(ctx, ticket, stripped)


async def _under_old_card(ctx: Context, ticket: Ticket, text: str) -> None:
    """A message under a card the ticket had before it moved to another team: people
    keep answering where they did, so it counts as if written under the card it has now
    (a reply reaches the requester, a note is kept), the new card's thread gets a copy,
    and the writer is told where the card is now."""
    assert ctx.person is not None
    if not ctx.role.at_least(Role.AGENT):
        await ctx.answer(ctx.t("intake.only_agents_here"))
        return
    stripped = text.strip()
    note = note_text(stripped)
    team = ctx.team.name if ctx.team else ""
    if note is not None:
        await add_note(ctx, ticket, note or stripped)  # the note goes to the new card
        await ctx.answer(ctx.t("agent.old_card_noted", ref=ticket.ref, team=team))
        return
    await send_public_reply(ctx, ticket, stripped)
    ticket = await ctx.uow.tickets.get(ticket.id)
    requester = await ctx.uow.people.get(ticket.requester_id)
    copy = to_agents(ticket, ctx.t("agent.old_card_reply", agent=ctx.person.name,
                                   requester=requester.name, ref=ticket.ref,
                                   text=defang(excerpt(stripped))))
    if copy is not None:
        await ctx.post(copy, ticket_id=ticket.id)
    await ctx.answer(ctx.t("agent.old_card_written", ref=ticket.ref, team=team,
                           requester=requester.name))


# How agents mark a message as internal in a chat thread: "note:", "NOTE-", "Note —",
# "internal:", "private:", "[note]", "(internal)", "#note", "// ...". A marker is a word
# and punctuation, so "Note that the printer restarts at noon" is still a reply.
_NOTE_MARK = re.compile(
    r"^\s*(?:[\[({<]\s*(?:internal\s+)?(?:notes?|internal|private)\s*[\])}>]"
    r"|#(?:notes?|internal|private)\b"
    r"|(?:internal\s+)?(?:notes?|internal|private)\s*[:\-–—]"
    r"|//)\s*", re.IGNORECASE)


def note_text(text: str) -> str | None:
    """The note in an agent's message under the card, without its marker; None when the
    message is not marked as a note (and so is a reply for the requester). When in
    doubt it is a note: a note relayed is a leak, a reply kept back is only late (the
    agent is told "Note added", and can reply)."""
    match = _NOTE_MARK.match(text)
    return text[match.end():].strip() if match else None


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
    if ticket.status is TicketStatus.CLOSED and is_short_thanks(text):
        await pass_on_thanks(ctx, ticket, text, in_thread=True)
        return
    await ctx.uow.tickets.add_event(ticket.id, "requester", ctx.now, author_id=ctx.person.id,
                                    body=text)
    if ticket.status is TicketStatus.CLOSED:
        # The closing messages invite a reply here to reopen.
        await reopen_ticket(ctx, ticket, words=text)
        return
    if ticket.status is TicketStatus.RESOLVED and not is_short_thanks(text):
        # Asked "Has this solved your problem?", anything but a thank-you says it has
        # not (yet): reopen as "No, not yet" does, with their words for the owner, so the
        # desk never later closes it "since we didn't hear back".
        await ctx.uow.promises.keep(ticket.id, "requester_confirm", ctx.now)
        await reopen_ticket(ctx, ticket, action=TicketAction.REJECT_RESOLUTION, words=text)
        return
    # While resolved, words ("thanks!") are not an answer: the yes/no buttons are.
    await ctx.uow.promises.keep(ticket.id, "requester_reply", ctx.now)
    if ticket.status is TicketStatus.WAITING_REQUESTER:
        # Leaving the wait resumes the desk's paused promises; a cadence starts only
        # when none of them was an update (one cadence, never two).
        ticket = await change_status(ctx, ticket, TicketAction.RESUME)
        updates = [p for p in await ctx.uow.promises.open_for_ticket(ticket.id)
                   if p.kind in UPDATE_KINDS]
        update = updates[0] if updates else await start_update_cadence(ctx, ticket)
        owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
        # The clock restarts here, so the time they were given before the wait no
        # longer holds: they hear the new one now, not a silence at the old one.
        await ctx.post(to_requester(ticket, ctx.t(
            "agent.resumed" if owner else "agent.resumed_unowned",
            owner=owner.name if owner else "", ref=ticket.ref,
            next=when_for(ctx, update.due_at))), ticket_id=ticket.id)
    relay_text = ctx.t("intake.requester_replied", requester=ctx.person.name, ref=ticket.ref,
                       text=defang(excerpt(text)))
    relay = to_agents(ticket, relay_text)
    if relay is not None:
        await ctx.post(relay, ticket_id=ticket.id)
    elif ticket.owner_id:
        await ctx.post(to_person(await ctx.uow.people.get(ticket.owner_id), relay_text, ticket),
                       ticket_id=ticket.id)
    await queue_card(ctx, ticket)


# A short thank-you, conservatively: a thanks word, a few words at most, and nothing
# that could be a problem or a request (a question, "but", "still", "not", "again" other
# than in "thanks again", ...). When in doubt it is not a thank-you: in a closed
# ticket's thread it reopens the ticket, and elsewhere it opens a new one.
THANKS_WINDOW = timedelta(days=7)
THANKS_MAX_CHARS = 80
THANKS_MAX_WORDS = 12
_THANKS = re.compile(r"\b(thanks|thank\s+you|thank\s+u|thx|thnx|ty|tysm|cheers|"
                     r"much\s+appreciated|appreciate\s+it)\b|🙏", re.IGNORECASE)
_THANKS_AGAIN = re.compile(r"\b(thanks|thank\s+you)\s+again\b", re.IGNORECASE)
_TROUBLE = re.compile(
    r"\?|\b(but|still|not|no|never|again|however|although|though|except|issue|issues|"
    r"problem|problems|error|errors|broke|broken|break|fail\w*|crash\w*|wrong|another|"
    r"also|please|pls|can|could|would|will|help|stopped|stop|doesn|didn|isn|won)\b|n't",
    re.IGNORECASE)


def is_short_thanks(text: str) -> bool:
    """True when ``text`` is only a short thank-you ("Thanks again, all good now!"),
    never when it might carry a problem or a request."""
    words = " ".join(text.split())
    if not words or len(words) > THANKS_MAX_CHARS or len(words.split()) > THANKS_MAX_WORDS:
        return False
    if not _THANKS.search(words):
        return False
    return not _TROUBLE.search(_THANKS_AGAIN.sub("thanks", words))


async def pass_on_thanks(ctx: Context, ticket: Ticket, text: str, *, in_thread: bool) -> None:
    """A requester's short thank-you about a closed (or resolved) ticket: it goes on that
    ticket's timeline and to its owner (with no owner, to the agents' thread), and the
    requester is told where it went. Nothing is reopened or opened."""
    assert ctx.person is not None
    await ctx.uow.tickets.add_event(ticket.id, "requester", ctx.now, author_id=ctx.person.id,
                                    body=text)
    owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
    passed = ctx.t("resolution.thanks_owner" if ticket.status is TicketStatus.CLOSED
                   else "resolution.thanks_owner_resolved",
                   requester=ctx.person.name, ref=ticket.ref, text=defang(excerpt(text)))
    told = await tell_staff(ctx, ticket, owner, passed)
    key = "resolution.thanks_noted" if in_thread else "resolution.thanks_added"
    said = ctx.t(key + told, owner=owner.name if owner else "", ref=ticket.ref)
    if in_thread:
        await ctx.post(to_requester(ticket, said), ticket_id=ticket.id)
    else:
        await ctx.answer(said, private=False, thread_id=ctx.event.message_id)


async def thanks_after_close(ctx: Context) -> None:
    """A top-level short thank-you (a DM, the intake channel, a mention) from someone
    whose ticket was closed or resolved in the last days belongs to that ticket, not to
    a new one."""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if event.thread_id or not is_short_thanks(event.text):
        return
    if not (event.is_direct or event.mentions_bot or await is_intake_channel(ctx)):
        return
    latest = await ctx.uow.tickets.list(ctx.workspace.id, requester_id=ctx.person.id, limit=1)
    if not latest or latest[0].status not in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        return
    ticket = latest[0]
    ended = ticket.closed_at or ticket.resolved_at or ticket.updated_at
    if ended is None or ctx.now - ended > THANKS_WINDOW:
        return
    ctx.handled = True
    await pass_on_thanks(ctx, ticket, event.text, in_thread=False)


async def ask_same_or_new(ctx: Context) -> None:
    """A new direct message from someone with an open ticket: same issue, or new?"""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if not event.is_direct or event.thread_id or not event.text.strip():
        return
    open_tickets = await ctx.uow.tickets.list(ctx.workspace.id, requester_id=ctx.person.id,
                                              statuses=ACTIVE_STATUSES, limit=1)
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
                                "primary", once=True),
                         Button(ctx.t("intake.new_button"), "intake.new", value, once=True)),
                     thread_id=event.message_id)
    ctx.handled = True


async def _held_message(ctx: Context) -> tuple[Ticket, dict, str] | None:
    """The message a "same issue or new?" question holds, with its ticket; None when
    there is none to answer, after telling the presser why (a second press, someone
    else's question, a message no longer there): a press is never met with silence."""
    message_id = ctx.args.partition(":")[2]
    ticket = await ticket_of_button(ctx, ctx.args)
    if ticket is None or ticket.requester_id != (ctx.person.id if ctx.person else None):
        await ctx.answer(ctx.t("intake.held_not_yours"))
        return None
    # Presses of the two buttons (or one pressed twice) may run at once on several
    # connections: the ticket's row lock makes the second wait and see the first's answer.
    ticket = await ctx.uow.tickets.lock(ticket.id)
    timeline = await ctx.uow.tickets.timeline(ticket.id)
    answered = next((e for e in timeline if e.kind == "held_answered"
                     and (e.data or {}).get("message_id") == message_id), None)
    if answered is not None:
        # A second press (of either button) changes nothing, and says where it went.
        data = answered.data or {}
        if data.get("choice") == "new" and data.get("ref"):
            await ctx.answer(ctx.t("intake.held_already_new", ref=data["ref"]))
        else:
            await ctx.answer(ctx.t("intake.held_already_same", ref=ticket.ref))
        return None
    for entry in reversed(timeline):
        if entry.kind == "held" and (entry.data or {}).get("message_id") == message_id:
            return ticket, entry.data or {}, entry.body
    await ctx.answer(ctx.t("intake.held_gone"))
    return None


async def _mark_answered(ctx: Context, ticket: Ticket, message_id: str, choice: str,
                         ref: str) -> None:
    """Record which way a held message went, so a later press can say so."""
    assert ctx.person is not None
    await ctx.uow.tickets.add_event(ticket.id, "held_answered", ctx.now, author_id=ctx.person.id,
                                    message_id=message_id, choice=choice, ref=ref)


async def same_issue(ctx: Context) -> None:
    """The held message belongs to the open ticket."""
    held = await _held_message(ctx)
    ctx.handled = True
    if held is not None:
        ticket, data, text = held
        await _mark_answered(ctx, ticket, data.get("message_id", ""), "same", ticket.ref)
        await requester_wrote(ctx, ticket, text)
        await ctx.post(to_requester(ticket, ctx.t("intake.added_to", ref=ticket.ref)),
                       ticket_id=ticket.id)


async def new_issue(ctx: Context) -> None:
    """The held message is a new problem: open a ticket for it in its own thread."""
    held = await _held_message(ctx)
    ctx.handled = True
    if held is not None and ctx.person is not None:
        ticket, data, text = held
        opened = await open_ticket(ctx, ctx.person, text, channel_id=data["channel_id"],
                                   thread_id=data["message_id"],
                                   source_message_id=data["message_id"])
        await _mark_answered(ctx, ticket, data["message_id"], "new", opened.ref)


def register(router) -> None:
    """Thread messages and the same-or-new question come before opening a new ticket."""
    router.on_message(on_thread_message)
    router.on_message(ask_same_or_new)
    router.on_message(thanks_after_close)
    router.on_button("intake.same", same_issue)
    router.on_button("intake.new", new_issue)

