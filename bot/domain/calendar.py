"""Business calendar: opening hours, holidays and business-time arithmetic.

All instants going in must be timezone-aware; all instants coming out are
aware datetimes in UTC. Opening hours are local wall times in the calendar's
IANA time zone and are converted to real instants day by day, so a 09:00-17:00
day is 8 real hours on both sides of a DST change while a 00:00-24:00 day is
23 or 25 real hours on transition days.

Wall times that do not exist or happen twice are resolved with ``fold=0`` and a
UTC round trip: a time in a spring-forward gap moves later by the gap's length
(02:30 on the US spring-forward Sunday opens at 03:30 EDT) and a repeated time
means its first occurrence. An interval that this collapses is skipped; see
:mod:`bot.domain._intervals`.

Open intervals are half-open ``[open, close)``: a calendar is open at its
opening instant and closed at its closing instant.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain import _intervals as iv
from bot.domain.errors import Unreadable

__all__ = ["BusinessCalendar"]

_ZERO = timedelta(0)
_A_MINUTE = timedelta(minutes=1)


def _aware_utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{what} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(iv.UTC)


def _as_holidays(values: Iterable[date]) -> frozenset[date]:
    days = frozenset(values)
    for day in days:
        # datetime is a subclass of date; a datetime here is almost surely a bug.
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"holidays must be dates, got {day!r}")
    return days


@dataclass(frozen=True)
class BusinessCalendar:
    """Weekly opening hours plus holidays in one IANA time zone.

    ``hours`` has seven entries indexed by weekday (0 = Monday), each a local
    ``(open, close)`` pair of naive times or ``None`` when closed all day.
    A close of ``time(0, 0)`` means midnight at the end of the day (24:00).
    ``holidays`` are local dates on which the calendar is closed all day.
    """

    timezone: str
    hours: tuple[tuple[time, time] | None, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Validate the time zone, the seven day spans and the holidays."""
        try:
            if not isinstance(self.timezone, str) or not self.timezone:
                raise ValueError
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Unreadable("input.unknown_time_zone", zone=str(self.timezone)) from None
        hours = tuple(self.hours)
        if len(hours) != 7:
            raise ValueError(f"hours must have 7 entries (Monday..Sunday), got {len(hours)}")
        hours = tuple(None if span is None else iv.check_span(tuple(span)) for span in hours)
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "holidays", _as_holidays(self.holidays))

    # -- construction -------------------------------------------------------

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessCalendar:
        """Open 24/7 (every day 00:00-24:00) with no holidays."""
        return cls(timezone, ((iv.MIDNIGHT, iv.MIDNIGHT),) * 7)

    @classmethod
    def weekdays(
        cls, open_: time, close: time, timezone: str, holidays: Iterable[date] = ()
    ) -> BusinessCalendar:
        """Open Monday to Friday from ``open_`` to ``close`` local time."""
        return cls(timezone, ((open_, close),) * 5 + (None, None), _as_holidays(holidays))

    @classmethod
    def from_spec(
        cls, days: str, span: str, timezone: str, holidays: Iterable[date] = ()
    ) -> BusinessCalendar:
        """Build from text such as ``("mon-fri", "09:00-17:30", "Europe/London")``.

        ``days`` accepts ranges ("mon-fri", "sat-sun", wrapping "fri-mon"),
        lists ("mon,wed,fri"), full names and "weekdays"/"weekends"/"daily";
        ``span`` accepts "09:00-17:30", "9-17" or "0-24". Raises ``ValueError``.
        """
        open_days, pair = iv.parse_days(days), iv.parse_span(span)
        hours = tuple(pair if day in open_days else None for day in range(7))
        return cls(timezone, hours, _as_holidays(holidays))

    def with_holiday(self, day: date) -> BusinessCalendar:
        """A copy of this calendar that is also closed on local date ``day``."""
        return BusinessCalendar(self.timezone, self.hours, self.holidays | _as_holidays([day]))

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form: times as "HH:MM" (closing midnight "24:00"), ISO dates."""
        return {
            "timezone": self.timezone,
            "hours": [
                None
                if span is None
                else [
                    iv.format_clock(span[0], closing=False),
                    iv.format_clock(span[1], closing=True),
                ]
                for span in self.hours
            ],
            "holidays": sorted(day.isoformat() for day in self.holidays),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on malformed data."""
        try:
            hours = tuple(
                None
                if span is None
                else (
                    iv.parse_stored_clock(span[0], closing=False),
                    iv.parse_stored_clock(span[1], closing=True),
                )
                for span in data["hours"]
            )
            holidays = frozenset(date.fromisoformat(day) for day in data.get("holidays", ()))
            return cls(data["timezone"], hours, holidays)
        except (KeyError, TypeError, IndexError) as exc:
            raise ValueError(f"malformed business calendar data: {exc!r}") from None

    # -- queries ------------------------------------------------------------

    @property
    def zone(self) -> ZoneInfo:
        """The calendar's time zone as a ``ZoneInfo``."""
        return ZoneInfo(self.timezone)

    def _intervals(self, start: datetime, end: datetime | None = None) -> Iterator[iv.Interval]:
        return iv.iter_open_intervals(self.zone, self.hours, self.holidays, start, end)

    def open_intervals(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Open UTC intervals within ``[start, end)``, clipped to that window."""
        lo, hi = _aware_utc(start, "start"), _aware_utc(end, "end")
        result = []
        for open_at, close_at in self._intervals(lo, hi):
            if open_at >= hi:
                break
            result.append((max(open_at, lo), min(close_at, hi)))
        return result

    def is_open(self, at: datetime) -> bool:
        """True when ``at`` falls inside an open interval (closing instant excluded)."""
        moment = _aware_utc(at, "at")
        return any(lo <= moment < hi for lo, hi in self._intervals(moment, moment))

    def next_opening(self, at: datetime) -> datetime:
        """``at`` (in UTC) if open, else the start of the next open interval.

        Raises ``ValueError`` if the calendar has no opening hours at all or
        stays closed for more than 400 consecutive days.
        """
        moment = _aware_utc(at, "at")
        for lo, _hi in self._intervals(moment):
            return max(lo, moment)
        raise AssertionError("unreachable: unbounded interval walk ended")  # pragma: no cover

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The instant at which ``delta`` of open time has elapsed since ``start``.

        A zero ``delta`` returns ``start`` if open, else the next opening. If
        the result falls exactly on a closing instant, that closing instant is
        returned rather than the next opening. Negative deltas raise.
        """
        moment = _aware_utc(start, "start")
        if not isinstance(delta, timedelta):
            raise ValueError(f"delta must be a timedelta, got {delta!r}")
        if delta < _ZERO:
            raise ValueError(f"delta must not be negative, got {delta}")
        if delta == _ZERO:
            return self.next_opening(moment)
        remaining = delta
        for lo, hi in self._intervals(moment):
            lo = max(lo, moment)
            if remaining <= hi - lo:
                return lo + remaining
            remaining -= hi - lo
        raise AssertionError("unreachable: unbounded interval walk ended")  # pragma: no cover

    def opens_on(self, day: date) -> bool:
        """True when the desk opens at all on local date ``day`` (a working day)."""
        return self.hours[day.weekday()] is not None and day not in self.holidays

    def later_at_same_time(self, start: datetime, *, working_days: int = 0,
                           days: int = 0) -> datetime:
        """The same local clock time as ``start``, ``working_days`` days the desk opens
        (holidays and closed weekdays skipped) and then ``days`` calendar days later;
        the next opening when the desk is closed at that moment. "2 days" from Friday
        10:00 is Tuesday 10:00 on a Monday-to-Friday desk."""
        if working_days < 0 or days < 0:
            raise ValueError("days must not be negative")
        moment = _aware_utc(start, "start")
        local = moment.astimezone(self.zone)
        day, counted = local.date(), 0
        while counted < working_days:
            day += timedelta(days=1)
            if self.opens_on(day):
                counted += 1
            elif (day - local.date()).days > 400 + 7 * working_days:
                raise ValueError("the calendar has no working days")
        day += timedelta(days=days)
        # fold=0 and a UTC round trip: a time inside a DST gap moves later, as clocks do.
        then = datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=self.zone)
        return self.next_opening(then.astimezone(ZoneInfo("UTC")))

    def is_in_hours(self, at: datetime) -> bool:
        """True when a time stated for ``at`` falls in open hours: open then, or exactly
        at a closing ("by 18:00" on a desk open until 18:00)."""
        return self.is_open(at) or self.business_time_between(at - _A_MINUTE, at) > _ZERO

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open time in ``[start, end)``; zero when ``end <= start``.

        Exact inverse of :meth:`add_business_time`: for ``delta > 0``,
        ``business_time_between(s, add_business_time(s, delta)) == delta``.
        """
        lo, hi = _aware_utc(start, "start"), _aware_utc(end, "end")
        if hi <= lo:
            return _ZERO
        return sum((b - a for a, b in self.open_intervals(lo, hi)), _ZERO)
