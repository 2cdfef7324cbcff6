"""Intake: one plain message opens a ticket, acknowledged in its thread with an honest wait.

A ticket opens from a direct message, a message in an intake channel, a mention, a
ticket-emoji reaction or ``/ticket new``. The ticket, its timeline entry, the
first-response promise, the acknowledgement and the triage card are written in one
unit of work, so the requester never has a ticket without an answer.
"""

from __future__ import annotations

import logging
import re
import statistics
from datetime import timedelta

from bot.core import IncomingMessage, OutboundMessage, ReactionAdded
from bot.domain.people import Person, Role
from bot.domain.priority import Impact, Priority, PriorityDecision, Urgency
from bot.domain.promises import PromiseKind, warn_time_for_span
from bot.domain.tickets import Ticket, TicketAction, TicketStatus, subject_from, transition
from bot.desk import duty
from bot.desk.cards import card_request, queue_incident_card
from bot.desk.context import BadInput, Context
from bot.desk.features import detection, incidents, knowledge
from bot.logs import bind
from bot.storage.outbox_repository import NewPost
from bot.desk.quoting import defang

logger = logging.getLogger(__name__)

_HURRY = re.compile(r"\b(asap|urgent(ly)?|in a (hurry|rush)|right away|emergency)\b", re.I)
_WAITING_QUEUE = (TicketStatus.NEW, TicketStatus.OPEN)
RECENT_SAMPLE = 20
MIN_SAMPLES = 5


def said_they_are_in_a_hurry(text: str) -> bool:
    """True when the requester's words say they are short of time."""
    return bool(_HURRY.search(text))


