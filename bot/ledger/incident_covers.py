"""Covering an incident's lapsed update: once for everyone it was promised to.

An incident's promise (``incident_update``, owned by its lead) stands in for the
update promises of every linked ticket. When it lapses the sweeper hands it here
rather than to the per-ticket planner: one honest update with an apology and a new
time, broadcast to every open linked ticket's requester thread and the status
channel; one reminder to the lead; and, from the second miss in a row, one escalation
per miss as every other one goes: first privately to the lead on duty of the
incident's team (its teams are those of its linked tickets, most first:
bot/desk/incident_teams.py; else that team's leads, else the desk's; never the incident's
own lead about themself), then a note in that team's triage channel naming who was asked
(an incident has no card thread). With nobody else to ask, the admins and the incident
lead hear once in a run of misses that nobody could be asked, and how to add a lead (as
the ticket ledger's "no_lead"). The new time is the incident's next promise, with its
misses counted, so the next lapse knows it is a repeat: each miss in a row doubles the
span to the new time (up to a business day, :func:`stretched_span`), and a repeated
miss says it is another, with its own apology, instead of the same words every hour. :func:`plan_incident_cover` decides
(pure, what the tests read); :func:`cover_incidents` loads and writes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.core import OutboundMessage
from bot.desk.broadcast import broadcast
from bot.desk.duty import escalation_leads, wider_circle
from bot.desk.incident_teams import incident_teams
from bot.desk.notify import to_person
from bot.desk.policy import Desk, DeskPolicy, Policies
from bot.desk.quoting import defang
from bot.domain.incidents import Incident
from bot.domain.people import Person, Role, Workspace
from bot.domain.priority import Priority
from bot.domain.promises import WIDEN_AT_ROUND, Promise, next_promise_span
from bot.domain.tickets import Ticket
from bot.domain.timefmt import happened_minute, stated_minute
from bot.storage.outbox_repository import NewPost
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# An incident's cadence is the P1 update interval (bot/desk/features/incidents.py).
INCIDENT_PRIORITY = Priority.P1
ESCALATE_FROM_MISS = 2
# Each miss in a row doubles the span to the new time, up to a business day: an
# apology every hour for a day says nothing new, and a time we keep is worth more than
# a time we miss again.
STRETCH_CAP = timedelta(hours=8)


def stretched_span(span: timedelta, interval: timedelta, misses: int) -> timedelta:
    """The span to the new time after the ``misses``-th miss in a row (pure): the
    update ``interval`` doubled for each miss after the first, up to ``STRETCH_CAP``,
    and never less than ``span`` (what the missed promise itself ran for, or the
    interval: bot/domain/promises.py ``next_promise_span``)."""
    return max(span, min(interval * 2 ** max(0, misses - 1), STRETCH_CAP))


@dataclass(frozen=True)
class IncidentCoverInputs:
    """What covering one lapsed incident promise depends on."""

    promise: Promise
    incident: Incident
    workspace: Workspace
    policy: DeskPolicy
    lead: Person
    leads: tuple[Person, ...]  # who an escalation reaches: the lead on duty first
    tickets: tuple[Ticket, ...]
    now: datetime
    # Where the escalation's note goes after the leads' private word (None: nowhere).
    triage_channel: str | None = None
    admins: tuple[Person, ...] = ()  # told when an escalation finds no lead
    # Who the one widening escalation of a run of misses (the second escalation) also
    # reaches: the team's other leads, else the admins (loaded only for that miss).
    wider: tuple[Person, ...] = ()


@dataclass(frozen=True)
class IncidentCoverPlan:
    """What covering it writes: the new time, the staff's messages, and the words of
    the broadcast (rendered per requester when written)."""

    inputs: IncidentCoverInputs
    next_due: datetime
    misses: int
    status_text: str
    staff: tuple[OutboundMessage, ...]


def plan_incident_cover(inputs: IncidentCoverInputs) -> IncidentCoverPlan:
    """The cover of ``inputs.promise`` at ``inputs.now`` (no I/O)."""
    policy, promise, incident, now = inputs.policy, inputs.promise, inputs.incident, inputs.now
    calendar, render = policy.calendar, policy.templates.render
    interval = policy.sla.target(INCIDENT_PRIORITY).update_interval
    # Counted from the minute the cover runs in, as the ticket ledger does: from
    # 10:30:20 it would say 11:31, and drift a minute later at every lapse.
    misses = promise.misses_in_row + 1
    next_due = stated_minute(calendar.add_business_time(
        happened_minute(now),
        stretched_span(next_promise_span(promise, interval, calendar), interval, misses)))
    count = len(inputs.tickets)
    zone = calendar.timezone
    # The title is an agent's words: repeated defanged, as the commands repeat it, or a
    # "<!channel>" in it would ping the status channel at every lapse.
    title = defang(incident.title)

    def when(moment: datetime, person: Person | None = None) -> str:
        return policy.when(moment, now, person.reads_in(zone) if person else zone)

    staff = [to_person(inputs.lead, render(
        "incident.lead_reminder", incident=incident.ref, title=title, count=count,
        due=when(promise.due_at, inputs.lead), next=when(next_due, inputs.lead)))]
    asked = [lead for lead in inputs.leads if lead.id != inputs.lead.id]
    if misses >= ESCALATE_FROM_MISS and asked:
        staff += [to_person(lead, render(
            "incident.escalation", incident=incident.ref, title=title,
            lead=inputs.lead.name, misses=misses, count=count, next=when(next_due, lead)))
            for lead in asked]
        names = policy.templates.join(p.name for p in asked)
        # Lapsing again after a lead was asked: the wider circle hears too, once.
        wider = inputs.wider if widens_incident(misses) else ()
        staff += [to_person(person, render(
            "incident.escalation_wider", incident=incident.ref, title=title,
            lead=inputs.lead.name, misses=misses, count=count, asked=names,
            next=when(next_due, person))) for person in wider]
        # Then the team sees a lead was asked, and who.
        if inputs.triage_channel:
            fields = dict(incident=incident.ref, title=title, lead=inputs.lead.name,
                          misses=misses, count=count, leads=names, next=when(next_due))
            staff.append(OutboundMessage(
                channel_id=inputs.triage_channel, audience="agents",
                text=render("incident.escalation_triage_wider", **fields,
                            wider=policy.templates.join(p.name for p in wider))
                if wider else render("incident.escalation_triage", **fields)))
    elif misses == ESCALATE_FROM_MISS:
        # Nobody to ask: said once, when this run of misses first calls for a lead.
        fields = dict(incident=incident.ref, title=title, lead=inputs.lead.name,
                      misses=misses, count=count)
        staff += [to_person(admin, render("incident.no_lead_admin", **fields))
                  for admin in inputs.admins]
        if inputs.lead.id not in {admin.id for admin in inputs.admins}:
            staff.append(to_person(inputs.lead, render(
                "incident.no_lead_lead" if inputs.admins else "incident.no_lead_lead_alone",
                **fields)))
    status_text = render("incident.lapse_status", incident=incident.ref, title=title,
                         due=when(promise.due_at), next=when(next_due))
    return IncidentCoverPlan(inputs, next_due, misses, status_text, tuple(staff))


def widens_incident(misses_in_row: int) -> bool:
    """True for the miss of an incident's update that widens its escalation: the
    second escalation of the run (bot/domain/promises.py, ``WIDEN_AT_ROUND``)."""
    return misses_in_row - ESCALATE_FROM_MISS + 1 == WIDEN_AT_ROUND


async def cover_incidents(uow: UnitOfWork, desk: Desk, promises: list[Promise],
                          now: datetime) -> int:
    """Cover fenced incident promises in this unit of work; returns how many."""
    policies = Policies(desk)
    for promise in promises:
        incident = await uow.incidents.get(promise.incident_id)  # type: ignore[attr-defined]
        if not incident.is_open:
            continue  # resolved meanwhile: it owes nothing, nothing is said
        workspace = await uow.workspaces.get(incident.workspace_id)
        lead = await uow.people.get(promise.owner_id or incident.owner_id)
        # The incident's first team (most of its tickets) is whose lead on duty hears.
        team = (await incident_teams(uow, workspace, incident))[0]
        leads = tuple(await _escalation_leads(uow, desk, workspace, team, lead, now))
        admins = () if any(p.id != lead.id for p in leads) else tuple(
            (await uow.people.admins_in({workspace.id}, desk.admins))[workspace.id])
        tickets = tuple(await uow.incidents.tickets(incident.id, active_only=True))
        triage = ((await uow.workspaces.team_channels(workspace, "triage")).get(team.id)
                  if team is not None else None)
        wider = ()
        if widens_incident(promise.misses_in_row + 1) and any(p.id != lead.id for p in leads):
            wider = tuple(p for p in await wider_circle(uow, desk, workspace, team,
                                                        [*leads, lead]))
        plan = plan_incident_cover(IncidentCoverInputs(
            promise, incident, workspace, policies.of(workspace), lead, leads, tickets, now,
            triage[0] if triage else None, admins, wider))
        await apply_incident_cover(uow, plan)
    return len(promises)


async def _escalation_leads(uow: UnitOfWork, desk: Desk, workspace: Workspace, team,
                            lead: Person, now: datetime) -> list[Person]:
    """Who an incident's escalation reaches: ``team``'s lead on duty, as for a ticket
    (bot/desk/duty.py). When that is the incident's own lead, the team's other leads,
    so that someone else is asked; with none, nobody (the admins are told instead),
    never another team's leads."""
    if team is None:
        return await uow.people.with_role(workspace.id, Role.LEAD)
    leads, _ = await escalation_leads(uow, desk, workspace, team, now, besides=lead.id)
    return leads


