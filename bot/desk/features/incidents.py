"""Major incidents: one problem, many people, one honest voice.

``/incident declare|link|unlink|update|resolve|list|show`` for agents. Linking a
ticket releases its own first-response and status-update promises (kept by the
incident): its requester holds the incident's one promise, its next update, owned by
the incident lead, which the ledger covers once for everyone if it lapses
(bot/ledger/incident_covers.py). Unlinking gives the ticket its own promise again, from
now. A new message that looks like an open incident is still a ticket, but its
acknowledgement names the incident and asks "Is this what you're seeing?".
"""

from __future__ import annotations

import logging

from bot.core import Button, OutboundMessage
from bot.domain.errors import DomainError, Unreadable
from bot.domain.incidents import (
    Incident, looks_like, parse_ref, read_ticket_numbers, signature, split_declare, split_next,
)
from bot.domain.people import Person, Role
from bot.domain.priority import Priority
from bot.domain.promises import PromiseKind
from bot.domain.tickets import Ticket, UnknownTicket, read_row_id
from bot.domain.timefmt import stated_minute
from bot.desk.broadcast import broadcast
from bot.desk.cards import queue_card, queue_cards, queue_incident_card
from bot.desk.context import BadInput, Context
from bot.desk.incident_teams import offered_to
from bot.desk.notify import to_requester
from bot.desk.quoting import defang, excerpt
from bot.desk.features.admin import describe_hours
from bot.desk.features.lookup import NotTheirTeam, load_ticket, ticket_of_button, when_for
from bot.desk.features.resolution import resolve_ticket

logger = logging.getLogger(__name__)

TITLE_LIMIT = 200
# An update goes to every requester and the status channel: it must fit one message
# on every platform (Discord's is 2,000 characters) with the desk's words around it,
# not arrive in pieces in hundreds of threads.
UPDATE_LIMIT = 1500
# The incident's promise: the P1 update interval unless the lead names a time.
INCIDENT_PRIORITY = Priority.P1


# -- reading the commands -------------------------------------------------------------

def _split_ref(ctx: Context, usage: str) -> tuple[int, str]:
    first, _, rest = ctx.args.strip().partition(" ")
    if not first:
        raise BadInput("input.need_incident_ref", usage)
    try:
        return parse_ref(first), rest.strip()
    except Unreadable as error:
        raise BadInput.unreadable(error, usage) from None


async def _load(ctx: Context, number: int) -> Incident:
    assert ctx.workspace is not None
    incident = await ctx.uow.incidents.by_number(ctx.workspace.id, number)
    if incident is None:
        raise DomainError("incident.unknown", number=number)
    return incident


def _numbers(text: str, usage: str) -> list[int]:
    try:
        return read_ticket_numbers(text)
    except Unreadable as error:
        raise BadInput.unreadable(error, usage) from None


def _fits_one_message(text: str, usage: str) -> None:
    """Refuse words broadcast to everyone that would not fit one message."""
    if len(text) > UPDATE_LIMIT:
        raise BadInput("input.incident_update_too_long", usage, limit=UPDATE_LIMIT,
                       length=len(text))


def _must_be_open(incident: Incident) -> None:
    if not incident.is_open:
        raise DomainError("incident.not_open", incident=incident.ref)


async def _next_due(ctx: Context):
    assert ctx.policy is not None
    return ctx.policy.sla.update_deadline(INCIDENT_PRIORITY, ctx.now,
                                          ctx.policy.calendar).due_at


# -- linking --------------------------------------------------------------------------

