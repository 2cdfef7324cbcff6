"""Times as a person reads them, in their own time zone: the parts, not the words.

:func:`local_moment` says which day a moment falls on relative to today, at what clock
time and in which zone; the desk renders it in the workspace's words
(``[when]`` in ``messages.toml``, through ``bot.desk.words``). :func:`stated_minute` is
the minute every time is stated (and recorded) at.
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


def happened_minute(moment: datetime) -> datetime:
    """``moment`` cut down to the whole minute it happened in.

    A past moment (a ticket opened, an update sent) is shown as the minute it happened:
    rounding it up, as promises are, would stamp 13:30:20 as "13:31", a minute that had
    not yet come. A cover also counts its next time from here, so a chain of lapses
    does not drift a minute later with each one."""
    return moment.replace(second=0, microsecond=0)


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
    """``moment`` as a person in ``tz`` reads it, ``now`` being today: a time still to
    come at its :func:`stated_minute`, one already past (or now) at its
    :func:`happened_minute`.

    The zone abbreviation is always given: people in different offices read the same
    thread, and a bare "09:00" is a promise nobody can check.
    """
    zone = _zone(tz)
    # A time to come rounds up: promising 10:40 for 10:40:30 would make us late on
    # paper. One past rounds down: it happened in that minute, not the next. (Zones
    # today are whole minutes off UTC, so the minute is the same in every zone.)
    shown = stated_minute(moment) if moment > now else happened_minute(moment)
    local, today = shown.astimezone(zone), now.astimezone(zone).date()
    return LocalMoment(days_ahead=(local.date() - today).days, weekday=local.weekday(),
                       day=local.day, month=local.month, clock=local.strftime("%H:%M"),
                       zone=local.tzname() or zone.key)