async def apply_incident_cover(uow: UnitOfWork, plan: IncidentCoverPlan) -> None:
    """Write ``plan``: the broadcast, the staff's messages, the next promise and the
    incident's record of the cover."""
    inputs = plan.inputs
    policy, incident, promise, now = inputs.policy, inputs.incident, inputs.promise, inputs.now
    zone = policy.calendar.timezone

    # One apology per miss; a repeated miss says so. Outside the desk's hours nobody
    # is said to be "still on it": when it opens is what is true.
    key = "incident.lapse_requester" + ("_again" if plan.misses > 1 else "") \
        + ("" if policy.calendar.is_open(now) else "_closed")
    opens = now if policy.calendar.is_open(now) else policy.calendar.next_opening(now)

    def words_for(ticket: Ticket, requester: Person) -> str:
        tz = requester.reads_in(zone)
        return policy.templates.render(
            key, incident=incident.ref, title=defang(incident.title),
            ref=ticket.ref, due=policy.when(promise.due_at, now, tz),
            next=policy.when(plan.next_due, now, tz), opens=policy.when(opens, now, tz))

    await broadcast(uow, inputs.workspace, incident, list(inputs.tickets), words_for,
                    plan.status_text, now, timeline_kind="incident_cover")
    await uow.outbox.add_many([NewPost(inputs.workspace.id, inputs.workspace.platform, message)
                               for message in plan.staff], now)
    await uow.incidents.promise_next(inputs.workspace.id, incident.id, plan.next_due, now,
                                     owner_id=inputs.lead.id, misses_in_row=plan.misses,
                                     parent_id=promise.id)
    await uow.incidents.add_update(incident.id, "", now, author_id=None,
                                   next_due_at=plan.next_due, kind="cover")
    logger.info("covered %s's lapsed update for %d requester(s)", incident.ref,
                len(inputs.tickets))