async def link_tickets(ctx: Context, incident: Incident, tickets: list[Ticket], *,
                       tell: bool = True) -> dict[str, list]:
    """Link ``tickets`` to ``incident``: each one's own update promises are kept by the
    incident, its timeline says so and its requester is told which promise they hold
    now (unless ``tell`` is False: the requester linked it themselves and is answered
    privately, which spends none of the workspace's posting budget). Returns the
    tickets by outcome: linked, already (here), elsewhere (another
    incident's: refs of both), done (not being worked any more)."""
    assert ctx.workspace is not None
    outcome, fresh = await _sort_out(ctx, incident.id, tickets)
    if not fresh:
        return outcome
    waited = await ctx.uow.incidents.link(incident.id, [t.id for t in fresh], ctx.now)
    # The cards that counted them as waiting for an answer count them as linked now.
    for counted in (await ctx.uow.incidents.many(waited)).values():
        await queue_incident_card(ctx.uow, ctx.workspace, counted, ctx.now)
    await ctx.uow.incidents.release_ticket_promises([t.id for t in fresh], ctx.now)
    promise = await ctx.uow.incidents.promise(incident.id)
    people = await ctx.uow.people.many({t.requester_id for t in fresh})
    assert ctx.policy is not None
    calendar = ctx.policy.calendar
    for ticket in fresh:
        await ctx.uow.tickets.add_event(ticket.id, "incident_linked", ctx.now,
                                        author_id=ctx.person.id if ctx.person else None,
                                        incident=incident.ref)
        requester = people[ticket.requester_id]
        if tell:
            key = "incident.linked_requester" if promise else "incident.linked_requester_no_time"
            opens = ""
            if promise and not calendar.is_open(ctx.now):
                key = "incident.linked_requester_closed"  # nobody is "working on it now"
                opens = when_for(ctx, calendar.next_opening(ctx.now), requester)
            await ctx.post(to_requester(ticket, ctx.t(
                key, ref=ticket.ref, incident=incident.ref, title=defang(incident.title),
                next=when_for(ctx, promise.due_at, requester) if promise else "",
                opens=opens)), ticket_id=ticket.id)
        if ticket.triage_message_id is not None:
            # Its card now names the incident; a ticket that joined at intake has no
            # card of its own to redraw (the incident counts it).
            await queue_card(ctx, ticket)
        outcome["linked"].append(ticket.ref)
    return outcome


async def _sort_out(ctx: Context, incident_id: int | None,
                    tickets: list[Ticket]) -> tuple[dict[str, list], list[Ticket]]:
    """``tickets`` by what linking them to ``incident_id`` would do, and those it would
    link. A ticket no longer worked is "done" whatever incident it was in: advice to
    unlink it from a resolved incident could not be followed."""
    links = await ctx.uow.incidents.links_of([t.id for t in tickets])
    outcome: dict[str, list] = {"linked": [], "already": [], "elsewhere": [], "done": []}
    fresh = []
    for ticket in tickets:
        if incident_id is not None and links.get(ticket.id) == incident_id:
            outcome["already"].append(ticket.ref)
        elif not ticket.status.is_active:
            outcome["done"].append(ticket.ref)
        elif ticket.id in links:
            other = await ctx.uow.incidents.get(links[ticket.id])
            outcome["elsewhere"].append(ctx.t("incident.in_other", ref=ticket.ref,
                                              incident=other.ref))
        else:
            fresh.append(ticket)
    return outcome, fresh


async def _tickets(ctx: Context, numbers: list[int]) -> list[Ticket]:
    """The tickets numbered, every one checked before anything changes; a missing one
    is refused in an agent's words (the requesters' hint, `/ticket mine`, is no help)."""
    tickets = []
    for number in numbers:
        try:
            # An incident is the whole desk's, but a ticket in it is still its team's:
            # linking one (or unlinking it) changes what its requester is told and what
            # its team is promised, so it needs work in the ticket's team, as every
            # other act on it does (RECHECK-20 N2; admins excepted).
            tickets.append(await load_ticket(ctx, number))
        except UnknownTicket as error:
            raise DomainError("incident.unknown_ticket", **error.fields) from None
        except NotTheirTeam as error:
            raise DomainError("incident.not_their_team", **error.fields) from None
    return tickets


def _outcome_lines(ctx: Context, incident: Incident | None,
                   outcome: dict[str, list]) -> list[str]:
    lines = []
    if outcome["linked"]:
        lines.append(ctx.t("incident.linked", refs=ctx.join(outcome["linked"]),
                           incident=incident.ref))
    if outcome["already"]:
        lines.append(ctx.t("incident.already_linked", refs=ctx.join(outcome["already"]),
                           incident=incident.ref))
    lines += outcome["elsewhere"]
    if outcome["done"]:
        lines.append(ctx.t("incident.not_linked_done", refs=ctx.join(outcome["done"])))
    return lines


