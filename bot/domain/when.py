"""Reading "when" the way an agent writes it: a duration (``45m``, ``2h``) or a time
(``15:00``, ``3pm``, ``tomorrow 9am``) in the agent's own time zone.

Durations here are wall-clock, as the requester will read them; SLA targets, by
contrast, count business time.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.errors import Phrase, Unreadable
from bot.domain.sla import parse_duration

_TIME = re.compile(r"^(?:(today|tomorrow|tmrw)\s+(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
_HELP = Phrase("input.when_help")


def parse_when(text: str, now: datetime, tz: str | None) -> datetime:
    """The instant ``text`` names, after ``now``; raises :class:`Unreadable` (a
    ValueError) naming what was wrong with it."""
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise Unreadable("input.when_empty", help=_HELP)
    match = _TIME.match(cleaned)
    if match and (match.group(3) or match.group(4) or match.group(1)):
        return _at_time(match, now, _zone(tz), cleaned)
    try:
        return now + parse_duration(cleaned)
    except ValueError:
        raise Unreadable("input.when_unreadable", text=text.strip(), help=_HELP) from None


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
    day = local_now.date() + timedelta(days=1 if day_word in ("tomorrow", "tmrw") else 0)
    # fold=0 and a UTC round trip: a time inside a DST gap moves later, as clocks do.
    moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    if moment <= now:
        if day_word:
            raise Unreadable("input.when_passed", text=cleaned, help=_HELP)
        raise Unreadable("input.when_passed_today", text=cleaned)
    return moment
