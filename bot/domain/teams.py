"""Teams: the desks behind one front door (IT, HR, Facilities...), as plain values.

A workspace has one or more teams; exactly one is its default, which takes direct
messages and mentions that no intake channel routes elsewhere. Admin commands name a
team with a trailing ``team <name>``, read here, so that no other parser ever takes
those two words for anything else (people, a channel, a time zone).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Unreadable
from bot.domain.promises import (
    DESK_OWES, UPDATE_KINDS, Promise, PromiseStatus, warn_time_for_span,
)
from bot.domain.sla import SlaTarget

# The settings a team owns; what it leaves out comes from its workspace.
TEAM_KEYS = ("calendar", "sla", "templates")
DEFAULT_TEAM = "it"
# A team's name is one short word people can type: letters, digits, dashes.
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,29}")
_SUFFIX = re.compile(r"(?:^|\s)team\s+(\S+)\s*$", re.I)


@dataclass(frozen=True)
class Team:
    """One team of a workspace, with its own policy settings (calendar, SLA targets,
    wording overrides) as stored."""

    id: int
    workspace_id: int
    name: str
    is_default: bool = False
    settings: dict = field(default_factory=dict, compare=False, hash=False)


# Words a command or a platform already reads as something else: a team called "team"
# breaks ``team <name>``, the next four read as a call to everyone, and the on-duty
# command reads ``rota``, ``end``, ``from`` and ``until`` after the team.
_RESERVED = frozenset({"team", "everyone", "here", "channel", "all", "rota", "end", "from",
                       "until"})
# Words that point at a person, never at a team: ``/ticket transfer 5 me`` or
# ``team you`` would read as someone. ("it" is the default team's name, and people
# don't say it of a person.)
_PRONOUNS = frozenset({
    "i", "me", "my", "mine", "myself", "you", "your", "yours", "yourself", "we", "us",
    "our", "ours", "they", "them", "their", "theirs", "he", "him", "his", "she", "her",
    "hers", "someone", "somebody", "anyone", "anybody", "nobody", "everybody"})
# How a chat writes a mention of a person or a channel, and how people type one.
_MENTION = re.compile(r"^(?:<[@#!]|[@#])")
_PERSON_MENTION = re.compile(r"^<?@")


def is_person_word(text: str) -> bool:
    """True when ``text`` is a mention of a person (``@hana``, ``<@U1>``) or a word
    that points at one (``me``, ``you``): never a team, wherever a team goes."""
    word = text.strip().lower()
    return bool(_PERSON_MENTION.match(word)) or word in _PRONOUNS


def team_name(text: str) -> str:
    """``text`` as a team's name (lower case), or Unreadable naming what was wrong."""
    name = text.strip().lower()
    if _MENTION.match(name):
        # "@hana" is a person (or "#hr" a channel): say that, not that it has a stray
        # character in it.
        raise Unreadable("input.team_name_mention", name=text.strip()[:200])
    if name in _PRONOUNS:
        raise Unreadable("input.team_name_pronoun", name=name)
    if not _NAME.fullmatch(name):
        # Bounded here; the desk cuts it to a readable length, saying so (team_refs.py).
        raise Unreadable("input.bad_team_name", name=text.strip()[:200])
    if name in _RESERVED:
        raise Unreadable("input.team_name_reserved", name=name)
    if name.isdigit():
        # It would read as a ticket number wherever both may come.
        raise Unreadable("input.team_name_number", name=name)
    return name


def split_team(text: str) -> tuple[str, str | None]:
    """``text`` without a trailing ``team <name>``, and that name (lower case), or
    ``(text, None)`` when it names no team. ``team`` alone at the end names nothing and
    is left in place for the command to refuse."""
    match = _SUFFIX.search(text)
    if match is None:
        return text, None
    return text[:match.start()].rstrip(), team_name(match.group(1))


# The target each kind of promise is re-planned with on a new team's policy. A follow-up
# was one person's word, which the new team never gave: it is planned as the new team's
# next update (its update interval from now), so the time it is due always leaves the
# team working time to keep it, never its opening minute after a closed weekend
# (FINDINGS-20c M1).
_TARGET_OF = {"first_response": "first_response", "status_update": "update_interval",
              "follow_up": "update_interval", "resolution": "resolution"}


# The least of a new team's working time a held time must leave it for the team to keep
# that time after a transfer (bounded by the target itself: a 30-minute P1 update
# interval needs no more than 30 minutes); with less, it plans its own.
KEEP_ROOM = timedelta(hours=1)


def replan_for_transfer(promises: Iterable[Promise], now: datetime, calendar: BusinessCalendar,
                        target: SlaTarget, warn_share: float,
                        held_first: datetime | None = None,
                        ) -> dict[int, tuple[datetime, datetime | None]]:
    """The new due time and heads-up of each open promise of a ticket moving to a team
    with ``calendar`` and the priority's ``target``, planned from ``now``.

    A transfer never shortens a promise the requester holds, nor stretches a time they
    will hear from us by (a first response, follow-up or update) that the new team can
    meet: one in the new team's open hours that leaves it at least ``KEEP_ROOM`` of its
    working time (or the whole target, if shorter) is kept. A resolution target is the
    new team's work to plan, never kept merely because an hour is left.
    Otherwise it is due at the later of its old time and the new team's plan from now,
    and always in the new team's open hours (a time the new team is closed moves to
    its next opening, never earlier).
    ``held_first`` is the time the requester held before the ticket's first transfer:
    a ticket moved on again (back where it started, or to a third team) is owed the
    later of the new team's plan and that time, not of a later time an earlier hop
    added, so a misroute does not cost a day at every hop (FINDINGS-20c M3).
    Promises the desk is not running (paused while it waits on the requester, or held
    by a sweeper) are left alone."""
    planned: dict[int, tuple[datetime, datetime | None]] = {}
    for promise in promises:
        if promise.status is not PromiseStatus.PENDING or promise.kind not in DESK_OWES:
            continue
        field_name = _TARGET_OF.get(promise.kind.value)
        plan = (calendar.add_business_time(now, getattr(target, field_name))
                if field_name else now)
        held = promise.due_at
        if held_first is not None and promise.kind in UPDATE_KINDS:
            held = min(held, held_first)
        room = min(KEEP_ROOM, getattr(target, field_name)) if field_name else KEEP_ROOM
        if (promise.kind in UPDATE_KINDS and held >= now and calendar.is_in_hours(held)
                and calendar.business_time_between(now, held) >= room):
            # The new team can meet the time the requester holds: it keeps it, rather
            # than stretch it to its own plan and apologise (RECHECK-20 N4).
            due = held
        else:
            due = max(plan, held)
            if not calendar.is_in_hours(due):
                due = calendar.next_opening(due)
        span = calendar.business_time_between(now, due)
        planned[promise.id] = (due, warn_time_for_span(now, span, warn_share, calendar))
    return planned
