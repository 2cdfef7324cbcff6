"""Resolution the requester confirms: "Has this solved your problem?", then feedback.

Resolving never closes a ticket by itself. Yes closes it and asks how it went; no
reopens it with an apology and tells the owner; no answer earns one reminder and then
a close at a time announced in advance (both covered by the ledger sweeper).
"""

from __future__ import annotations

from datetime import timedelta

from bot.core import Button
from bot.domain.people import Role
from bot.domain.knowledge import TIP_TAG
from bot.domain.priority import Priority
from bot.domain.promises import PromiseKind
from bot.domain.tickets import Ticket, TicketAction, TicketStatus
from bot.desk.cards import queue_card
from bot.desk.context import Context
from bot.desk.notify import confirmation_buttons, tell_staff, to_person, to_requester
from bot.desk.quoting import defang, excerpt
from bot.desk.features.lookup import (
    change_status, load_ticket, load_visible_ticket, split_number, ticket_of_button, when_for,
)
from bot.desk.features.working import start_update_cadence


async def detach_from_incident(ctx: Context, ticket: Ticket, *,
                               resolved_only: bool = False) -> None:
    """Take ``ticket`` out of the incident it is linked to, if any (only a resolved
    one, if asked), and say so on its timeline (the caller gives it its own promise)."""
    incident_id = (await ctx.uow.incidents.links_of([ticket.id])).get(ticket.id)
    if incident_id is None:
        return
    incident = await ctx.uow.incidents.get(incident_id)
    if resolved_only and incident.is_open:
        return
    await ctx.uow.incidents.unlink(incident_id, [ticket.id])
    await ctx.uow.tickets.add_event(ticket.id, "incident_unlinked", ctx.now,
                                    author_id=ctx.person.id if ctx.person else None,
                                    incident=incident.ref)

COMMENT_WINDOW = timedelta(days=2)


async def resolve(ctx: Context) -> None:
    """``/ticket resolve <n> [summary]``: ask the requester to confirm."""
    number, summary = split_number(ctx.args, "usage.ticket_resolve")
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None
    ticket = await resolve_ticket(ctx, ticket, summary)
    requester = await ctx.uow.people.get(ticket.requester_id)
    await ctx.answer(ctx.t("resolution.resolved_agent", ref=ticket.ref, requester=requester.name))
    ctx.handled = True


async def resolve_ticket(ctx: Context, ticket: Ticket, summary: str, *,
                         words: str | None = None) -> Ticket:
    """Resolve ``ticket`` and ask its requester "Has this solved your problem?" with
    yes/no (``words``: the question in other words, such as an incident's resolution);
    the requester's confirmation becomes the promise the desk waits on."""
    assert ctx.person is not None and ctx.workspace is not None and ctx.policy is not None
    if ticket.owner_id is None:
        ticket = await ctx.uow.tickets.update(ticket.id, owner_id=ctx.person.id)
    ticket = await change_status(ctx, ticket, TicketAction.RESOLVE, resolved_at=ctx.now,
                                 first_response_at=ticket.first_response_at or ctx.now)
    await ctx.uow.promises.keep(ticket.id, "resolve", ctx.now)
    await ctx.uow.promises.keep(ticket.id, "reply", ctx.now)  # the resolution is an update
    await ctx.uow.promises.cancel(ticket.id, ctx.now)
    remind_at = ctx.policy.calendar.add_business_time(ctx.now, ctx.policy.confirmation.nudge_after)
    await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.AWAITING_CONFIRMATION,
                                remind_at, ctx.now, owner_id=ticket.owner_id)
    if summary:
        await ctx.uow.tickets.add_event(ticket.id, "resolution", ctx.now,
                                        author_id=ctx.person.id, body=summary)
    text = words or ctx.t("resolution.resolved", agent=ctx.person.name, ref=ticket.ref,
                          summary=f": “{defang(excerpt(summary))}”" if summary else "")
    await ctx.post(to_requester(ticket, text, confirmation_buttons(
        ticket, ctx.t("buttons.solved_yes"), ctx.t("buttons.solved_no"))), ticket_id=ticket.id)
    await queue_card(ctx, ticket)
    return ticket


async def _requesters_ticket(ctx: Context, *, must_be_resolved: bool = True,
                             not_solved: bool = False) -> Ticket | None:
    """The ticket a confirmation or rating button is about, if the presser asked for it."""
    ticket = await ticket_of_button(ctx, ctx.args)
    ctx.handled = True
    if ticket is None or ctx.person is None or ticket.requester_id != ctx.person.id:
        ref = ticket.ref if ticket else "this ticket"
        await ctx.answer(ctx.t("resolution.not_yours", ref=ref))
        return None
    if must_be_resolved and ticket.status is not TicketStatus.RESOLVED:
        if not_solved and ticket.status is TicketStatus.CLOSED:
            # "No, not yet" on a ticket already closed: not a thank-you for their "no",
            # but where to say what is still wrong (writing in its thread reopens it).
            await ctx.answer(ctx.t("resolution.closed_not_solved", ref=ticket.ref))
            return None
        await ctx.answer(ctx.t("resolution.already_answered", ref=ticket.ref,
                               status=ctx.policy.status(ticket.status)))
        return None
    return ticket


