"""Triage commands: priority, waiting, escalation and the queue."""

from __future__ import annotations

import re
from datetime import datetime

from bot.domain.people import Role
from bot.domain.errors import Unreadable
from bot.domain.priority import PriorityDecision, read_priority
from bot.domain.promises import PromiseKind
from bot.domain.tickets import ACTIVE_STATUSES, Ticket, TicketAction
from bot.domain.timefmt import stated_minute
from bot.desk.duty import escalation_leads, team_people
from bot.desk.team_refs import readable_teams
from bot.desk.cards import queue_card
from bot.desk.context import BadInput, Context
from bot.desk.notify import admins_of, to_agents, to_person, to_requester
from bot.desk.quoting import defang, excerpt
from bot.desk.features.lookup import change_status, load_ticket, split_number, when_for
from bot.desk.features.working import resolution_target, start_update_cadence



def _decision(ctx: Context, words: list[str]) -> PriorityDecision:
    assert ctx.person is not None
    try:
        priority, impact, urgency = read_priority(words)
    except Unreadable as error:
        raise BadInput.unreadable(error, "agent.priority_usage") from None
    if impact is None or urgency is None:
        return PriorityDecision.override(
            priority, ctx.t("agent.priority_reason", name=ctx.person.name), ctx.person.name)
    return PriorityDecision.computed(impact, urgency)


async def priority(ctx: Context) -> None:
    """``/ticket priority <n> <P1-P4>`` or ``<impact> <urgency>``: targets follow."""
    number, rest = split_number(ctx.args, "agent.priority_usage")
    ticket = await load_ticket(ctx, number)
    decision = _decision(ctx, rest.split())
    assert ctx.policy is not None and ctx.workspace is not None
    if decision.priority is ticket.priority:
        # Nothing to record or retarget: no "Sam set the priority to P3" on a P3.
        await ctx.answer(ctx.t("agent.priority_unchanged", ref=ticket.ref,
                               priority=ctx.policy.priority(ticket.priority)))
        ctx.handled = True
        return
    ticket = await ctx.uow.tickets.update(
        ticket.id, priority=decision.priority.value, updated_at=ctx.now,
        impact=decision.impact.value if decision.impact else None,
        urgency=decision.urgency.value if decision.urgency else None,
        priority_reason=decision.override_reason)
    await ctx.uow.tickets.add_event(ticket.id, "priority", ctx.now, author_id=ctx.person.id,
                                    body=decision.priority.value,
                                    reason=decision.override_reason)
    sooner = await _retarget(ctx, ticket)
    if sooner is not None:
        requester = await ctx.uow.people.get(ticket.requester_id)
        await ctx.post(to_requester(ticket, ctx.t(
            "agent.priority_sooner", ref=ticket.ref, next=when_for(ctx, sooner, requester))),
            ticket_id=ticket.id)
    await ctx.answer(ctx.t("agent.priority_set", ref=ticket.ref, priority=ctx.policy.priority(ticket.priority)))
    await queue_card(ctx, ticket)
    ctx.handled = True


