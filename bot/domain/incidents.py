"""Major incidents: one problem, many people, one honest voice.

An incident (``INC-N``, numbered per workspace) gathers the tickets of everyone hit by
the same problem. Its lead (the declarer) owes one update to all of them: the
incident's promise stands in for each linked ticket's own first-response and
status-update promises. This module holds the pure rules: states, references, reading
what agents type, and whether a message looks like an open incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Unreadable
from bot.domain.knowledge import analyse
from bot.domain.tickets import read_ticket_number
from bot.domain.when import When, read_when


class IncidentStatus(str, Enum):
    """An incident is open until its lead resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Incident:
    """An incident as the domain sees it."""

    id: int
    workspace_id: int
    number: int
    title: str
    owner_id: int
    status: IncidentStatus
    created_at: datetime
    resolved_at: datetime | None = None
    summary: str = ""
    # Its card in a triage channel (counting the reports asked about it): where it
    # is, and when its latest drawing is due (bot/desk/cards.py).
    card_channel_id: str | None = None
    card_message_id: str | None = None
    card_due_at: datetime | None = None

    @property
    def ref(self) -> str:
        """How people write this incident: ``INC-N``."""
        return ref_of(self.number)

    @property
    def is_open(self) -> bool:
        """Whether it still owes its requesters updates."""
        return self.status is IncidentStatus.OPEN


@dataclass(frozen=True)
class IncidentUpdate:
    """One update the lead (or the ledger, covering a lapse) gave everyone affected."""

    id: int
    incident_id: int
    body: str
    created_at: datetime
    author_id: int | None = None
    next_due_at: datetime | None = None
    kind: str = "update"


def ref_of(number: int) -> str:
    """How people read an incident's number."""
    return f"INC-{number}"


_REF = re.compile(r"^\s*(?:inc-?)?(\d{1,9})\s*$", re.I)


def parse_ref(text: str) -> int:
    """The number of ``INC-12`` (or ``inc12``, ``12``); raises Unreadable otherwise."""
    text = (text or "").strip()
    match = _REF.match(text)
    if not match or int(match.group(1)) < 1:
        raise Unreadable("input.bad_incident_ref", text=text)
    return int(match.group(1))


# "1-3" or "#1-#3": a run of tickets, at most this long.
_RANGE = re.compile(r"^(#?\d+)-(#?\d+)$")
MAX_RANGE = 1000


def read_ticket_numbers(text: str) -> list[int]:
    """Ticket numbers separated by spaces or commas, with or without ``#``, and runs
    written ``1-3``, each once and in the order written; raises Unreadable for a word
    that is no ticket number, ``input.ticket_range_too_long`` for a run of more than
    ``MAX_RANGE``, or ``input.need_ticket_numbers`` for none."""
    numbers: list[int] = []
    seen: set[int] = set()
    for word in re.split(r"[\s,]+", text.strip()):
        if not word:
            continue
        run = _RANGE.match(word)
        if run:
            first, last = read_ticket_number(run.group(1)), read_ticket_number(run.group(2))
            if not 0 <= last - first < MAX_RANGE:
                raise Unreadable("input.ticket_range_too_long", text=word, limit=MAX_RANGE)
            found = range(first, last + 1)
        else:
            found = [read_ticket_number(word)]
        for number in found:
            if number not in seen:
                seen.add(number)
                numbers.append(number)
    if not numbers:
        raise Unreadable("input.need_ticket_numbers")
    return numbers


def split_declare(text: str) -> tuple[str, list[int]]:
    """``<title> [from <n...>]`` as (title, ticket numbers). ``from`` starts the list
    only when every word after it reads as a ticket number; otherwise it is part of
    the title ("Email down from Outlook")."""
    words = text.split()
    # Down to the first word: "from 1" alone is a list with no title (refused), not
    # an incident titled "from 1".
    for index in range(len(words) - 1, -1, -1):
        if words[index].lower() == "from":
            try:
                numbers = read_ticket_numbers(" ".join(words[index + 1:]))
            except Unreadable:
                break
            return " ".join(words[:index]), numbers
    return text.strip(), []


def split_next(text: str, now: datetime, tz: str | None,
               calendar: BusinessCalendar) -> tuple[str, When | None]:
    """``<text> [next <when>]`` as (text, when). ``next <when>`` counts only as the last
    two words and only when ``<when>`` reads as a time; otherwise the words are the
    update's own ("we'll know more by the next shift"). A last word that was meant as a
    time but cannot be kept (a number, a day: ``next 09:00`` once it has passed, ``next
    0m``, ``next 99999d``, ``next yesterday``) raises :class:`Unreadable` with what was
    wrong: broadcast as words, it would sit beside the time the desk actually promises."""
    words = text.split()
    if len(words) >= 2 and words[-2].lower() == "next":
        try:
            when, rest = read_when(words[-1], now, tz, calendar)
        except Unreadable:
            if _meant_as_time(words[-1]):
                raise
            return text.strip(), None
        if not rest.strip():
            return " ".join(words[:-2]), when
    return text.strip(), None


# Words after "next" that can only have been meant as a time ("next monday" may well be
# the update's own words: a weekday alone is text, as before).
_DAY_WORDS = frozenset({"yesterday", "today", "tomorrow", "tmrw"})


def _meant_as_time(word: str) -> bool:
    """Whether ``word``, after "next", was meant as a time: it has a digit, or is
    yesterday, today or tomorrow."""
    return any(c.isdigit() for c in word) or word.lower().strip(".,;:!?") in _DAY_WORDS


def default_next(now: datetime, interval: timedelta, calendar: BusinessCalendar) -> datetime:
    """The incident's next promised update when the lead names none: the P1 update
    interval from now, in business time."""
    return calendar.add_business_time(now, interval)


# --- looking alike ------------------------------------------------------------------

# The share of an incident title's terms a message must mention to "look like" it.
MATCH_SHARE = 0.5


def signature(title: str) -> frozenset[str]:
    """The terms that define an incident: its title's, analysed as the knowledge base
    analyses text (stemmed, no stop words), so "VPN down" and "my vpn keeps dropping"
    meet on "vpn"."""
    return frozenset(analyse(title))


def looks_like(text: str, terms: frozenset[str]) -> bool:
    """Whether a message mentions at least half (and at least one) of an incident's
    defining ``terms``."""
    if not terms:
        return False
    shared = len(set(analyse(text)) & terms)
    return shared >= 1 and shared >= MATCH_SHARE * len(terms)


def alike(a: str, b: str) -> bool:
    """Whether two messages look like the same problem: they share at least half of
    the terms of the shorter one (and at least one)."""
    return alike_terms(frozenset(analyse(a)), frozenset(analyse(b)))


def alike_terms(first: frozenset[str], second: frozenset[str]) -> bool:
    """:func:`alike` on texts already analysed (``analyse``): a new ticket is compared
    with many recent ones, and its own words are analysed once."""
    if not first or not second:
        return False
    shared = len(first & second)
    return shared >= 1 and shared * 2 >= min(len(first), len(second))