async def confirmed(ctx: Context) -> None:
    """The requester pressed "Yes, it's solved": close, thank, ask for a rating, tip."""
    ticket = await _requesters_ticket(ctx)
    if ticket is None:
        return
    ticket = await change_status(ctx, ticket, TicketAction.CONFIRM, closed_at=ctx.now)
    await ctx.uow.promises.keep(ticket.id, "requester_confirm", ctx.now)
    await ctx.uow.promises.cancel(ticket.id, ctx.now)
    ratings = tuple(Button(str(n), "feedback.rate", f"{ticket.id}:{n}", once=True)
                    for n in range(1, 6))
    text = ctx.t("resolution.yes", ref=ticket.ref) + "\n" + ctx.t("resolution.rating_question")
    await ctx.post(to_requester(ticket, text, ratings), ticket_id=ticket.id)
    tip = await bonus_tip(ticket, ctx)
    if tip:
        await ctx.post(to_requester(ticket, ctx.t("resolution.tip", tip=tip)), ticket_id=ticket.id)
    if ctx.policy.offer_transcript:
        await ctx.post(to_requester(ticket, ctx.t("transcript.offer", ref=ticket.ref), (
            Button(ctx.t("transcript.button"), "transcript.send", str(ticket.id)),)),
            ticket_id=ticket.id)
    if ticket.owner_id:
        owner = await ctx.uow.people.get(ticket.owner_id)
        await ctx.post(to_person(owner, ctx.t("resolution.confirmed_owner", ref=ticket.ref,
                                              requester=ctx.person.name), ticket),
                       ticket_id=ticket.id)
    await queue_card(ctx, ticket)


async def not_solved(ctx: Context) -> None:
    """The requester pressed "No, not yet": reopen with an apology, ask what is still
    wrong, and tell the owner."""
    ticket = await _requesters_ticket(ctx, not_solved=True)
    if ticket is not None:
        await ctx.uow.promises.keep(ticket.id, "requester_confirm", ctx.now)
        # Their problem was something else, or is not fixed: the ticket leaves its
        # incident, and the reopen gives it its own promise from now.
        await detach_from_incident(ctx, ticket)
        await reopen_ticket(ctx, ticket, action=TicketAction.REJECT_RESOLUTION)


async def reopen_ticket(ctx: Context, ticket: Ticket,
                        action: TicketAction = TicketAction.REOPEN, *,
                        words: str | None = None) -> None:
    """Back to work: tell the requester who reopened it and when they'll hear from us,
    tell the owner (or, with none, the agents), restart the cadence.

    Whoever acted (``ctx.person``) is the one named: the requester, by the "No, not yet"
    button (``REJECT_RESOLUTION``), by ``/ticket reopen`` or by writing in the thread
    of a closed ticket (``words``, passed on to the owner); or an agent, whose reopen is
    never put in the requester's mouth."""
    assert ctx.person is not None
    # Back to work on its own: a resolved incident keeps it no more (its card is its
    # own again, and the incident no longer lists it among those it solved).
    await detach_from_incident(ctx, ticket, resolved_only=True)
    ticket = await change_status(ctx, ticket, action, resolved_at=None, closed_at=None)
    await ctx.uow.promises.cancel(ticket.id, ctx.now, (PromiseKind.AWAITING_CONFIRMATION,))
    update = await start_update_cadence(ctx, ticket)
    requester = await ctx.uow.people.get(ticket.requester_id)
    owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
    by_requester = ctx.person.id == requester.id
    if action is TicketAction.REJECT_RESOLUTION:
        key = "resolution.no"
    elif by_requester:
        key = "resolution.reopened"
    elif owner is not None and owner.id == ctx.person.id:
        key = "resolution.reopened_by_owner"
    else:
        key = "resolution.reopened_by_agent"
    fields = dict(ref=ticket.ref, owner=owner.name if owner else "", agent=ctx.person.name,
                  requester=requester.name)
    await ctx.post(to_requester(ticket, ctx.t(
        key if owner else key + "_unowned", **fields,
        next=when_for(ctx, update.due_at, requester))), ticket_id=ticket.id)
    if owner is not None and owner.id == ctx.person.id:
        await queue_card(ctx, ticket)
        return
    key = ("resolution.no_owner" if action is TicketAction.REJECT_RESOLUTION
           else "resolution.reopened_owner" if by_requester
           else "resolution.reopened_by_agent_owner")
    text = ctx.t(key, **fields, next=when_for(ctx, update.due_at, owner))
    if words:
        text += "\n" + ctx.t("intake.requester_said", requester=requester.name,
                             text=defang(excerpt(words)))
    await tell_staff(ctx, ticket, owner, text)
    await queue_card(ctx, ticket)