async def _retarget(ctx: Context, ticket: Ticket) -> datetime | None:
    """Move the ticket's open promises to its new priority's targets, never telling a
    lie: a time the requester was given (first response, next update) only ever comes
    sooner, and then they are told; it is never pushed later in silence, nor set to a
    moment already past (a first response whose new target has passed is counted from
    now). The resolution target, an aim the requester was never given,
    follows the new priority; one already passed is dropped rather than "missed" at
    once (the update cadence carries the ticket). Returns the soonest time moved
    earlier, if any."""
    assert ctx.workspace is not None and ctx.policy is not None
    sla, calendar, now = ctx.policy.sla, ctx.policy.calendar, ctx.now
    moved: list[datetime] = []
    for promise in await ctx.uow.promises.open_for_ticket(ticket.id):
        if promise.kind is PromiseKind.FIRST_RESPONSE:
            # Counted from the opening; when that has passed, from now (the desk acts on
            # the new priority rather than stating a moment already gone).
            target = sla.first_response_deadline(ticket.priority, ticket.created_at, calendar)
            if target.due_at <= now:
                target = sla.first_response_deadline(ticket.priority, now, calendar)
        elif promise.kind is PromiseKind.STATUS_UPDATE:
            target = sla.update_deadline(ticket.priority, now, calendar)
        elif promise.kind is PromiseKind.RESOLUTION:
            target = resolution_target(ctx, ticket)
            await ctx.uow.promises.cancel(ticket.id, now, (promise.kind,))
            if target is not None:
                await ctx.uow.promises.make(ctx.workspace.id, ticket.id, promise.kind,
                                            target.due_at, now, owner_id=promise.owner_id,
                                            warn_at=target.warn_at)
            continue
        else:
            continue
        # Compared as the minutes people read: a target in the same minute as the
        # stated time is not "sooner", and saying so would announce a move of nothing.
        if not now < target.due_at or not stated_minute(target.due_at) < promise.due_at:
            continue  # not sooner, or already past: the stated time stands
        await ctx.uow.promises.cancel(ticket.id, now, (promise.kind,))
        await ctx.uow.promises.make(ctx.workspace.id, ticket.id, promise.kind, target.due_at,
                                    now, owner_id=promise.owner_id, warn_at=target.warn_at)
        moved.append(target.due_at)
    return min(moved, default=None)


async def wait(ctx: Context) -> None:
    """``/ticket wait <n> requester|third-party [text]``"""
    number, rest = split_number(ctx.args, "agent.wait_usage")
    on, _, text = rest.partition(" ")
    on = on.lower().replace("_", "-")
    if on not in ("requester", "third-party", "thirdparty", "vendor"):
        raise BadInput("input.wait_on_whom", "agent.wait_usage")
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None and ctx.workspace is not None and ctx.policy is not None
    requester = await ctx.uow.people.get(ticket.requester_id)
    text = text.strip()
    if on == "requester":
        ticket = await change_status(ctx, ticket, TicketAction.WAIT_ON_REQUESTER)
        await ctx.uow.promises.cancel(ticket.id, ctx.now,
                                      (PromiseKind.STATUS_UPDATE, PromiseKind.FOLLOW_UP))
        nudge_at = ctx.policy.calendar.add_business_time(ctx.now, ctx.policy.waiting.nudge_after)
        await ctx.uow.promises.make(ctx.workspace.id, ticket.id, PromiseKind.AWAITING_REQUESTER,
                                    nudge_at, ctx.now, owner_id=ticket.owner_id)
        message = ctx.t("agent.wait_requester", agent=ctx.person.name, ref=ticket.ref,
                        text=f": “{defang(excerpt(text))}”" if text else "",
                        nudge=when_for(ctx, nudge_at, requester))
    else:
        ticket = await change_status(ctx, ticket, TicketAction.WAIT_ON_THIRD_PARTY)
        # The cadence replaces any follow-up: one clock of updates, not two.
        await ctx.uow.promises.cancel(ticket.id, ctx.now, (PromiseKind.FOLLOW_UP,))
        update = await start_update_cadence(ctx, ticket)
        message = ctx.t("agent.wait_third_party", ref=ticket.ref, agent=ctx.person.name,
                        party=defang(excerpt(_party(text), 200))
                        or ctx.t("agent.third_party_default"),
                        next=when_for(ctx, update.due_at, requester))
    await ctx.post(to_requester(ticket, message), ticket_id=ticket.id)
    await ctx.answer(ctx.t("agent.waiting_noted", ref=ticket.ref, status=ctx.policy.status(ticket.status, agent=True)))
    await queue_card(ctx, ticket)
    ctx.handled = True


# "waiting on Canon", "on Canon", "for the vendor": the sentence already says "waiting on".
_WAITING_ON = re.compile(r"^\s*(?:(?:we(?:'re| are)\s+)?waiting\s+)?(?:on|for)\s+", re.I)


def _party(text: str) -> str:
    """Who the ticket waits on, without a leading "waiting on" the sentence says itself."""
    return _WAITING_ON.sub("", text.strip(), count=1).strip()


