"""Times written the way a person reads them, in their own time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def stated_minute(moment: datetime) -> datetime:
    """``moment`` as the desk states it: rounded up to the whole minute.

    Every time the desk tells a person is shown to the minute, and rounding up keeps a
    promise honest (10:29:20 is said as "10:30", never "10:29"). A promise is recorded
    due at the minute it was stated, so nothing about it (a lapse, an apology) happens
    before the time the person read.
    """
    if moment.second or moment.microsecond:
        return (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return moment


def format_when(moment: datetime, now: datetime, tz: str | None = None) -> str:
    """``today at 14:30 UTC``, ``tomorrow at 09:00 CET`` or ``Monday 24 Nov at 09:00 GMT``.

    The zone abbreviation is always shown: people in different offices read the same
    thread, and a bare "09:00" is a promise nobody can check.
    """
    zone = _zone(tz)
    # Round up: promising 10:40 for 10:40:30 would make us late on paper. (Zones today
    # are whole minutes off UTC, so the minute is the same in every zone.)
    local, today = stated_minute(moment).astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
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