async def reopen(ctx: Context) -> None:
    """``/ticket reopen <n>``: for agents, and for the requester on their own ticket."""
    number, _ = split_number(ctx.args, "usage.ticket_reopen")
    # Someone else's ticket is answered as one that does not exist.
    ticket = await load_visible_ticket(ctx, number)
    ctx.handled = True
    await reopen_ticket(ctx, ticket)
    await ctx.answer(ctx.t("resolution.reopened_agent", ref=ticket.ref))


async def rated(ctx: Context) -> None:
    """A 1-5 rating after closing; then an optional free-text comment. A ticket is
    rated once: a second press is answered, not recorded."""
    ticket = await _requesters_ticket(ctx, must_be_resolved=False)
    rating = ctx.args.partition(":")[2]
    if ticket is None or not rating.isdigit() or not 1 <= int(rating) <= 5:
        return
    given = await _rating_of(ctx, ticket)
    if given is not None:
        await ctx.answer(ctx.t("resolution.already_rated", ref=ticket.ref, rating=given))
        return
    await ctx.uow.tickets.add_event(ticket.id, "feedback", ctx.now, author_id=ctx.person.id,
                                    body=rating, rating=int(rating), owner_id=ticket.owner_id)
    await ctx.post(to_requester(ticket, ctx.t("resolution.rated", rating=rating)),
                   ticket_id=ticket.id)


async def _rating_of(ctx: Context, ticket: Ticket) -> int | None:
    """The rating the requester gave ``ticket`` since it was last closed, if any."""
    rating = None
    for entry in await ctx.uow.tickets.timeline(ticket.id):
        if entry.kind == "status" and entry.body != TicketStatus.CLOSED.value:
            rating = None  # reopened: a new close may be rated again
        elif entry.kind == "feedback" and (entry.data or {}).get("rating") is not None:
            rating = int(entry.data["rating"])
    return rating


async def record_comment_if_expected(ctx: Context, ticket: Ticket, text: str) -> bool:
    """After a rating, the requester's next words in the thread are their comment; it
    goes to the owner (or, with none, the agents' thread), and the thanks say where."""
    assert ctx.person is not None
    timeline = await ctx.uow.tickets.timeline(ticket.id)
    feedback = [e for e in timeline if e.kind == "feedback"]
    if not feedback or (feedback[-1].data or {}).get("comment") is not None:
        return False
    if ctx.now - feedback[-1].created_at > COMMENT_WINDOW:
        return False
    await ctx.uow.tickets.add_event(ticket.id, "feedback", ctx.now, author_id=ctx.person.id,
                                    body=text, comment=text, owner_id=ticket.owner_id)
    owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
    passed = ctx.t("resolution.comment_owner", requester=ctx.person.name, ref=ticket.ref,
                   rating=feedback[-1].body, text=defang(excerpt(text)))
    told = await tell_staff(ctx, ticket, owner, passed)
    await ctx.post(to_requester(ticket, ctx.t("resolution.comment_thanks" + told,
                                              owner=owner.name if owner else "",
                                              ref=ticket.ref)), ticket_id=ticket.id)
    return True


async def bonus_tip(ticket: Ticket, ctx: Context) -> str | None:
    """One relevant tip, unless the ticket was P1 or the requester said they're in a hurry.

    Tips are the knowledge base's articles tagged ``tip`` (never an internal one): the
    one closest to the ticket's words, or else the first. A desk with no tip articles
    yet keeps the keyword tips of ``config/tips.toml``."""
    if ticket.priority is Priority.P1 or ticket.in_a_hurry:
        return None
    words = f"{ticket.subject} {ticket.first_message}".lower()
    related = await ctx.uow.kb.search(ticket.workspace_id, words, limit=1, tag=TIP_TAG)
    if related:
        return related[0].article.summary
    any_tip = await ctx.uow.kb.first_tagged(ticket.workspace_id, TIP_TAG)
    if any_tip is not None:
        return any_tip.summary
    tips = ctx.desk.tips
    for keywords, text in tips:
        if keywords and any(k in words for k in keywords):
            return text
    return next((text for keywords, text in tips if not keywords), None)


def register(router) -> None:
    """Wire resolution into the router."""
    router.on_command("ticket", "resolve", resolve, role=Role.AGENT,
                      description="commands.ticket_resolve")
    router.on_command("ticket", "reopen", reopen, description="commands.ticket_reopen")
    router.on_button("resolution.yes", confirmed)
    router.on_button("resolution.no", not_solved)
    router.on_button("feedback.rate", rated)
