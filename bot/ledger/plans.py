"""Covering a lapsed promise, as a pure plan.

When a promise falls due and nobody kept it, the desk covers it: an honest update in
the requester's thread (owning the lateness when the update is itself late), a reminder
to the owner (or a note in the triage thread when nobody owns the ticket), an
escalation to the leads on a repeated miss or at once for P1, and a new time, which is
itself a new promise. A promise the desk waits on the requester for lapses in two
steps instead: a nudge (or a reminder with the yes/no buttons) announcing the close,
then the close.

:func:`plan_cover` decides all of that from what it is given and returns a
:class:`CoverPlan`: the rows to write, the promises to cancel, the ticket to close, the
next promise. It reads no database and no clock, so it is tested on its own, and the
sweeper (bot/ledger/sweeper.py) loads the inputs of a whole batch as sets and applies
the plans as sets. Preparing a cover ahead of its due time is the same call with the
due time as ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core import OutboundMessage
from bot.desk.notify import confirmation_buttons, to_agents, to_requester
from bot.desk.policy import DeskPolicy
from bot.domain.people import Person, Workspace
from bot.domain.priority import Priority
from bot.domain.promises import (
    WAITS_ON_REQUESTER, Promise, PromiseKind, is_late, next_promise_span, should_escalate,
    warn_time, widens,
)
from bot.domain.tickets import Ticket, TicketAction, TicketStatus, transition
from bot.domain.timefmt import happened_minute, stated_minute
from bot.ledger.notices import Notice, notice

# The ticket status each kind of waiting promise belongs to: if the ticket has left it,
# the wait ended some other way and there is nothing to say.
_WAIT_STATUS = {PromiseKind.AWAITING_REQUESTER: TicketStatus.WAITING_REQUESTER,
                PromiseKind.AWAITING_CONFIRMATION: TicketStatus.RESOLVED}


@dataclass(frozen=True)
class CoverInputs:
    """Everything covering one promise depends on, loaded before planning."""

    promise: Promise
    ticket: Ticket
    workspace: Workspace
    policy: DeskPolicy
    requester: Person
    owner: Person | None  # the promise's owner, else the ticket's
    leads: tuple[Person, ...]
    now: datetime
    # For a resolution target: the ticket's soonest open update (first response, status
    # update or follow-up) as (promise id, due time), which the cover points to.
    open_update: tuple[int, datetime] | None = None
    # The workspace's admins, loaded only when the ticket's team has no lead to ask
    # (they are told when an escalation finds nobody to ask).
    admins: tuple[Person, ...] = ()
    # Who the one widening escalation of a run of misses also reaches (the team's
    # other leads, else the admins; never those in ``leads`` nor the owner), loaded
    # only for a miss that widens (:func:`bot.domain.promises.widens`).
    wider: tuple[Person, ...] = ()


@dataclass(frozen=True)
class NextPromise:
    """The promise a cover makes: the new time it gave."""

    kind: PromiseKind
    due_at: datetime
    owner_id: int | None = None
    text: str = ""
    misses_in_row: int = 0
    warn_at: datetime | None = None
    step: int = 0


@dataclass(frozen=True)
class TimelineLine:
    """A line the cover adds to the ticket's timeline."""

    kind: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CoverPlan:
    """What covering one promise writes. An empty plan (no update, nothing else) means
    the promise owed nothing any more: it is recorded as missed and nothing is said."""

    promise: Promise
    ticket: Ticket
    workspace: Workspace
    policy: DeskPolicy
    # The requester-facing update: the promise's cover, linked to it once written.
    update: OutboundMessage | None = None
    # Other messages, written at once (a note in the triage thread).
    posts: tuple[OutboundMessage, ...] = ()
    # Reminders and escalations, gathered per person across the sweep.
    notices: tuple[Notice, ...] = ()
    # Messages written after the gathered notices: an escalation's note in the triage
    # thread, which follows the leads' private word as ``/ticket escalate`` does.
    after: tuple[OutboundMessage, ...] = ()
    # Open promises of the ticket to cancel before the next one is recorded: None
    # cancels nothing, () cancels every open promise.
    cancel: tuple[PromiseKind, ...] | None = None
    next_promise: NextPromise | None = None
    # The status the ticket moves to (a close), if any.
    status: TicketStatus | None = None
    timeline: tuple[TimelineLine, ...] = ()
    # Escalation was due but the ticket's team has no lead: nobody was asked (the admins
    # and the owner are told, in ``notices``, the first time in a run of misses).
    no_leads: bool = False
    # The open update this plan told the requester about (id, due time): a plan made
    # ahead is worked out afresh if that promise changed meanwhile.
    relies_on: tuple[int, datetime] | None = None


