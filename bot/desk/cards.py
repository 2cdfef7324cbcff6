"""The ticket card agents see in the triage channel: asked for on every change, drawn
when it is sent.

A change to a ticket queues a ``card`` outbox row in the same transaction as the change
(:func:`queue_cards`); the row says which ticket's card to draw, and where. The card
itself is drawn by :class:`CardRenderer` at the moment the dispatcher sends it
(bot/outbox/card_delivery.py, which the composition root gives the renderer), from the
ticket as it stands then: its status, owner, next open promise and the requester's
history. So a card is never older than what it shows, a burst of changes to a ticket
costs one drawing, and drawing thousands of cards after a burst of lapses is off the
path of the requesters' updates. The dispatcher posts the first card and edits that
message ever after; only the newest queued card of a ticket is sent.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core import Button, FormField, OutboundMessage
from bot.desk.policy import Desk, DeskPolicy, Policies
from bot.domain.incidents import Incident
from bot.domain.knowledge import SUGGEST_THRESHOLD, Article
from bot.domain.people import Person, Workspace
from bot.domain.promises import PromiseKind
from bot.domain.tickets import Ticket, TicketStatus
from bot.desk.context import Context
from bot.desk.quoting import defang, excerpt
from bot.storage.outbox_repository import NewPost
from bot.storage.uow import UnitOfWork

CARD_TEXT_LIMIT = 2500
CARD_ARTICLES = 3
HISTORY_SIZE = 5
# An incident's card is redrawn at most this often: in a storm its count changes with
# every report and every answer, and agents need a count, not a flicker (Slack's
# chat.update allows about 50 a minute for the whole workspace).
INCIDENT_CARD_PACE = timedelta(seconds=30)
# A drawing due this soon is left to show a change too: it is drawn when it is sent,
# which is after the change's transaction has committed.
INCIDENT_CARD_MARGIN = timedelta(seconds=2)
# The reports waiting for an answer named on the incident's card; the rest are counted.
INCIDENT_CARD_REFS = 25


async def queue_card(ctx: Context, ticket: Ticket) -> None:
    """Queue the ticket's card for the triage channel, if the workspace has one."""
    assert ctx.workspace is not None
    await queue_cards(ctx.uow, ctx.now, [(ctx.workspace, ticket)])


async def queue_cards(uow: UnitOfWork, now: datetime,
                      tickets: list[tuple[Workspace, Ticket]]) -> int:
    """Queue the cards of ``tickets`` (each with its workspace) whose workspace has a
    triage channel; returns how many. Three statements whatever their number."""
    def team_of(workspace: Workspace, ticket: Ticket) -> int | None:
        team = workspace.team(ticket.team_id)
        return team.id if team is not None else None

    # A report asked about an incident and not answered is counted on the incident's
    # card; whatever changes it now (an agent acting on it, its requester writing, a
    # lapse, a No) brings it out of that shadow with a card of its own, and the
    # incident's card counts one fewer.
    shadowed = [t.id for _, t in tickets if t.offered_incident_id is not None]
    if shadowed:
        left = await uow.incidents.leave_shadow(shadowed)
        workspace_of = {t.offered_incident_id: w for w, t in tickets}
        for incident in (await uow.incidents.many(left)).values():
            await queue_incident_card(uow, workspace_of[incident.id], incident, now)
    # Each ticket's card goes to its team's triage channel (bot/domain/teams.py).
    triage = await uow.workspaces.triage_of_teams(
        {team_of(w, t) for w, t in tickets}, {w.id: w for w, _ in tickets})
    wanted = [(w, t) for w, t in tickets if t.triage_channel_id or team_of(w, t) in triage]
    for team_id, channel_id in triage.items():
        await uow.tickets.place_in_triage(
            {t.id for w, t in wanted if team_of(w, t) == team_id and not t.triage_channel_id},
            channel_id)
    await uow.outbox.add_many([card_request(w, t, t.triage_channel_id or triage[team_of(w, t)])
                               for w, t in wanted], now)
    return len(wanted)


def card_request(workspace: Workspace, ticket: Ticket, channel_id: str) -> NewPost:
    """The outbox row that asks for ``ticket``'s card in ``channel_id``: the card is drawn
    when it is sent (:class:`CardRenderer`)."""
    return NewPost(workspace.id, workspace.platform,
                   OutboundMessage(channel_id=channel_id, text="", audience="agents",
                                   ticket_number=ticket.number),
                   ticket.id, kind="card")