# -- commands -------------------------------------------------------------------------

async def declare(ctx: Context) -> None:
    """``/incident declare <title> [from <n...>]``: open INC-N, led by the declarer."""
    title, numbers = split_declare(ctx.args)
    if not title:
        raise BadInput("input.need_incident_title", "usage.incident_declare")
    if len(title) > TITLE_LIMIT:
        raise BadInput("input.incident_title_too_long", "usage.incident_declare",
                       limit=TITLE_LIMIT, length=len(title))
    tickets = await _tickets(ctx, numbers)  # every number checked before anything changes
    if tickets:
        outcome, fresh = await _sort_out(ctx, None, tickets)
        if not fresh:
            # An incident linked to nobody would be announced with a promise that lapses
            # and is apologised for: nothing is declared, and each ticket is explained.
            await ctx.answer("\n".join([ctx.t("incident.nothing_to_link")]
                                       + _outcome_lines(ctx, None, outcome)))
            ctx.handled = True
            return
    await declare_from(ctx, title, tickets)
    ctx.handled = True


async def declare_from(ctx: Context, title: str, tickets: list[Ticket]) -> Incident:
    """Open INC-N titled ``title``, led by whoever acted, with ``tickets`` linked; the
    status channel hears of it and the declarer is told what happened."""
    assert ctx.workspace is not None and ctx.person is not None
    incident = await ctx.uow.incidents.declare(ctx.workspace.id, title, ctx.person.id, ctx.now)
    due = await _next_due(ctx)
    await ctx.uow.incidents.promise_next(ctx.workspace.id, incident.id, due, ctx.now,
                                         owner_id=ctx.person.id)
    outcome = await link_tickets(ctx, incident, tickets)
    status = await ctx.uow.workspaces.channels(ctx.workspace.id, "status")
    if status:
        await ctx.post(_to_status(status[0], ctx.t(
            "incident.declared_status", incident=incident.ref, title=defang(incident.title),
            lead=ctx.person.name, next=when_for(ctx, stated_minute(due)))))
    lines = [ctx.t("incident.declared", incident=incident.ref, title=defang(title),
                   next=when_for(ctx, stated_minute(due)))]
    await ctx.answer("\n".join(lines + _outcome_lines(ctx, incident, outcome)))
    return incident


async def link(ctx: Context) -> None:
    """``/incident link INC-N <n...>``"""
    number, rest = _split_ref(ctx, "usage.incident_link")
    numbers = _numbers(rest, "usage.incident_link")
    incident = await _load(ctx, number)
    _must_be_open(incident)
    outcome = await link_tickets(ctx, incident, await _tickets(ctx, numbers))
    await ctx.answer("\n".join(_outcome_lines(ctx, incident, outcome)))
    ctx.handled = True


async def unlink(ctx: Context) -> None:
    """``/incident unlink INC-N <n...>``: each ticket gets its own promise again, from now."""
    assert ctx.workspace is not None and ctx.policy is not None
    number, rest = _split_ref(ctx, "usage.incident_unlink")
    numbers = _numbers(rest, "usage.incident_unlink")
    incident = await _load(ctx, number)
    tickets = await _tickets(ctx, numbers)
    links = await ctx.uow.incidents.links_of([t.id for t in tickets])
    mine = [t for t in tickets if links.get(t.id) == incident.id]
    others = [t.ref for t in tickets if links.get(t.id) != incident.id]
    await ctx.uow.incidents.unlink(incident.id, [t.id for t in mine])
    for ticket in mine:
        await ctx.uow.tickets.add_event(ticket.id, "incident_unlinked", ctx.now,
                                        author_id=ctx.person.id if ctx.person else None,
                                        incident=incident.ref)
        if not ticket.status.is_active:
            continue
        due = await own_promise_again(ctx, ticket)
        requester = await ctx.uow.people.get(ticket.requester_id)
        await ctx.post(to_requester(ticket, ctx.t(
            "incident.unlinked_requester", ref=ticket.ref, incident=incident.ref,
            next=when_for(ctx, due, requester))), ticket_id=ticket.id)
        await queue_card(ctx, ticket)
    lines = []
    for key, group in (("incident.unlinked", [t for t in mine if t.status.is_active]),
                       ("incident.unlinked_done", [t for t in mine if not t.status.is_active])):
        if group:
            lines.append(ctx.t(key + ("_one" if len(group) == 1 else ""),
                               refs=ctx.join(t.ref for t in group), incident=incident.ref))
    if others:
        lines.append(ctx.t("incident.was_not_linked", refs=ctx.join(others),
                           incident=incident.ref))
    await ctx.answer("\n".join(lines))
    ctx.handled = True


