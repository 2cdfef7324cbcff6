"""Times as a person reads them, in their own time zone: the parts, not the words.

:func:`local_moment` says which day a moment falls on relative to today, at what clock
time and in which zone; the desk renders it in the workspace's words
(``[when]`` in ``config/messages.toml``, through ``bot.desk.words``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _zone(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True)
class LocalMoment:
    """A moment on a person's own calendar: ``days_ahead`` of today (0 today, 1
    tomorrow, negative before today), its ``weekday`` (0 is Monday), ``day`` of the
    month, ``month`` (1-12), ``clock`` ("09:00") and the ``zone``'s abbreviation."""

    days_ahead: int
    weekday: int
    day: int
    month: int
    clock: str
    zone: str


def local_moment(moment: datetime, now: datetime, tz: str | None = None) -> LocalMoment:
    """``moment`` as a person in ``tz`` reads it, ``now`` being today.

    The zone abbreviation is always given: people in different offices read the same
    thread, and a bare "09:00" is a promise nobody can check.
    """
    zone = _zone(tz)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if local.second or local.microsecond:
        # Round up: promising 10:40 for 10:40:30 would make us late on paper.
        local = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return LocalMoment(days_ahead=(local.date() - today).days, weekday=local.weekday(),
                       day=local.day, month=local.month, clock=local.strftime("%H:%M"),
                       zone=local.tzname() or zone.key)