def plan_cover(inputs: CoverInputs) -> CoverPlan:
    """The plan for covering ``inputs.promise`` at ``inputs.now``."""
    promise, ticket = inputs.promise, inputs.ticket
    if promise.kind in WAITS_ON_REQUESTER:
        if ticket.status is not _WAIT_STATUS[promise.kind]:
            return _nothing(inputs)  # the wait ended some other way
        return _plan_wait(inputs)
    if not ticket.status.is_active:
        return _nothing(inputs)  # a resolved or closed ticket owes nothing more
    return _plan_desk_promise(inputs)


def _nothing(inputs: CoverInputs) -> CoverPlan:
    return CoverPlan(inputs.promise, inputs.ticket, inputs.workspace, inputs.policy)


class _Words:
    """The workspace's wording and times as each reader sees them."""

    def __init__(self, inputs: CoverInputs) -> None:
        self.inputs = inputs
        self.render = inputs.policy.templates.render

    def when(self, moment: datetime, person: Person | None = None) -> str:
        """A time in ``person``'s zone (the requester's by default)."""
        inputs = self.inputs
        tz = (person or inputs.requester).reads_in(inputs.policy.calendar.timezone)
        return inputs.policy.when(moment, inputs.now, tz)


def _plan_desk_promise(inputs: CoverInputs) -> CoverPlan:
    promise, ticket, policy, now = inputs.promise, inputs.ticket, inputs.policy, inputs.now
    words = _Words(inputs)
    t, when = words.render, words.when
    # A missed resolution target is not promised again; the update cadence goes on.
    # When an update is already promised, the requester is pointed to it rather than
    # given a second cadence (two "you'll hear from us by" times that disagree).
    relies_on = None
    if promise.kind is PromiseKind.RESOLUTION and inputs.open_update is not None:
        relies_on = inputs.open_update
        next_due = relies_on[1]
    else:
        interval = policy.sla.target(ticket.priority).update_interval
        next_span = next_promise_span(promise, interval, policy.calendar)
        # Counted from the minute the cover runs in (a cover a few seconds after 13:50
        # counts from 13:50, not 13:50:20, which would say 13:51 and drift a minute
        # later with each lapse); said and recorded as the minute it is stated (the
        # promise row rounds the same).
        next_due = stated_minute(policy.calendar.add_business_time(happened_minute(now),
                                                                   next_span))
    misses = promise.misses_in_row + 1
    owner = inputs.owner
    owner_name = owner.name if owner else t("card.unowned")
    # A promise the bot itself set after an earlier miss is not the owner's own word; a
    # ticket waiting on a third party is said to be waiting, not worked on.
    # A first response missed again is said the same way each time ("nobody has yet"):
    # the "repeat" wording is for tickets someone owns.
    kind = ("repeat" if promise.misses_in_row and promise.kind is not PromiseKind.FIRST_RESPONSE
            else promise.kind.value)
    if promise.kind is PromiseKind.STATUS_UPDATE \
            and ticket.status is TicketStatus.WAITING_THIRD_PARTY:
        kind = "status_update_third_party"
    elif kind == "status_update" and owner is None:
        kind = "status_update_unowned"  # no "it's still with" nobody
    key = f"lapse.{kind}" + ("_late" if is_late(promise.due_at, now) else "")
    update = to_requester(ticket, t(key, ref=ticket.ref, owner=owner_name,
                                    due=when(promise.due_at), next=when(next_due)))
    what = t(f"what.{promise.kind.value}")
    notices: list[Notice] = []
    posts: list[OutboundMessage] = []
    if owner is not None:
        notices.append(notice(owner, inputs.workspace, policy, ticket, "owner_reminder",
                              ref=ticket.ref, requester=inputs.requester.name, what=what,
                              due=when(promise.due_at, owner), next=when(next_due, owner)))
    else:
        # The promise by name: after a transfer an unowned ticket's lapse is often a
        # follow-up or an update, not a first response (FINDINGS-20c M2).
        note = to_agents(ticket, t("lapse.triage_unowned", ref=ticket.ref,
                                   requester=inputs.requester.name, what=what,
                                   due=when(promise.due_at), next=when(next_due)))
        if note is not None:
            posts.append(note)
    timeline = []
    after: list[OutboundMessage] = []
    urgent = ticket.priority is Priority.P1
    escalate = should_escalate(misses, urgent)
    escalated = t("timeline.escalated", what=what, misses=misses)
    if escalate and inputs.leads:
        for lead in inputs.leads:
            notices.append(notice(lead, inputs.workspace, policy, ticket, "escalation",
                                  ref=ticket.ref, requester=inputs.requester.name, what=what,
                                  misses=misses, priority=ticket.priority.value,
                                  owner=owner_name, due=when(promise.due_at, lead),
                                  next=when(next_due, lead)))
        asked = policy.templates.join(p.name for p in inputs.leads)
        # It lapsed again after a lead was asked: the wider circle hears too, once in
        # this run of misses, and is told it will not hear of each miss after.
        wider = inputs.wider if widens(misses, urgent) else ()
        for person in wider:
            notices.append(notice(person, inputs.workspace, policy, ticket,
                                  "escalation_wider", ref=ticket.ref,
                                  requester=inputs.requester.name, what=what, misses=misses,
                                  priority=ticket.priority.value, owner=owner_name,
                                  asked=asked, next=when(next_due, person)))
        # Then the triage thread, so the team sees a lead was asked (and who).
        fields = dict(ref=ticket.ref, requester=inputs.requester.name, what=what,
                      misses=misses, priority=ticket.priority.value, owner=owner_name,
                      leads=asked, next=when(next_due))
        triage = to_agents(ticket, t("lapse.escalation_triage_wider", **fields,
                                     wider=policy.templates.join(p.name for p in wider))
                           if wider else t("lapse.escalation_triage", **fields))
        if triage is not None:
            after.append(triage)
        data: dict[str, Any] = {"automatic": True}
        if wider:
            data["widened_to"] = [p.name for p in wider]
            escalated = t("timeline.escalated_wider", what=what, misses=misses,
                          wider=policy.templates.join(p.name for p in wider))
        timeline.append(TimelineLine("escalated", escalated, data))
    elif escalate:
        # Nobody to ask: the timeline says so (never "escalated"), and the admins and
        # the owner hear it once, when this run of misses first calls for a lead.
        timeline.append(TimelineLine("no_lead", escalated, {"automatic": True}))
        if not (promise.misses_in_row and should_escalate(promise.misses_in_row, urgent)):
            notices.extend(_no_lead_notices(inputs, what, misses, owner_name))
    next_kind = (PromiseKind.STATUS_UPDATE if promise.kind is PromiseKind.RESOLUTION
                 else promise.kind)
    timeline.append(TimelineLine("bot", t("timeline.covered", what=what),
                                 {"promise_id": promise.id, "next_due": next_due.isoformat()}))
    next_promise = None if relies_on else NextPromise(
        next_kind, next_due, owner_id=promise.owner_id, text=promise.text,
        misses_in_row=misses,
        # The next time counts from the minute the cover runs in; the heads-up from now,
        # over what is left of it, so it never falls after the time it warns about.
        warn_at=warn_time(now, next_due, policy.sla.warn_at, policy.calendar))
    # A new status update or follow-up replaces whichever of the two is open: a ticket
    # has one update cadence.
    cancel = None
    if next_promise is not None and next_kind in (PromiseKind.STATUS_UPDATE,
                                                  PromiseKind.FOLLOW_UP):
        cancel = (PromiseKind.STATUS_UPDATE, PromiseKind.FOLLOW_UP)
    return CoverPlan(
        promise, ticket, inputs.workspace, policy, update=update, posts=tuple(posts),
        notices=tuple(notices), after=tuple(after), cancel=cancel, next_promise=next_promise,
        timeline=tuple(timeline), no_leads=escalate and not inputs.leads,
        relies_on=relies_on)