async def own_promise_again(ctx: Context, ticket: Ticket):
    """A ticket leaving an incident holds its own promise again, from now: a first
    response if nobody has answered it yet, else the next status update. Returns its
    due time."""
    assert ctx.workspace is not None and ctx.policy is not None
    sla, calendar = ctx.policy.sla, ctx.policy.calendar
    if ticket.first_response_at is None:
        kind = PromiseKind.FIRST_RESPONSE
        deadline = sla.first_response_deadline(ticket.priority, ctx.now, calendar)
    else:
        kind = PromiseKind.STATUS_UPDATE
        deadline = sla.update_deadline(ticket.priority, ctx.now, calendar)
    promise = await ctx.uow.promises.make(ctx.workspace.id, ticket.id, kind, deadline.due_at,
                                          ctx.now, owner_id=ticket.owner_id,
                                          warn_at=deadline.warn_at)
    return promise.due_at


async def post_update(ctx: Context) -> None:
    """``/incident update INC-N <text> [next <when>]``: one update to everyone affected."""
    assert ctx.workspace is not None and ctx.person is not None and ctx.policy is not None
    number, rest = _split_ref(ctx, "usage.incident_update")
    incident = await _load(ctx, number)
    _must_be_open(incident)
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    try:
        text, when = split_next(rest, ctx.now, tz, ctx.policy.calendar)
    except Unreadable as error:
        raise BadInput.unreadable(error, "usage.incident_update") from None
    if not text:
        raise BadInput("input.need_update_text", "usage.incident_update")
    _fits_one_message(text, "usage.incident_update")
    due = stated_minute(when.at if when is not None else await _next_due(ctx))
    previous = await ctx.uow.incidents.promise(incident.id)
    await ctx.uow.incidents.keep_promise(incident.id, ctx.now)
    await ctx.uow.incidents.promise_next(ctx.workspace.id, incident.id, due, ctx.now,
                                         owner_id=incident.owner_id,
                                         parent_id=previous.id if previous else None)
    await ctx.uow.incidents.add_update(incident.id, text, ctx.now, author_id=ctx.person.id,
                                       next_due_at=due)
    tickets = await ctx.uow.incidents.tickets(incident.id, active_only=True)
    said = defang(excerpt(text))
    policy, now = ctx.policy, ctx.now

    def words_for(ticket: Ticket, requester: Person) -> str:
        return policy.templates.render(
            "incident.update_requester", incident=incident.ref, title=defang(incident.title),
            ref=ticket.ref, text=said,
            next=policy.when(due, now, requester.reads_in(policy.calendar.timezone)))

    reached = await broadcast(ctx.uow, ctx.workspace, incident, tickets, words_for, ctx.t(
        "incident.update_status", incident=incident.ref, title=defang(incident.title),
        text=said, next=when_for(ctx, due)), ctx.now, timeline_body=text,
        author_id=ctx.person.id)
    await ctx.answer(ctx.t("incident.update_sent", incident=incident.ref, count=reached,
                           next=when_for(ctx, due)) + _how_next_was_read(ctx, when, due))
    ctx.handled = True


def _how_next_was_read(ctx: Context, when, due) -> str:
    """What the lead is told after the update about how their ``next`` was read, as
    ``/ticket followup`` tells an agent: a span counts in the desk's open hours, so
    "next 30m" on a Saturday is Monday morning; a clock time outside the hours is kept
    (it is theirs) but said to be outside them. Nothing when it reads as they'd expect."""
    assert ctx.policy is not None
    if when is None:
        return ""
    calendar = ctx.policy.calendar
    hours = describe_hours(calendar, ctx.policy.templates)
    if when.span is not None:
        if when.at == ctx.now + when.span:
            return ""
        return " " + ctx.t("work.followup_business_time", span=when.written, hours=hours,
                           due=when_for(ctx, due))
    if calendar.is_in_hours(due):
        return ""
    return " " + ctx.t("work.followup_outside_hours", hours=hours)


