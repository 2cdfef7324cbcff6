"""Helpers for :mod:`bot.domain.calendar`: open-interval generation and parsing.

Private module: the public API is :class:`bot.domain.calendar.BusinessCalendar`.

Wall-clock policy around DST transitions
-----------------------------------------
Opening and closing wall times are attached to their local date with
``fold=0`` and converted to UTC. For a wall time inside a spring-forward gap
(which never happens on the clock) ``fold=0`` applies the offset in force
*before* the gap, so after the UTC round trip it lands the gap's length later,
e.g. 02:30 on the US spring-forward Sunday becomes 03:30 EDT. For a wall time
that happens twice (fall back) ``fold=0`` picks the first occurrence. Should
an interval collapse or overlap the previous day's interval because of this,
it is clipped; empty intervals are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.domain.errors import Unreadable

UTC = timezone.utc
MIDNIGHT = time(0, 0)
ONE_DAY = timedelta(days=1)
# A calendar that stays closed this long is misconfigured (or all holidays).
MAX_CLOSED_DAYS = 400

Span = tuple[time, time]
Interval = tuple[datetime, datetime]

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_GROUPS = {
    "weekdays": range(0, 5),
    "weekends": range(5, 7),
    "daily": range(0, 7),
    "everyday": range(0, 7),
}
_CLOCK = re.compile(r"(\d{1,2})(?::(\d{2}))?")
_ISO_CLOCK = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


def _to_utc(zone: ZoneInfo, day: date, wall: time) -> datetime:
    # fold=0 + UTC conversion is the documented DST policy (module docstring).
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def day_interval(zone: ZoneInfo, day: date, span: Span) -> Interval:
    """UTC start and end of ``span`` on local ``day`` (close 00:00 means 24:00)."""
    open_, close = span
    end_day, end_wall = (day + ONE_DAY, MIDNIGHT) if close == MIDNIGHT else (day, close)
    return _to_utc(zone, day, open_), _to_utc(zone, end_day, end_wall)


def iter_open_intervals(
    zone: ZoneInfo,
    hours: Sequence[Span | None],
    holidays: Collection[date],
    start: datetime,
    end: datetime | None = None,
) -> Iterator[Interval]:
    """Yield ascending, disjoint UTC open intervals that end after ``start``.

    With ``end`` the walk stops once past ``end``'s local date; without it the
    walk is unbounded and raises ``ValueError`` if the calendar has no open
    hours or stays closed for more than ``MAX_CLOSED_DAYS`` consecutive days.
    """
    if end is None and all(span is None for span in hours):
        raise ValueError("the business calendar has no opening hours on any day")
    # Start a day early: the previous local day's interval may still be open.
    day = start.astimezone(zone).date() - ONE_DAY
    last_day = None if end is None else end.astimezone(zone).date() + ONE_DAY
    prev_end: datetime | None = None
    closed_run = 0
    while last_day is None or day <= last_day:
        span = hours[day.weekday()]
        found = False
        if span is not None and day not in holidays:
            lo, hi = day_interval(zone, day, span)
            if prev_end is not None and lo < prev_end:
                lo = prev_end
            if lo < hi:
                found = True
                prev_end = hi
                if hi > start:
                    yield lo, hi
        closed_run = 0 if found else closed_run + 1
        if end is None and closed_run > MAX_CLOSED_DAYS:
            raise ValueError(
                f"the business calendar stays closed for more than {MAX_CLOSED_DAYS} "
                f"days after {start.isoformat()} (check the holidays and opening hours)"
            )
        day += ONE_DAY


def _day_index(token: str) -> int:
    if len(token) >= 2:
        for index, name in enumerate(DAY_NAMES):
            # Accept "mon", "monday", "tues", "thurs" ... but not ambiguous "t" or "s".
            if (len(token) >= 3 and name.startswith(token)) or token == name[:2]:
                return index
    raise Unreadable("input.unknown_day", text=token)


def parse_days(spec: str) -> frozenset[int]:
    """Parse ``"mon-fri"``, ``"mon,wed,fri"``, ``"fri-mon"`` or ``"weekdays"`` into weekdays."""
    days: set[int] = set()
    for raw in str(spec).lower().split(","):
        token = raw.strip()
        if not token:
            raise Unreadable("input.empty_day", days=str(spec))
        if token in _DAY_GROUPS:
            days.update(_DAY_GROUPS[token])
        elif "-" in token:
            first, _, last = (part.strip() for part in token.partition("-"))
            lo, hi = _day_index(first), _day_index(last)
            # Ranges may wrap around the weekend, e.g. "fri-mon".
            days.update((lo + i) % 7 for i in range((hi - lo) % 7 + 1))
        else:
            days.add(_day_index(token))
    return frozenset(days)


def _parse_clock(text: str, *, closing: bool, spec: str) -> time:
    match = _CLOCK.fullmatch(text.strip())
    if not match:
        raise Unreadable("input.clock_unreadable", text=text.strip(), hours=spec)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if minute > 59 or hour > 24 or (hour == 24 and (minute or not closing)):
        raise Unreadable("input.clock_invalid", text=text.strip(), hours=spec)
    return MIDNIGHT if hour == 24 else time(hour, minute)


def parse_span(spec: str) -> Span:
    """Parse ``"09:00-17:30"``, ``"9-17"`` or ``"0-24"`` into local (open, close)."""
    parts = str(spec).split("-")
    if len(parts) != 2:
        raise Unreadable("input.hours_unreadable", hours=str(spec))
    open_ = _parse_clock(parts[0], closing=False, spec=spec)
    close = _parse_clock(parts[1], closing=True, spec=spec)
    return check_span((open_, close))


def check_span(span: object) -> Span:
    """Validate one day's (open, close) pair; close 00:00 means midnight at day end."""
    if not (isinstance(span, tuple) and len(span) == 2 and all(isinstance(t, time) for t in span)):
        raise ValueError(
            f"opening hours must be an (open, close) pair of times or None, got {span!r}"
        )
    open_, close = span
    if open_.tzinfo is not None or close.tzinfo is not None:
        raise ValueError("opening hours are local wall times and must not carry a tzinfo")
    if close != MIDNIGHT and not open_ < close:
        raise Unreadable("input.opens_after_closing", open=format_clock(open_, closing=False),
                         close=format_clock(close, closing=True))
    return open_, close


def format_clock(t: time, *, closing: bool) -> str:
    """``"09:00"`` (seconds only when present); a closing midnight is ``"24:00"``."""
    if closing and t == MIDNIGHT:
        return "24:00"
    return t.isoformat(timespec="minutes" if not (t.second or t.microsecond) else "auto")


def parse_stored_clock(text: str, *, closing: bool) -> time:
    """Inverse of :func:`format_clock`."""
    if closing and text == "24:00":
        return MIDNIGHT
    if not isinstance(text, str) or not _ISO_CLOCK.fullmatch(text):
        raise ValueError(f"invalid stored time {text!r}")
    return time.fromisoformat(text)
