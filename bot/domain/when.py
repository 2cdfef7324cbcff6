"""Reading "when" the way an agent writes it: a duration (``45m``, ``2h``) or a time
(``15:00``, ``3pm``, ``tomorrow 9am``) in the agent's own time zone.

Durations here are wall-clock, as the requester will read them; SLA targets, by
contrast, count business time.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.sla import parse_duration

_TIME = re.compile(r"^(?:(today|tomorrow|tmrw)\s+(?:at\s+)?)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)?$")
WHEN_HELP = "Write a duration like 45m, 2h or 3d, or a time like 15:00, 3pm or tomorrow 9am."


def parse_when(text: str, now: datetime, tz: str | None) -> datetime:
    """The instant ``text`` names, after ``now``; raises ValueError with a readable reason."""
    cleaned = " ".join(text.strip().lower().split())
    if not cleaned:
        raise ValueError(f"I need a time. {WHEN_HELP}")
    match = _TIME.match(cleaned)
    if match and (match.group(3) or match.group(4) or match.group(1)):
        return _at_time(match, now, _zone(tz), cleaned)
    try:
        return now + parse_duration(cleaned)
    except ValueError:
        raise ValueError(f"I couldn't read “{text.strip()}” as a time. {WHEN_HELP}") from None


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
            raise ValueError(f"“{cleaned}” isn't a time on a 12-hour clock. {WHEN_HELP}")
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"“{cleaned}” isn't a time of day. {WHEN_HELP}")
    local_now = now.astimezone(zone)
    day = local_now.date() + timedelta(days=1 if day_word in ("tomorrow", "tmrw") else 0)
    # fold=0 and a UTC round trip: a time inside a DST gap moves later, as clocks do.
    moment = datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(ZoneInfo("UTC"))
    if moment <= now:
        raise ValueError(f"{cleaned} has already passed; did you mean tomorrow {cleaned}?"
                         if not day_word else f"{cleaned} has already passed. {WHEN_HELP}")
    return moment