async def resolve(ctx: Context) -> None:
    """``/incident resolve INC-N [summary]``: every linked ticket is resolved and its
    requester asked "Has this solved your problem?"; a "no" detaches that ticket."""
    assert ctx.workspace is not None and ctx.person is not None
    number, summary = _split_ref(ctx, "usage.incident_resolve")
    _fits_one_message(summary, "usage.incident_resolve")
    incident = await _load(ctx, number)
    _must_be_open(incident)
    tickets = await ctx.uow.incidents.tickets(incident.id, active_only=True)
    people = await ctx.uow.people.many({t.requester_id for t in tickets})
    # The sentence ends after the quote: a summary's own full stop would double it.
    said = f": “{defang(excerpt(summary.rstrip('.')))}”" if summary.rstrip(".") else ""
    for ticket in tickets:
        await resolve_ticket(ctx, ticket, summary, words=ctx.t(
            "incident.resolved_requester", incident=incident.ref, title=defang(incident.title),
            ref=ticket.ref, summary=said, requester=people[ticket.requester_id].name))
    # The reports still waiting to answer "Is this what you're seeing?" stay ordinary
    # tickets owed a reply: with the incident over, each gets its own card.
    _, waiting = await ctx.uow.incidents.offered(incident.id)
    await queue_cards(ctx.uow, ctx.now, [(ctx.workspace, t) for t in waiting])
    await ctx.uow.incidents.cancel_promise(incident.id, ctx.now)
    resolved = await ctx.uow.incidents.resolve(incident.id, summary, ctx.now)
    await queue_incident_card(ctx.uow, ctx.workspace, resolved, ctx.now)
    await ctx.uow.incidents.add_update(incident.id, summary, ctx.now, author_id=ctx.person.id,
                                       next_due_at=None, kind="resolved")
    status = await ctx.uow.workspaces.channels(ctx.workspace.id, "status")
    if status:
        await ctx.post(_to_status(status[0], ctx.t(
            "incident.resolved_status", incident=incident.ref, title=defang(incident.title),
            summary=said)))
    await ctx.answer(ctx.t("incident.resolved", incident=incident.ref, count=len(tickets)))
    ctx.handled = True


async def listing(ctx: Context) -> None:
    """``/incident list``: the workspace's incidents, newest first."""
    assert ctx.workspace is not None
    incidents = await ctx.uow.incidents.listed(ctx.workspace.id)
    if not incidents:
        await ctx.answer(ctx.t("incident.none"))
        ctx.handled = True
        return
    ids = [i.id for i in incidents]
    counts = await ctx.uow.incidents.counts(ids)
    promises = await ctx.uow.incidents.promises(ids)
    owners = await ctx.uow.people.many({i.owner_id for i in incidents})
    lines = [ctx.t("incident.list_header")]
    for incident in incidents:
        promise = promises.get(incident.id)
        lines.append(ctx.t(
            "incident.list_line", incident=incident.ref, title=defang(incident.title),
            status=ctx.t(f"incident.status_{incident.status.value}"),
            lead=owners[incident.owner_id].name, count=counts.get(incident.id, 0),
            next=ctx.t("incident.next", next=when_for(ctx, promise.due_at)) if promise else ""))
    await ctx.answer("\n".join(lines))
    ctx.handled = True


