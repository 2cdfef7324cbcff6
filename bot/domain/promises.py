"""Promise kinds and the rules for when a promise is kept.

A promise is a time the desk stated to a requester. People keep promises by acting in
time; when one falls due unkept, the bot covers it (see the ledger sweeper).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.domain.calendar import BusinessCalendar


class PromiseKind(str, Enum):
    """Every kind of time the desk states."""

    FIRST_RESPONSE = "first_response"
    FOLLOW_UP = "follow_up"
    STATUS_UPDATE = "status_update"
    RESOLUTION = "resolution"
    AWAITING_REQUESTER = "awaiting_requester"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    # An incident's next update, owed to every linked ticket's requester at once and
    # owned by the incident lead (the promise has an incident and no ticket).
    INCIDENT_UPDATE = "incident_update"
    # A team's weekly digest, posted to its triage channel at the week's first opening
    # (no ticket, no incident, no owner: the desk keeps it itself; bot/ledger/digest.py).
    WEEKLY_DIGEST = "weekly_digest"


class PromiseStatus(str, Enum):
    """Where a promise stands. ``sending`` means a sweeper holds it under a lease;
    ``paused`` that its clock stands still while the desk waits on the requester (it
    keeps the business time it had left, ``Promise.paused_remaining``)."""

    PENDING = "pending"
    SENDING = "sending"
    PAUSED = "paused"
    KEPT = "kept"
    MISSED = "missed"
    CANCELLED = "cancelled"


class KeptBy(str, Enum):
    """Who kept a promise: a person in time, or the bot covering for one."""

    PERSON = "person"
    BOT = "bot"


@dataclass(frozen=True)
class Promise:
    """A promise as the domain sees it."""

    id: int
    workspace_id: int
    ticket_id: int
    kind: PromiseKind
    due_at: datetime
    made_at: datetime
    status: PromiseStatus = PromiseStatus.PENDING
    owner_id: int | None = None
    text: str = ""
    misses_in_row: int = 0
    warn_at: datetime | None = None
    step: int = 0
    paused_remaining: timedelta | None = None
    # Set (and ``ticket_id`` None) for an incident's promise: owed to all its requesters.
    incident_id: int | None = None


# What a person does that keeps each kind of promise (see `kept_by_action`).
_KEPT_BY = {
    PromiseKind.FIRST_RESPONSE: frozenset({"claim", "reply"}),
    PromiseKind.FOLLOW_UP: frozenset({"reply"}),
    PromiseKind.STATUS_UPDATE: frozenset({"reply"}),
    PromiseKind.RESOLUTION: frozenset({"resolve"}),
    PromiseKind.AWAITING_REQUESTER: frozenset({"requester_reply"}),
    PromiseKind.AWAITING_CONFIRMATION: frozenset({"requester_confirm"}),
    PromiseKind.INCIDENT_UPDATE: frozenset({"incident_update"}),
    PromiseKind.WEEKLY_DIGEST: frozenset(),
}


def kept_by_action(kind: PromiseKind, action: str) -> bool:
    """True when ``action`` (claim, reply, resolve, requester_reply, requester_confirm)
    keeps a promise of ``kind``."""
    return action in _KEPT_BY[kind]


# A bot update delivered more than this after the promise fell due owns its lateness
# ("sorry this update is late"): the process was down, or the platform held us back.
LATE_AFTER = timedelta(minutes=2)

# Kinds the desk owes (a miss is the desk's fault and earns an apology and an escalation)
# versus kinds where the desk waits on the requester (a lapse is a nudge, then a close).
DESK_OWES = frozenset({PromiseKind.FIRST_RESPONSE, PromiseKind.FOLLOW_UP,
                       PromiseKind.STATUS_UPDATE, PromiseKind.RESOLUTION})
# The times the desk says it will next be in touch: one of these is the requester's
# "you'll hear from us by", and a ticket has one cadence of them, never two.
UPDATE_KINDS = frozenset({PromiseKind.FIRST_RESPONSE, PromiseKind.FOLLOW_UP,
                          PromiseKind.STATUS_UPDATE})
WAITS_ON_REQUESTER = frozenset({PromiseKind.AWAITING_REQUESTER,
                                PromiseKind.AWAITING_CONFIRMATION})


def is_late(due_at: datetime, now: datetime, grace: timedelta = LATE_AFTER) -> bool:
    """True when covering a promise now is itself late, and the wording must say so."""
    return now - due_at > grace


def next_promise_span(missed: Promise, update_interval: timedelta,
                      calendar: BusinessCalendar) -> timedelta:
    """The business time, from now, to the new time the bot gives when ``missed`` lapses
    unkept (the new time is ``calendar.add_business_time(now, span)``).

    It is the ticket's update interval, but never less than the business time the missed
    promise itself ran for: a missed "5 minutes" must not turn into an update every 5
    minutes. A missed resolution target is followed by the update cadence, so only the
    interval counts there. Either way the new time falls in the desk's open hours (or
    exactly at an opening), never on a weekend or a holiday.
    """
    if missed.kind is PromiseKind.RESOLUTION:
        return update_interval
    ran_for = calendar.business_time_between(missed.made_at, missed.due_at)
    # To the whole minute: a promise made at 13:35:10 and stated as 13:36 ran for 50
    # seconds past a whole span, and carrying them would say each new time a minute
    # later than the last.
    return max(update_interval, ran_for - timedelta(seconds=ran_for.total_seconds() % 60))


def warn_time_for_span(start: datetime, span: timedelta, fraction: float,
                       calendar: BusinessCalendar) -> datetime | None:
    """When to give the owner a heads-up about a promise made at ``start`` and due
    ``span`` of business time later (at ``calendar.add_business_time(start, span)``):
    once ``fraction`` of that span has passed. None when the span is empty (nobody is at
    work to be warned), so a heads-up never lands outside open hours and never after the
    time it warns about."""
    if span <= timedelta(0):
        return None
    # Adding business time only moves later, so capping the share caps the instant.
    return calendar.add_business_time(start, min(span * fraction, span))


def warn_time(start: datetime, due: datetime, fraction: float,
              calendar: BusinessCalendar) -> datetime | None:
    """The heads-up (see :func:`warn_time_for_span`) for a promise made at ``start`` and
    due at any time ``due`` (an agent's own time may fall outside open hours)."""
    warn = warn_time_for_span(start, calendar.business_time_between(start, due), fraction,
                              calendar)
    return None if warn is None else min(warn, due)


def should_escalate(misses_in_row: int, is_p1: bool) -> bool:
    """Escalate to the lead on the second consecutive miss, or at once for P1."""
    return escalation_round(misses_in_row, is_p1) >= 1


# The escalation, in a run of misses, that also reaches the wider circle (the team's
# other leads, else the admins): the lead asked at the one before could not turn it
# round, so more people must know. Once: the rounds after reach the lead alone again,
# so a P1 lapsing hourly never floods everyone.
WIDEN_AT_ROUND = 2


def escalation_round(misses_in_row: int, is_p1: bool) -> int:
    """Which escalation of its run of misses the ``misses_in_row``-th miss is: 0 none,
    1 the first (the second miss in a row; any miss of a P1), 2 the next, and so on."""
    return max(0, misses_in_row if is_p1 else misses_in_row - 1)


def widens(misses_in_row: int, is_p1: bool) -> bool:
    """True for the one escalation of a run that also reaches the wider circle."""
    return escalation_round(misses_in_row, is_p1) == WIDEN_AT_ROUND


@dataclass(frozen=True)
class WaitPlan:
    """How long the desk waits on a requester before a nudge, then before closing."""

    nudge_after: timedelta
    close_after: timedelta