async def escalate(ctx: Context) -> None:
    """``/ticket escalate <n> [reason]``: bring in the leads; the owner stays the contact.

    With no leads nobody can be asked, so the requester is told nothing (no claim the
    desk did not make good); the agent, the triage thread and the admins hear that the
    desk has no leads yet."""
    number, reason = split_number(ctx.args, "usage.ticket_escalate")
    ticket = await load_ticket(ctx, number)
    assert ctx.person is not None and ctx.workspace is not None
    requester = await ctx.uow.people.get(ticket.requester_id)
    owner = await ctx.uow.people.get(ticket.owner_id) if ticket.owner_id else None
    # The lead on duty alone, privately; with nobody on duty, the team's leads.
    assert ctx.team is not None
    # A lead escalating their own ticket asks someone else (FINDINGS-20c H5).
    leads, on_duty = await escalation_leads(ctx.uow, ctx.desk, ctx.workspace, ctx.team,
                                            ctx.now, besides=ctx.person.id)
    quoted = defang(excerpt(reason, 500)) if reason else ""
    ctx.handled = True
    if not leads:
        await _no_lead_to_ask(ctx, ticket, requester, quoted)
        return
    owned = ("agent.escalated_lead", "agent.escalated_requester") if owner else \
        ("agent.escalated_lead_unowned", "agent.escalated_requester_unowned")
    text = ctx.t(owned[0], agent=ctx.person.name, ref=ticket.ref, requester=requester.name,
                 reason=ctx.t("agent.escalated_reason", reason=quoted) if reason else "",
                 priority=ticket.priority.value, owner=owner.name if owner else "")
    for lead in leads:
        await ctx.post(to_person(lead, text, ticket), ticket_id=ticket.id)
    # The thread's note names who was asked, as the sweeper's does (docs/teams.md).
    triage = to_agents(ticket, text + " " + ctx.t("agent.escalated_asked",
                                                  leads=ctx.join(p.name for p in leads)))
    if triage is not None:
        await ctx.post(triage, ticket_id=ticket.id)
    await ctx.uow.tickets.add_event(ticket.id, "escalated", ctx.now, author_id=ctx.person.id,
                                    body=reason)
    await ctx.post(to_requester(ticket, ctx.t(owned[1], ref=ticket.ref,
                                              owner=owner.name if owner else "")),
                   ticket_id=ticket.id)
    await ctx.answer(ctx.t("agent.escalated_agent_on_duty" if on_duty
                           else "agent.escalated_agent", ref=ticket.ref,
                           leads=ctx.join(p.name for p in leads)))


async def _no_lead_to_ask(ctx: Context, ticket, requester, quoted: str) -> None:
    """An escalation with no lead to receive it: said to the staff (the admins are
    asked instead), not the requester, who is told of no lead that was not asked. Why
    there is none is said as it is: the desk has no leads, the ticket's team has none
    (a team's matters never go to another team's leads), or the one asking is its
    only lead."""
    assert ctx.person is not None and ctx.workspace is not None and ctx.team is not None
    await ctx.uow.tickets.add_event(ticket.id, "no_lead", ctx.now, author_id=ctx.person.id,
                                    body=quoted)
    several = len(ctx.workspace.teams) > 1
    leads = await team_people(ctx.uow, ctx.workspace, ctx.team, Role.LEAD)
    why = "_self" if leads else ("_team" if several else "")
    words = {"team": ctx.team.name,
             "whose": ctx.t("agent.whose_team", team=ctx.team.name) if several
             else ctx.t("agent.whose_desk"),
             "in_team": f" team {ctx.team.name}" if several else ""}
    alert = ctx.t("agent.no_leads_admin" + why, agent=ctx.person.name, ref=ticket.ref,
                  requester=requester.name,
                  reason=" " + ctx.t("agent.no_leads_reason", reason=quoted) if quoted else "",
                  **words)
    others = [admin for admin in await admins_of(ctx.uow, ctx.workspace, ctx.desk.admins,
                                                 ctx.now) if admin.id != ctx.person.id]
    for admin in others:
        await ctx.post(to_person(admin, alert, ticket), ticket_id=ticket.id)
    triage = to_agents(ticket, ctx.t(("agent.no_leads_triage" if others
                                      else "agent.no_leads_triage_alone") + why,
                                     agent=ctx.person.name, ref=ticket.ref, **words))
    if triage is not None:
        await ctx.post(triage, ticket_id=ticket.id)
    await ctx.answer(ctx.t(("agent.no_leads_agent" if others
                            else "agent.no_leads_agent_alone") + why, ref=ticket.ref, **words))