async def show(ctx: Context) -> None:
    """``/incident show INC-N``: title, lead, status, linked tickets, updates, next time."""
    number, _ = _split_ref(ctx, "usage.incident_show")
    incident = await _load(ctx, number)
    tickets = await ctx.uow.incidents.tickets(incident.id)
    promise = await ctx.uow.incidents.promise(incident.id)
    updates = await ctx.uow.incidents.updates(incident.id)
    authors = await ctx.uow.people.many({u.author_id for u in updates if u.author_id}
                                        | {incident.owner_id})
    lines = [ctx.t("incident.show", incident=incident.ref, title=defang(incident.title),
                   status=ctx.t(f"incident.status_{incident.status.value}"),
                   lead=authors[incident.owner_id].name,
                   tickets=ctx.join(t.ref for t in tickets) or ctx.t("incident.no_tickets"))]
    if promise is not None:
        lines.append(ctx.t("incident.show_next", next=when_for(ctx, promise.due_at)))
    # The reports asked about it and not answered yet: ordinary tickets owed a reply.
    waiting, asked = await ctx.uow.incidents.offered(incident.id)
    if waiting:
        lines.append(ctx.t("incident.show_waiting", count=waiting,
                           refs=ctx.join(t.ref for t in asked)))
    for item in updates:
        who = authors[item.author_id].name if item.author_id else ctx.t("incident.the_desk")
        lines.append(ctx.t(f"incident.show_{item.kind}", who=who,
                           when=when_for(ctx, item.created_at),
                           text=defang(excerpt(item.body, 500)) if item.body else ""))
    await ctx.answer("\n".join(lines))
    ctx.handled = True


def _to_status(channel: str, text: str) -> OutboundMessage:
    """A message in the workspace's status channel, where everyone can follow incidents."""
    return OutboundMessage(channel_id=channel, text=text, audience="agents")


# -- intake during an incident ----------------------------------------------------------

async def known_problem(ctx: Context, text: str) -> Incident | None:
    """The open incident a new message looks like, if any (its words against each open
    incident's title, analysed as the knowledge base analyses text), among those of the
    new ticket's team (``ctx.team``; every incident in a workspace of one team:
    bot/desk/incident_teams.py). One small query for the workspace's open incidents,
    and one more per incident whose words match: cheap enough for every new ticket."""
    assert ctx.workspace is not None
    if not ctx.workspace.incidents_declared:
        return None  # a desk that has never declared one (most days): nothing to read
    for incident in await ctx.uow.incidents.listed(ctx.workspace.id, open_only=True, limit=10):
        if looks_like(text, signature(incident.title)) and \
                await offered_to(ctx.uow, ctx.workspace, incident, ctx.team):
            return incident
    return None


async def known_problem_words(ctx: Context, incident: Incident, ticket: Ticket,
                              requester: Person) -> tuple[str, tuple[Button, ...]]:
    """What the acknowledgement adds when a new ticket looks like ``incident``: that
    the problem is known, the latest update and the next one's time, and "Is this what
    you're seeing?" with Yes / No, something else."""
    latest = (await ctx.uow.incidents.latest_updates([incident.id])).get(incident.id)
    promise = await ctx.uow.incidents.promise(incident.id)
    parts = [ctx.t("incident.known", incident=incident.ref, title=defang(incident.title))]
    if latest is not None:
        parts.append(ctx.t("incident.known_latest", text=defang(excerpt(latest.body, 500))))
    if promise is not None:
        parts.append(ctx.t("incident.known_next", next=when_for(ctx, promise.due_at, requester)))
    parts.append(ctx.t("incident.known_question"))
    value = f"{ticket.id}:{incident.id}"
    return "\n".join(parts), (
        Button(ctx.t("buttons.incident_yes"), "incident.yes", value, "primary", once=True),
        Button(ctx.t("buttons.incident_no"), "incident.no", value, once=True))


async def _pressed(ctx: Context) -> tuple[Ticket, Incident] | None:
    ticket = await ticket_of_button(ctx, ctx.args)
    ctx.handled = True
    if ticket is None or ctx.person is None or ticket.requester_id != ctx.person.id:
        await ctx.answer(ctx.t("incident.question_not_yours"))
        return None
    # A stale or forged value names no incident: answered, never a database error.
    incident_id = read_row_id(ctx.args.partition(":")[2])
    incident = (await ctx.uow.incidents.many({incident_id})).get(incident_id) \
        if incident_id is not None else None
    if incident is None:
        await ctx.answer(ctx.t("incident.question_not_yours"))
        return None
    if incident.workspace_id != ticket.workspace_id:
        await ctx.answer(ctx.t("incident.question_not_yours"))
        return None
    # The first answer stands: a Yes after No (or a No after Yes) would tell them two
    # contradicting things, one of them in a thread others may read.
    if await _answered(ctx, ticket, incident):
        await ctx.answer(ctx.t("incident.already_answered", ref=ticket.ref))
        return None
    return ticket, incident