def _no_lead_notices(inputs: CoverInputs, what: str, misses: int,
                     owner_name: str) -> list[Notice]:
    """The admins' and the owner's word that an escalation found no lead to ask, with
    how to add one. An owner who is an admin gets the admins' message only."""
    ticket, policy, workspace = inputs.ticket, inputs.policy, inputs.workspace
    fields = dict(ref=ticket.ref, requester=inputs.requester.name, what=what, misses=misses,
                  priority=ticket.priority.value, owner=owner_name)
    # With several teams it is the ticket's team that has no lead (another team's leads
    # are never asked: bot/desk/duty.py), and the words say which, with its fix.
    team = workspace.team(ticket.team_id) if len(workspace.teams) > 1 else None
    why = ""
    if team is not None:
        why, fields["team"] = "_team", team.name
    notices = [notice(admin, workspace, policy, ticket, "no_lead_admin" + why, **fields)
               for admin in inputs.admins]
    owner = inputs.owner
    if owner is not None and owner.id not in {admin.id for admin in inputs.admins}:
        key = "no_lead_owner" if inputs.admins else "no_lead_owner_alone"
        notices.append(notice(owner, workspace, policy, ticket, key + why, **fields))
    return notices


def _plan_wait(inputs: CoverInputs) -> CoverPlan:
    promise, ticket, policy, now = inputs.promise, inputs.ticket, inputs.policy, inputs.now
    words = _Words(inputs)
    t = words.render
    waiting = promise.kind is PromiseKind.AWAITING_REQUESTER
    plan = policy.waiting if waiting else policy.confirmation
    if promise.step == 0:
        close_at = stated_minute(policy.calendar.add_business_time(happened_minute(now),
                                                                   plan.close_after))
        if waiting:
            update = to_requester(ticket, t("lapse.nudge", ref=ticket.ref,
                                            close=words.when(close_at)))
        else:
            update = to_requester(
                ticket, t("lapse.confirm_reminder", ref=ticket.ref, close=words.when(close_at)),
                confirmation_buttons(ticket, t("buttons.solved_yes"), t("buttons.solved_no")))
        # The agents' timeline shows the nudge too, and when the ticket will close.
        line = TimelineLine("bot", t("timeline.nudged" if waiting else "timeline.reminded"),
                            {"promise_id": promise.id, "close_at": close_at.isoformat()})
        return CoverPlan(promise, ticket, inputs.workspace, policy, update=update,
                         next_promise=NextPromise(promise.kind, close_at,
                                                  owner_id=promise.owner_id, step=1),
                         timeline=(line,))
    status = transition(ticket.status, TicketAction.AUTO_CLOSE,
                        has_owner=ticket.owner_id is not None, number=ticket.number)
    key = "lapse.closed_no_reply" if waiting else "lapse.closed_unconfirmed"
    return CoverPlan(promise, ticket, inputs.workspace, policy,
                     update=to_requester(ticket, t(key, ref=ticket.ref)), cancel=(),
                     status=status,
                     timeline=(TimelineLine("status", status.value, {"automatic": True}),))