async def open_ticket(ctx: Context, requester: Person, text: str, *, channel_id: str,
                      thread_id: str, source_message_id: str | None,
                      opened_by: Person | None = None) -> Ticket:
    """Open a ticket for ``requester`` and queue its acknowledgement in their thread.
    It goes to the team of the intake channel ``channel_id``, or to the default team."""
    assert ctx.workspace is not None
    ctx.use_team(await ctx.uow.workspaces.channel_team(ctx.workspace, "intake", channel_id))
    assert ctx.policy is not None and ctx.team is not None
    # A team nobody would see it in (no triage channel, nobody working it) does not take
    # it: the default team does, and its card says who it was for, so that no one is
    # promised a time no staff member can see.
    meant_for, gap = None, None
    if not ctx.team.is_default:
        gap = await duty.staffing_gap(ctx.uow, ctx.workspace, ctx.team)
        if gap is not None and await duty.staffing_gap(
                ctx.uow, ctx.workspace, ctx.workspace.default_team) != "triage":
            meant_for = ctx.team
            ctx.use_team(ctx.workspace.default_team)
    assert ctx.policy is not None and ctx.team is not None
    uow, now, policy, workspace, team = ctx.uow, ctx.now, ctx.policy, ctx.workspace, ctx.team
    # Everything is read before the ticket number is taken: that locks the workspace's
    # row until the commit (on PostgreSQL), so every opening in the workspace waits for
    # it, and after it come only writes.
    ahead = await uow.tickets.count_waiting(workspace.id, _WAITING_QUEUE, team.id,
                                            default_team=team.is_default)
    decision = PriorityDecision.computed(Impact.MEDIUM, Urgency.MEDIUM)
    span = await expected_first_response(ctx, decision.priority)
    due = policy.calendar.add_business_time(now, span)
    warn_at = warn_time_for_span(now, span, policy.sla.warn_at, policy.calendar)
    triage = (await uow.workspaces.team_channels(workspace, "triage")).get(team.id, [])
    # Self-help: articles good enough to offer, never an internal one.
    # A known problem (an open incident of this team that this looks like) is said at
    # once, instead of self-help articles. Until the requester says Yes it is an
    # ordinary ticket with an ordinary promise, and the team owes it a reply: it is
    # counted and named on the incident's one card in the triage channel (its shadow)
    # rather than getting a card of its own, so that a storm of reports is one card
    # edited at a bounded pace, not thousands posted. Whatever changes it next (No,
    # an agent acting on it, its requester writing) gives it its own card
    # (bot/desk/cards.py). An incident whose card is in another team's channel would
    # not be seen there: such a report gets its card as any ticket does.
    incident = await incidents.known_problem(ctx, text)
    shadow = incident is not None and bool(triage) and \
        incident.card_channel_id in (None, triage[0])
    matches = [] if incident is not None else await knowledge.suggestions(ctx, text)
    # Several alike tickets in a short window: counted on one card, not one each. A
    # cluster is of tickets waiting in the queue, so with fewer waiting than make one
    # (a quiet desk) there is nothing to read.
    alike = None if incident is not None or not triage or ahead + 1 < detection.THRESHOLD \
        else await detection.look_for_alike(ctx, text)

    number = await uow.workspaces.take_ticket_number(workspace.id)
    status = transition(TicketStatus.NEW, TicketAction.ACKNOWLEDGE, has_owner=False)
    ticket = await uow.tickets.add(
        workspace_id=workspace.id, number=number, requester_id=requester.id,
        status=status.value, priority=decision.priority.value, impact=decision.impact.value,
        urgency=decision.urgency.value, subject=subject_from(text), first_message=text,
        channel_id=channel_id, thread_id=thread_id, source_message_id=source_message_id,
        in_a_hurry=said_they_are_in_a_hurry(text), created_at=now, updated_at=now,
        triage_channel_id=triage[0] if triage else None, team_id=team.id,
        offered_incident_id=incident.id if shadow else None,
    )
    await uow.tickets.add_event(ticket.id, "opened", now, author_id=(opened_by or requester).id,
                                body=text)
    await uow.promises.make(workspace.id, ticket.id, PromiseKind.FIRST_RESPONSE, due, now,
                            warn_at=warn_at)
    # The first time the desk tells someone a time, its zone becomes theirs (when the
    # platform gives them none): a transfer to a team elsewhere, or an incident of
    # another team, never switches it under them.
    requester = await uow.people.keep_zone(requester, policy.calendar.timezone)
    text = ctx.t("intake.ack", requester=requester.name, ref=ticket.ref, subject=defang(ticket.subject),
                 eta=_eta_sentence(ctx, requester, due, ahead))
    if opened_by is not None and opened_by.id != requester.id:
        text += " " + ctx.t("intake.reaction_on_behalf", agent=opened_by.name)
    buttons = ()
    if incident is not None:
        words, buttons = await incidents.known_problem_words(ctx, incident, ticket, requester)
        text += "\n\n" + words
    elif matches:
        text += "\n\n" + knowledge.suggestion_text(ctx, ticket, matches)
        buttons = knowledge.solved_buttons(ctx, ticket, matches)
        await uow.kb.count([m.article.id for m in matches], "suggested")
    # With no message to thread under (a slash command), the acknowledgement itself
    # becomes the thread: the dispatcher records its id on the ticket once posted.
    posts = [NewPost(workspace.id, workspace.platform,
                     OutboundMessage(channel_id=channel_id, thread_id=thread_id or None,
                                     text=text, ticket_number=ticket.number,
                                     buttons=buttons),
                     ticket.id, kind="post" if thread_id else "thread_root")]
    if triage and alike is None and not shadow:
        posts.append(card_request(workspace, ticket, triage[0]))
    if triage and meant_for is not None:
        # In the triage channel itself: the card's thread does not exist until it is posted.
        posts.append(NewPost(workspace.id, workspace.platform, OutboundMessage(
            channel_id=triage[0], audience="agents", ticket_number=ticket.number,
            text=ctx.t("intake.meant_for_" + (gap or "triage"), ref=ticket.ref,
                       channel=channel_id, team=meant_for.name, default=team.name,
                       number=ticket.number)), ticket.id))
    await uow.outbox.add_many(posts, now)  # the acknowledgement and the card, one statement
    if alike is not None:
        await detection.count_on_cluster(ctx, alike, ticket)
    if shadow:
        await queue_incident_card(uow, workspace, incident, now, triage[0])
    bind(ticket=ticket.id)
    logger.info("opened ticket #%d in workspace %d", number, workspace.id)
    if ctx.metrics is not None:  # counted once it commits: a rollback opened nothing
        metrics, platform = ctx.metrics, workspace.platform
        uow.after_commit(lambda: metrics.ticket_opened(platform))
    return ticket