async def queue(ctx: Context) -> None:
    """``/ticket queue``: what is waiting to be claimed, and what the agent owns. With
    several teams, each team's part under its name, the agent's own teams first."""
    assert ctx.workspace is not None and ctx.person is not None and ctx.policy is not None
    unowned = await ctx.uow.tickets.list(ctx.workspace.id, statuses=ACTIVE_STATUSES, unowned=True)
    mine = await ctx.uow.tickets.list(ctx.workspace.id, statuses=ACTIVE_STATUSES, owner_id=ctx.person.id)
    if not unowned and not mine:
        await ctx.answer(ctx.t("view.queue_empty"))
        ctx.handled = True
        return
    lines = [ctx.t("view.queue_header")]
    # Two queries for every ticket listed, not two per ticket.
    due_of = await ctx.uow.promises.next_due([t.id for t in (*unowned, *mine)])
    people = await ctx.uow.people.many({t.requester_id for t in (*unowned, *mine)})
    # A linked ticket's requester holds its incident's next update instead of a
    # promise of its own: that is its "next" (two more queries, only for those).
    links = await ctx.uow.incidents.links_of(
        [t.id for t in (*unowned, *mine) if t.id not in due_of])
    incidents = await ctx.uow.incidents.many(set(links.values()))
    incident_due = await ctx.uow.incidents.promises(list(incidents))
    tz = ctx.person.reads_in(ctx.policy.calendar.timezone)
    workspace = ctx.workspace
    several = len(workspace.teams) > 1
    for team in (await readable_teams(ctx) if several else [None]):
        def of_team(tickets):
            return [t for t in tickets if team is None or workspace.team(t.team_id).id == team.id]

        parts = (("view.queue_unowned", of_team(unowned)), ("view.queue_mine", of_team(mine)))
        if team is not None and any(tickets for _, tickets in parts):
            lines.append(ctx.t("view.queue_team", team=team.name))
        for title, tickets in parts:
            if tickets:
                lines.append(ctx.t(title))
            for ticket in sorted(tickets, key=lambda t: (t.priority.value, t.number)):
                due = due_of.get(ticket.id)
                incident_id = links.get(ticket.id)
                held = incident_due.get(incident_id) if incident_id is not None else None
                if due:
                    next_ = ctx.policy.when(due, ctx.now, tz)
                elif held is not None:
                    # A linked ticket's time is the incident's next update.
                    next_ = ctx.t("view.queue_incident_next",
                                  incident=incidents[incident_id].ref,
                                  due=ctx.policy.when(held.due_at, ctx.now, tz))
                else:
                    next_ = ctx.t("view.nothing")
                lines.append(ctx.t(
                    "view.queue_line", ref=ticket.ref, priority=ticket.priority.value,
                    subject=defang(ticket.subject), requester=people[ticket.requester_id].name,
                    next=next_))
    # Nothing in the reader's own teams (another team's work is not theirs to see).
    await ctx.answer("\n".join(lines) if len(lines) > 1 else ctx.t("view.queue_empty"))
    ctx.handled = True


def register(router) -> None:
    """Wire the triage commands into the router."""
    for word, handler in (
        ("priority", priority),
        ("wait", wait),
        ("escalate", escalate),
        ("queue", queue),
    ):
        router.on_command("ticket", word, handler, role=Role.AGENT,
                          description=f"commands.ticket_{word}")
