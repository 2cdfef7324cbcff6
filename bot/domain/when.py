"""Reading "when" the way an agent writes it: a duration (``45m``, ``2h``) or a time
(``15:00``, ``3pm``, ``tomorrow 9am``) in the agent's own time zone.

:func:`parse_when` and :func:`split_when` read a duration as wall-clock time.
:func:`read_when`, given the desk's calendar, counts it the way the desk works, as a
real desk does with "I'll get back to you in 2 hours" said at 17:30: hours and minutes
in business time (the desk's open hours), whole days as working days and whole weeks
as calendar weeks, at the same clock time (see :func:`span_end`). A clock time is the
agent's own and is kept as given, even outside the desk's hours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Phrase, Unreadable
from bot.domain.sla import parse_duration

# A day's name reads as its next date (today's when the time has not passed yet), so
# "monday 15:00" can be written, and suggested, on a Friday evening.
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAYS = "today|tomorrow|tmrw|" + "|".join(WEEKDAYS) + "|" + "|".join(d[:3] for d in WEEKDAYS)
_TIME = re.compile(r"^(?:(DAYS)\s+(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$"
                   .replace("DAYS", _DAYS))
# Written like a clock time but not one (25:00, 9:75, 12:345, 1:2): said as such.
_CLOCKISH = re.compile(r"^(?:(?:DAYS)\s+(?:at\s+)?)?\d+:\d+\s*(?:am|pm)?$"
                       .replace("DAYS", _DAYS))
_DAY_ALONE = re.compile(r"^(DAYS)(?:\s+at)?$".replace("DAYS", _DAYS))
_HELP = Phrase("input.when_help")
# The answer that only says "I couldn't read it": any other says more.
_VAGUE = frozenset({"input.when_unreadable"})
MAX_WORDS = 3


@dataclass(frozen=True)
class When:
    """A time an agent named: the instant ``at``, and ``span`` when they wrote a
    duration (``None`` for a clock time)."""

    at: datetime
    span: timedelta | None = None
    written: str = ""  # the words that named it, as the agent wrote them


_DAY, _WEEK = timedelta(days=1), timedelta(weeks=1)


def span_end(start: datetime, span: timedelta, calendar: BusinessCalendar) -> datetime:
    """When a span an agent gave, counted from ``start``, ends in the desk's time: whole
    weeks are calendar weeks and whole days working days, at the same clock time (or
    the next opening); any other span is business time (``2h`` at 17:30 on a desk that
    closes at 18:00 is 10:30 the next working morning)."""
    if span % _WEEK == timedelta(0):
        return calendar.later_at_same_time(start, days=7 * (span // _WEEK))
    if span % _DAY == timedelta(0):
        return calendar.later_at_same_time(start, working_days=span // _DAY)
    return calendar.add_business_time(start, span)


def parse_when(text: str, now: datetime, tz: str | None) -> datetime:
    """The instant ``text`` names, after ``now``; raises :class:`Unreadable` (a
    ValueError) naming what was wrong with it: a time of day that is none, a day with
    no time, a duration that is zero, negative, too long or has no unit, or words that
    are neither. A duration is wall-clock time from ``now``."""
    return _parse(text, now, tz).at


def _parse(text: str, now: datetime, tz: str | None) -> When:
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise Unreadable("input.when_empty", help=_HELP)
    if cleaned.startswith("at "):
        cleaned = cleaned[3:]
    match = _TIME.match(cleaned)
    if match and (match.group(3) or match.group(4) or match.group(1)):
        return When(_at_time(match, now, _zone(tz), cleaned))
    day = _DAY_ALONE.match(cleaned)
    if day:
        example = "tomorrow 9am" if day.group(1) != "today" else "today 3pm"
        raise Unreadable("input.when_needs_time", text=cleaned, example=example)
    if _CLOCKISH.match(cleaned):
        raise Unreadable("input.when_not_time_of_day", text=cleaned, help=_HELP)
    try:
        span = parse_duration(cleaned[3:] if cleaned.startswith("in ") else cleaned)
        return When(now + span, span)
    except Unreadable as error:
        if error.template in ("input.duration_unreadable", "input.duration_empty"):
            raise Unreadable("input.when_unreadable", text=text.strip(), help=_HELP) from None
        raise  # the duration's own reason: zero, negative, too long, no unit


def split_when(text: str, now: datetime, tz: str | None) -> tuple[datetime, str]:
    """The time the first words of ``text`` name (up to three: ``tomorrow at 9am``) and
    the words after it. When none read as a time, the reason given is about the longest
    beginning that came close (``tomorrow 25:00 call them`` isn't a time of day), or
    else about the first word. A duration is wall-clock time from ``now``."""
    when, rest = _split(text, now, tz)
    return when.at, rest


def read_when(text: str, now: datetime, tz: str | None,
              calendar: BusinessCalendar) -> tuple[When, str]:
    """:func:`split_when` for a time an agent promises: a duration counts in the desk's
    time (:func:`span_end`); a clock time is kept as the agent gave it."""
    try:
        when, rest = _split(text, now, tz)
    except Unreadable as error:
        opens = _next_open_day(now, tz, calendar)
        if error.template == "input.when_passed_today" and opens is not None:
            raise Unreadable("input.when_passed_closed_tomorrow", day=opens,
                             **error.fields) from None
        raise
    if when.span is not None:
        when = When(span_end(now, when.span, calendar), when.span, when.written)
    return when, rest


def _next_open_day(now: datetime, tz: str | None, calendar: BusinessCalendar) -> date | None:
    """The next day the desk opens when that is not tomorrow (a Friday evening: the
    Monday), for "did you mean ..."; None when it opens tomorrow (or within no week)."""
    today = now.astimezone(_zone(tz)).date()
    for ahead in range(1, 8):
        day = today + timedelta(days=ahead)
        if calendar.opens_on(day):
            return day if ahead > 1 else None
    return None


def _split(text: str, now: datetime, tz: str | None) -> tuple[When, str]:
    # "<when> | <words>" marks where the time ends (Discord's typed options are joined
    # so); when the part before the bar is not a time on its own, the bar is just text.
    before, bar, after = text.partition("|")
    if bar and before.strip():
        try:
            return _named(before.strip(), now, tz), after.strip()
        except Unreadable:
            pass
    words = text.split()
    if not words:
        raise Unreadable("input.when_empty", help=_HELP)
    closest: Unreadable | None = None
    last: Unreadable | None = None
    for take in range(min(MAX_WORDS, len(words)), 0, -1):
        try:
            return _named(" ".join(words[:take]), now, tz), " ".join(words[take:])
        except Unreadable as error:
            last = error
            if closest is None and error.template not in _VAGUE:
                closest = error
    assert last is not None
    raise closest or last


def _named(text: str, now: datetime, tz: str | None) -> When:
    when = _parse(text, now, tz)
    return When(when.at, when.span, text)


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _at_time(match: re.Match, now: datetime, zone: ZoneInfo, cleaned: str) -> datetime:
    day_word, hour, minute, meridiem = match.groups()
    hour, minute = int(hour), int(minute or 0)
    if meridiem:
        if not 1 <= hour <= 12:
            raise Unreadable("input.when_not_12_hour", text=cleaned, help=_HELP)
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise Unreadable("input.when_not_time_of_day", text=cleaned, help=_HELP)
    local_now = now.astimezone(zone)
    ahead = 1 if day_word in ("tomorrow", "tmrw") else 0
    named = _weekday(day_word)
    if named is not None:
        ahead = (named - local_now.weekday()) % 7
    moment = _on(local_now.date() + timedelta(days=ahead), hour, minute, zone)
    if moment <= now and named is not None:
        moment = _on(local_now.date() + timedelta(days=ahead + 7), hour, minute, zone)
    if moment <= now:
        if day_word:
            raise Unreadable("input.when_passed", text=cleaned, help=_HELP)
        raise Unreadable("input.when_passed_today", text=cleaned)
    return moment


def _on(day, hour: int, minute: int, zone: ZoneInfo) -> datetime:
    # fold=0 and a UTC round trip: a time inside a DST gap moves later, as clocks do.
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(ZoneInfo("UTC"))


def _weekday(word: str | None) -> int | None:
    """0 for "monday" or "mon", ...; None for any other word (or none)."""
    for number, name in enumerate(WEEKDAYS):
        if word in (name, name[:3]):
            return number
    return None