async def _answered(ctx: Context, ticket: Ticket, incident: Incident) -> bool:
    """Whether ``ticket``'s requester has answered the question about ``incident``
    already: it is linked to an incident, or its timeline holds their No."""
    if (await ctx.uow.incidents.links_of([ticket.id])).get(ticket.id) is not None:
        return True
    return any(e.kind == "incident_declined" and (e.data or {}).get("incident") == incident.ref
               for e in await ctx.uow.tickets.timeline(ticket.id))


async def yes_same(ctx: Context) -> None:
    """"Yes": the ticket joins the incident and holds its promise."""
    pressed = await _pressed(ctx)
    if pressed is None:
        return
    ticket, incident = pressed
    if not incident.is_open:
        await ctx.answer(ctx.t("incident.already_resolved_yes", incident=incident.ref,
                               ref=ticket.ref))
        return
    outcome = await link_tickets(ctx, incident, [ticket], tell=False)
    if not outcome["linked"]:
        await ctx.answer(ctx.t("incident.already_answered", ref=ticket.ref))
        return
    # Privately, where they pressed: in a storm every requester presses at once, and
    # an answer costs none of the workspace's posting budget the acknowledgements need.
    promise = await ctx.uow.incidents.promise(incident.id)
    await ctx.answer(ctx.t(
        "incident.yes_linked" if promise else "incident.yes_linked_no_time", ref=ticket.ref,
        incident=incident.ref, next=when_for(ctx, promise.due_at) if promise else ""))


async def no_else(ctx: Context) -> None:
    """"No, something else": the ticket stays an ordinary ticket with its own promise."""
    pressed = await _pressed(ctx)
    if pressed is None:
        return
    ticket, incident = pressed
    promise = next((p for p in await ctx.uow.promises.open_for_ticket(ticket.id)
                    if p.kind in (PromiseKind.FIRST_RESPONSE, PromiseKind.STATUS_UPDATE,
                                  PromiseKind.FOLLOW_UP)), None)
    requester = await ctx.uow.people.get(ticket.requester_id)
    await ctx.uow.tickets.add_event(ticket.id, "incident_declined", ctx.now,
                                    author_id=ctx.person.id if ctx.person else None,
                                    incident=incident.ref)
    await ctx.post(to_requester(ticket, ctx.t(
        "incident.not_it" if promise else "incident.not_it_no_time", ref=ticket.ref,
        next=when_for(ctx, promise.due_at, requester) if promise else "")), ticket_id=ticket.id)
    await queue_card(ctx, ticket)


def register(router) -> None:
    """Wire the incident commands and the intake question's buttons into the router."""
    for word, handler in (
        ("declare", declare),
        ("link", link),
        ("unlink", unlink),
        ("update", post_update),
        ("resolve", resolve),
        ("list", listing),
        ("show", show),
    ):
        router.on_command("incident", word, handler, role=Role.AGENT,
                          description=f"commands.incident_{word}")
    # Anyone may ask: a requester is told what incidents mean for them, never the
    # agents' commands.
    router.on_command("incident", "help", incident_help,
                      description="commands.incident_help")
    router.on_button("incident.yes", yes_same)
    router.on_button("incident.no", no_else)


async def incident_help(ctx: Context) -> None:
    """``/incident help``: the commands for agents; for anyone else, what an incident
    means for their ticket and where to follow it."""
    assert ctx.workspace is not None
    if ctx.role.at_least(Role.AGENT):
        await ctx.answer(ctx.t("help.incident"))
    else:
        status = await ctx.uow.workspaces.channels(ctx.workspace.id, "status")
        await ctx.answer(ctx.t("help.incident_requester", status=ctx.t(
            "help.incident_requester_status", channel=status[0]) if status else ""))
    ctx.handled = True