async def queue_incident_card(uow: UnitOfWork, workspace: Workspace, incident: Incident,
                              now: datetime, channel_id: str | None = None) -> bool:
    """Ask for ``incident``'s card (in ``channel_id``, or where it already is) to be
    redrawn, at a bounded pace: a drawing already due later shows this change too (it
    is drawn when sent); otherwise the next one is booked ``INCIDENT_CARD_PACE`` after
    the last. Returns whether a drawing was queued. Nothing without a channel."""
    for attempt in range(2):
        channel = incident.card_channel_id or channel_id
        if channel is None:
            return False
        last = incident.card_due_at
        if last is not None and last > now + INCIDENT_CARD_MARGIN:
            return False
        due = now if last is None else max(now, last + INCIDENT_CARD_PACE)
        if await uow.incidents.book_card(incident, channel, due):
            break
        # Another change booked one meanwhile (PostgreSQL: it committed while this
        # waited for the row): its drawing may go before this commits, so look again.
        incident = await uow.incidents.get(incident.id)
    else:
        return False
    await uow.outbox.add_many([NewPost(
        workspace.id, workspace.platform,
        OutboundMessage(channel_id=channel, text="", audience="agents", title=incident.ref),
        None, kind="incident_card", due_at=due)], now)
    return True


class CardRenderer:
    """Draws the cards of many tickets at once, as they stand in a unit of work: a
    handful of queries however many there are, plus one knowledge-base search per
    distinct question where the workspace has articles. The dispatcher calls it when it
    sends card rows."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def __call__(self, uow: UnitOfWork, ticket_ids: set[int],
                       now: datetime) -> dict[int, OutboundMessage]:
        """The card of each of ``ticket_ids`` that still exists, by ticket id."""
        current = await uow.tickets.many(ticket_ids)
        workspaces = await uow.workspaces.many({t.workspace_id for t in current.values()})
        people = await uow.people.many({t.requester_id for t in current.values()}
                                       | {t.owner_id for t in current.values() if t.owner_id})
        soonest = await uow.promises.soonest_open(set(current))
        # A linked ticket's card names its incident, and the incident's next update is
        # the promise its requester holds.
        links = await uow.incidents.links_of(list(current))
        incidents = await uow.incidents.many(set(links.values()))
        incident_promises = await uow.incidents.promises(list(incidents))
        # A ticket that anchors a cluster of alike tickets carries the cluster's card.
        clusters = await uow.clusters.anchored(list(current))
        declared = await uow.incidents.many({c.incident_id for c in clusters.values()
                                             if c.incident_id is not None})
        history = await uow.tickets.latest_of_requesters(
            {(t.workspace_id, t.requester_id) for t in current.values()}, HISTORY_SIZE + 1)
        # Difficult conversations flagged to a lead: on the card, for the staff only.
        flags = await uow.tickets.event_counts(set(current), "flag")
        policies = Policies(self.desk)
        # A burst redraws thousands of cards: search only where there is a knowledge
        # base, and once per distinct question.
        with_articles = {w for w in workspaces if await uow.kb.article_count(w)}
        matches: dict[tuple[int, str], list[Article]] = {}
        cards = {}
        for ticket in current.values():
            # The knowledge base's best matches for the agent, internal ones too; a
            # closed ticket needs none.
            question = (ticket.workspace_id, ticket.first_message)
            if (ticket.status.is_active and ticket.workspace_id in with_articles
                    and question not in matches):
                matches[question] = [
                    m.article for m in await uow.kb.search(
                        ticket.workspace_id, ticket.first_message, limit=CARD_ARTICLES,
                        include_internal=True)
                    if m.confidence >= SUGGEST_THRESHOLD / 2]
            articles = matches.get(question, []) if ticket.status.is_active else []
            policy = policies.of(workspaces[ticket.workspace_id], ticket.team_id)
            # An anchor that left the declared incident (reopened, unlinked) is a ticket
            # on its own again: it gets its own card back in the cluster card's place.
            cluster = clusters.get(ticket.id)
            if cluster is not None and (cluster.incident_id is None
                                        or links.get(ticket.id) == cluster.incident_id):
                cards[ticket.id] = render_cluster_card(
                    policy, ticket, cluster.tickets, cluster.id,
                    declared.get(cluster.incident_id or 0))
                continue
            # The card is the team's board: the requester's tickets with other teams
            # are theirs (an HR matter is private), so only this team's are listed.
            team = workspaces[ticket.workspace_id].team(ticket.team_id)
            earlier = [x for x in history[(ticket.workspace_id, ticket.requester_id)]
                       if x.id != ticket.id
                       and workspaces[x.workspace_id].team(x.team_id) == team][:HISTORY_SIZE]
            cards[ticket.id] = render_card(
                policy, now, ticket, requester=people[ticket.requester_id],
                owner=people.get(ticket.owner_id) if ticket.owner_id else None,
                soonest=soonest.get(ticket.id) or _incident_promise(
                    incident_promises.get(links.get(ticket.id, 0))),
                earlier=earlier, articles=articles,
                incident=incidents.get(links.get(ticket.id, 0)), flags=flags.get(ticket.id, 0))
        return cards


    async def incident_card(self, uow: UnitOfWork, workspace_id: int, number: int,
                            now: datetime) -> tuple[Incident, OutboundMessage] | None:
        """INC-``number``'s card as it stands, with the incident (None when there is no
        such incident)."""
        incident = await uow.incidents.by_number(workspace_id, number)
        if incident is None or incident.card_channel_id is None:
            return None
        workspace = (await uow.workspaces.many({workspace_id}))[workspace_id]
        linked = (await uow.incidents.counts([incident.id])).get(incident.id, 0)
        waiting, first = await uow.incidents.offered(incident.id, INCIDENT_CARD_REFS)
        lead = await uow.people.get(incident.owner_id)
        policy = Policies(self.desk).of(workspace)
        return incident, render_incident_card(policy, incident, lead=lead, linked=linked,
                                              waiting=waiting, first=first)


def render_incident_card(policy: DeskPolicy, incident: Incident, *, lead: Person,
                         linked: int, waiting: int, first: list[Ticket]) -> OutboundMessage:
    """The incident's one card in the triage channel: its lead and status, how many
    tickets are linked, and the reports asked "Is this what you're seeing?" that have
    no answer yet (each still an ordinary ticket owed a reply), named up to
    ``INCIDENT_CARD_REFS`` and counted beyond."""
    def t(key: str, **fields) -> str:
        return policy.templates.render(key, **fields)

    lines = [t("incident.card_text", lead=lead.name, linked=linked,
               status=t(f"incident.status_{incident.status.value}"))]
    if waiting:
        refs = [x.ref for x in first]
        if waiting > len(refs):
            refs.append(t("incident.card_more", count=waiting - len(refs)))
        lines.append(t("incident.card_waiting", count=waiting,
                       refs=policy.templates.join(refs)))
    elif incident.is_open:
        lines.append(t("incident.card_none_waiting"))
    return OutboundMessage(
        channel_id=incident.card_channel_id or "", audience="agents",
        title=t("incident.card_title", incident=incident.ref, title=defang(incident.title)),
        text="\n".join(lines))


def _incident_promise(promise) -> tuple[PromiseKind, datetime] | None:
    return (promise.kind, promise.due_at) if promise is not None else None


def render_cluster_card(policy: DeskPolicy, anchor: Ticket, tickets, cluster_id: int,
                        incident: Incident | None) -> OutboundMessage:
    """The one card of tickets that look alike: how many, over how long, the first
    one's words, and **Declare incident** until someone has."""
    def t(key: str, **fields) -> str:
        return policy.templates.render(key, **fields)

    first = min(x.created_at for x in tickets)
    last = max(x.created_at for x in tickets)
    minutes = max(1, -(-int((last - first).total_seconds()) // 60))
    refs = policy.templates.join(x.ref for x in tickets)
    return OutboundMessage(
        channel_id=anchor.triage_channel_id or "", audience="agents",
        ticket_number=anchor.number,
        title=t("incident.cluster_title", count=len(tickets), minutes=minutes,
                subject=defang(excerpt(anchor.subject, 80))),
        text=t("incident.cluster_declared", incident=incident.ref, refs=refs) if incident
        else t("incident.cluster_text", refs=refs),
        buttons=() if incident else (Button(t("incident.cluster_button"),
                                            "incident.declare_cluster", str(cluster_id),
                                            "primary"),))


def render_card(policy: DeskPolicy, now: datetime, ticket: Ticket, *, requester: Person,
                owner: Person | None, soonest: tuple[PromiseKind, datetime] | None,
                earlier: list[Ticket], articles: list[Article] = (),
                incident: Incident | None = None, flags: int = 0) -> OutboundMessage:
    """The card from what it shows, with no database work: ``soonest`` is the kind and
    due time of the ticket's next open promise, ``earlier`` the requester's history,
    ``articles`` the knowledge base's matches (a field only when there are some)."""
    def t(key: str, **fields) -> str:
        return policy.templates.render(key, **fields)

    tz = policy.calendar.timezone
    next_promise = t("card.no_promise")
    if soonest is not None:
        kind, due_at = soonest
        next_promise = t("card.promise_line", what=t(f"what.{kind.value}"),
                         due=policy.when(due_at, now, tz))
    history = policy.templates.join(
        t("card.history_item", ref=x.ref, status=policy.status(x.status, agent=True))
        for x in earlier
    ) or t("card.no_history")
    return OutboundMessage(
        channel_id=ticket.triage_channel_id or "", audience="agents",
        ticket_number=ticket.number,
        title=t("card.title", ref=ticket.ref, subject=defang(ticket.subject)),
        text=defang(excerpt(ticket.first_message, CARD_TEXT_LIMIT)),
        fields=(
            (t("card.status"), policy.status(ticket.status, agent=True)),
            (t("card.owner"), owner.name if owner else t("card.unowned")),
            (t("card.priority"), policy.priority(ticket.priority)),
            (t("card.requester"), requester.name),
            (t("card.next_promise"), next_promise),
            (t("card.history"), history),
        ) + (((t("card.flags"), t("card.flags_value", count=flags)),) if flags else ()
             ) + (((t("card.articles"), ", ".join(
            t("card.article_internal" if a.internal else "card.article_item", ref=a.ref,
              title=defang(a.title)) for a in articles)),)
             if articles else ())
        + (((t("card.incident"), t("card.incident_line", incident=incident.ref,
                                     title=defang(incident.title))),) if incident else ()),
        buttons=card_buttons(t, ticket),
    )


def render_moved_card(policy: DeskPolicy, ticket: Ticket, *, requester: Person, team: str,
                      agent: str, reason: str = "") -> OutboundMessage:
    """The old team's card once ``ticket`` moved to ``team``: an edit of that card in
    place (``edit_of``), saying where it went, with no buttons left to press (the
    ticket's actions are on the new team's card). ``reason`` is already made safe."""
    def t(key: str, **fields) -> str:
        return policy.templates.render(key, **fields)

    assert ticket.triage_channel_id and ticket.triage_message_id
    return OutboundMessage(
        channel_id=ticket.triage_channel_id, audience="agents", ticket_number=ticket.number,
        edit_of=ticket.triage_message_id,
        title=t("card.title", ref=ticket.ref, subject=defang(ticket.subject)),
        text=t("card.moved_text_reason" if reason else "card.moved_text", team=team,
               agent=agent, reason=reason),
        fields=((t("card.moved_to"), t("card.moved_to_value", team=team)),
                (t("card.requester"), requester.name)),
        buttons=())


def render_moved_on_card(policy: DeskPolicy, ticket: Ticket, *, channel_id: str,
                         message_id: str, requester: Person, team: str) -> OutboundMessage:
    """A card ``ticket`` left behind in an earlier transfer, once it moved on again: an
    edit of it in place saying where the ticket is now, so no old card claims it is still
    with a team it has left (FINDINGS-20c M8)."""
    def t(key: str, **fields) -> str:
        return policy.templates.render(key, **fields)

    return OutboundMessage(
        channel_id=channel_id, audience="agents", ticket_number=ticket.number,
        edit_of=message_id,
        title=t("card.title", ref=ticket.ref, subject=defang(ticket.subject)),
        text=t("card.moved_on_text", team=team),
        fields=((t("card.moved_to"), t("card.moved_to_value", team=team)),
                (t("card.requester"), requester.name)),
        buttons=())


def card_buttons(t, ticket: Ticket) -> tuple[Button, ...]:
    """The actions that still make sense for ``ticket``: all of them while it is worked;
    once resolved, a reply or a reopen; once closed, only a reopen."""
    value = str(ticket.id)
    reply = Button(t("card.reply"), "card.reply", value,
                   form=(FormField("text", t("card.reply_field"), multiline=True),))
    reopen = Button(t("card.reopen"), "card.reopen", value)
    if ticket.status is TicketStatus.CLOSED:
        return (reopen,)
    if ticket.status is TicketStatus.RESOLVED:
        return (reply, reopen)
    return (
        Button(t("card.claim"), "card.claim", value, "primary"),
        reply,
        Button(t("card.followup"), "card.followup", value,
               form=(FormField("when", t("card.followup_when")),
                     FormField("text", t("card.followup_text"), optional=True))),
        Button(t("card.priority_button"), "card.priority", value,
               form=(FormField("priority", t("card.priority_field")),)),
        Button(t("card.escalate"), "card.escalate", value,
               form=(FormField("reason", t("card.escalate_field"), optional=True),)),
        Button(t("card.resolve"), "card.resolve", value, "danger",
               form=(FormField("summary", t("card.resolve_field"), multiline=True,
                               optional=True),)),
    )