async def expected_first_response(ctx: Context, priority: Priority) -> timedelta:
    """Business time until a first response, honestly: the SLA target, or the desk's
    recent median when it has been slower than that (a promise we can keep)."""
    assert ctx.policy is not None and ctx.workspace is not None
    target = ctx.policy.sla.target(priority).first_response
    recent = await ctx.uow.tickets.recent_first_responses(ctx.workspace.id, RECENT_SAMPLE)
    if len(recent) < MIN_SAMPLES:
        return target
    calendar = ctx.policy.calendar
    median = statistics.median(
        calendar.business_time_between(opened, answered).total_seconds()
        for opened, answered in recent)
    return max(target, timedelta(seconds=median))


def _eta_sentence(ctx: Context, requester: Person, due, ahead: int) -> str:
    assert ctx.policy is not None
    calendar, now = ctx.policy.calendar, ctx.now
    tz = requester.reads_in(calendar.timezone)
    due_text = ctx.policy.when(due, now, tz)
    if not calendar.is_open(now):
        return ctx.t("intake.eta_closed", opens=ctx.policy.when(calendar.next_opening(now), now, tz),
                     due=due_text)
    # The wait in the desk's own measure, business time, as the SLA targets are stated:
    # Friday 14:00 to Monday 14:00 is "8 business hours", not "3 days".
    wait = ctx.policy.business_time(calendar.business_time_between(now, due),
                                    working_days=False)
    if ahead:
        key = "intake.eta_busy_one" if ahead == 1 else "intake.eta_busy"
        return ctx.t(key, ahead=ahead, due=due_text, wait=wait)
    return ctx.t("intake.eta_open", due=due_text, wait=wait)


async def ticket_new(ctx: Context) -> None:
    """``/ticket new <text>``: open a ticket from a command."""
    assert ctx.person is not None
    if not ctx.args.strip():
        raise BadInput("input.need_subject", "usage.ticket_new")
    event = ctx.event
    # A command has no message to thread under: the acknowledgement starts the thread.
    await open_ticket(ctx, ctx.person, ctx.args.strip(), channel_id=event.channel_id,
                      thread_id=getattr(event, "thread_id", None) or "", source_message_id=None)
    ctx.handled = True


async def on_reaction(ctx: Context) -> None:
    """The ticket emoji on a message opens a ticket for its author, if the one reacting
    is that author or an agent acting on their behalf."""
    event = ctx.event
    assert isinstance(event, ReactionAdded) and ctx.workspace and ctx.person and ctx.policy
    if event.emoji.strip(":") not in (ctx.policy.ticket_emoji, "🎫"):
        return
    author = event.message_author
    text = event.message_text
    if event.message_unreadable:
        text = ctx.t("intake.unreadable_message" if not event.message_link
                     else "intake.unreadable_message_link", link=event.message_link)
    if author is None or author.is_bot or not text.strip():
        return
    if author.user_id != event.actor.user_id and not ctx.role.at_least(Role.AGENT):
        return  # only the author, or an agent on their behalf
    thread = event.thread_id or event.message_id
    if await ctx.uow.tickets.by_thread(ctx.workspace.id, event.channel_id, thread):
        ctx.handled = True
        return  # this message already has its ticket
    requester = await ctx.uow.people.ensure(ctx.workspace.id, author.user_id, author.display_name,
                                            ctx.now, email=author.email, tz=author.tz)
    await open_ticket(ctx, requester, text, channel_id=event.channel_id,
                      thread_id=thread, source_message_id=event.message_id, opened_by=ctx.person)
    ctx.handled = True


async def open_from_message(ctx: Context) -> None:
    """A top-level message that asks for help: DM, intake channel or a mention."""
    event = ctx.event
    assert isinstance(event, IncomingMessage) and ctx.workspace and ctx.person
    if not event.text.strip():
        return
    if not (event.is_direct or event.mentions_bot or await is_intake_channel(ctx)):
        return
    await open_ticket(ctx, ctx.person, event.text, channel_id=event.channel_id,
                      thread_id=event.thread_id or event.message_id,
                      source_message_id=event.message_id)
    ctx.handled = True


async def is_intake_channel(ctx: Context) -> bool:
    """True when the event happened in one of the workspace's intake channels."""
    assert ctx.workspace is not None
    return ctx.event.channel_id in await ctx.uow.workspaces.channels(ctx.workspace.id, "intake")


def register(router) -> None:
    """Wire intake into the router (thread replies are offered first, in conversation.py)."""
    router.on_message(open_from_message)
    router.on_reaction(on_reaction)
    router.on_command("ticket", "new", ticket_new, description="commands.ticket_new")
