"""Times written the way a person reads them, in their own time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_when(moment: datetime, now: datetime, tz: str | None = None) -> str:
    """``today at 14:30 UTC``, ``tomorrow at 09:00 CET`` or ``Monday 24 Nov at 09:00 GMT``.

    The zone abbreviation is always shown: people in different offices read the same
    thread, and a bare "09:00" is a promise nobody can check.
    """
    zone = _zone(tz)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.second or local.microsecond:
        # Round up: promising 10:40 for 10:40:30 would make us late on paper.
        local_up = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
        clock, local = local_up.strftime("%H:%M"), local_up
    abbreviation = local.tzname() or zone.key
    days = (local.date() - today).days
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif 1 < days < 7:
        day = local.strftime("%A")
    else:
        day = f"{local.strftime('%A')} {local.day} {local.strftime('%b')}"
    return f"{day} at {clock} {abbreviation}"
