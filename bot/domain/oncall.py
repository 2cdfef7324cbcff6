"""The lead on duty: who a team's escalations reach first, as a pure function of its
shifts, its weekly rota and ``now``.

A shift (``/helpdesk oncall <team> <person> [from <when>] [until <when>]``) names one
lead for a while and wins over the rota while it lasts; of two shifts covering the same
moment the newer wins. The rota (``/helpdesk oncall <team> rota <person> ...``) hands
duty to the next person each week, at the team's first opening of the week (Monday at
opening, or Tuesday's when Monday is a holiday), starting with the first person in the
week the rota was set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from bot.domain.calendar import BusinessCalendar

_WEEK = timedelta(days=7)
# How many changes of duty ahead :func:`next_on_duty` looks for a different person.
_LOOKAHEAD = 8


@dataclass(frozen=True)
class Shift:
    """One lead on duty from ``starts_at`` until ``ends_at`` (None: until replaced)."""

    id: int
    person_id: int
    starts_at: datetime
    ends_at: datetime | None = None

    def covers(self, moment: datetime) -> bool:
        """True when the shift is running at ``moment``."""
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


@dataclass(frozen=True)
class Rota:
    """People taking weekly turns, the first of them in the week starting ``anchor``
    (a Monday, in the team's time zone)."""

    people: tuple[int, ...]
    anchor: date

    def to_dict(self) -> dict:
        """JSON-friendly form, kept in the team's settings."""
        return {"people": list(self.people), "anchor": self.anchor.isoformat()}

    @classmethod
    def from_dict(cls, data: dict | None) -> "Rota | None":
        """Inverse of :meth:`to_dict`; None for no rota."""
        if not data or not data.get("people"):
            return None
        return cls(tuple(int(p) for p in data["people"]), date.fromisoformat(data["anchor"]))


def week_start(calendar: BusinessCalendar, monday: date) -> datetime:
    """When the week of ``monday`` begins for a rota: the team's first opening that week."""
    midnight = datetime.combine(monday, time(0), tzinfo=calendar.zone)
    return calendar.next_opening(midnight.astimezone(timezone.utc))


def rota_week(calendar: BusinessCalendar, moment: datetime) -> date:
    """The Monday of the rota week ``moment`` falls in (before the week's first opening,
    it is still the previous week)."""
    local = moment.astimezone(calendar.zone).date()
    monday = local - timedelta(days=local.weekday())
    return monday if moment >= week_start(calendar, monday) else monday - _WEEK


def on_duty(shifts: list[Shift], rota: Rota | None, calendar: BusinessCalendar,
            moment: datetime) -> int | None:
    """The person on duty at ``moment``: the newest shift covering it, else the rota's
    person that week, else nobody (None)."""
    covering = [s for s in shifts if s.covers(moment)]
    if covering:
        return max(covering, key=lambda s: (s.starts_at, s.id)).person_id
    if rota is None:
        return None
    weeks = (rota_week(calendar, moment) - rota.anchor).days // 7
    return rota.people[weeks % len(rota.people)] if weeks >= 0 else None


def next_on_duty(shifts: list[Shift], rota: Rota | None, calendar: BusinessCalendar,
                 now: datetime) -> tuple[int | None, datetime] | None:
    """The next change of duty after ``now``: who takes over, and when; None when
    nothing is set to change."""
    current = on_duty(shifts, rota, calendar, now)
    moments = {s.starts_at for s in shifts if s.starts_at > now}
    moments |= {s.ends_at for s in shifts if s.ends_at is not None and s.ends_at > now}
    if rota is not None and len(rota.people) > 1:
        week = rota_week(calendar, now)
        moments |= {week_start(calendar, week + _WEEK * n) for n in range(1, _LOOKAHEAD)}
    for moment in sorted(moments)[:_LOOKAHEAD * 2]:
        person = on_duty(shifts, rota, calendar, moment)
        if person != current:
            return person, moment
    return None
