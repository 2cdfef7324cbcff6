"""Service-level agreements: targets per priority and business-time deadlines.

Every SLA clock runs in business time on a :class:`BusinessCalendar`, so a P3
ticket opened on Friday evening is not breached on Saturday morning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import Enum
from types import MappingProxyType
from typing import Any

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Phrase, Unreadable
from bot.domain.priority import Priority

__all__ = [
    "Deadline",
    "SlaPolicy",
    "SlaState",
    "SlaTarget",
    "BusinessDuration",
    "business_duration",
    "parse_duration",
]

_ZERO = timedelta(0)
MAX_DURATION = timedelta(days=365)
_TARGET_FIELDS = ("first_response", "update_interval", "resolution")


@dataclass(frozen=True)
class SlaTarget:
    """Business-time targets for one priority; all must be positive."""

    first_response: timedelta
    update_interval: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        """Reject non-timedelta and non-positive targets."""
        for name in _TARGET_FIELDS:
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= _ZERO:
                raise ValueError(f"SLA target {name} must be a positive timedelta, got {value!r}")


def _hours(first: float, update: float, resolve: float) -> SlaTarget:
    return SlaTarget(timedelta(hours=first), timedelta(hours=update), timedelta(hours=resolve))


def _seconds(value: timedelta) -> int | float:
    # Whole seconds stay ints so stored JSON reads naturally ("3600", not "3600.0").
    return int(value.total_seconds()) if not value.microseconds else value.total_seconds()


class SlaState(str, Enum):
    """Where a deadline stands at a given instant."""

    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


def _utc(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class Deadline:
    """An SLA clock: started, warns at ``warn_at``, breaches at ``due_at`` (UTC)."""

    started_at: datetime
    due_at: datetime
    warn_at: datetime

    def __post_init__(self) -> None:
        """Normalise to UTC and require ``started_at <= warn_at <= due_at``."""
        for name in ("started_at", "due_at", "warn_at"):
            object.__setattr__(self, name, _utc(getattr(self, name), name))
        if not self.started_at <= self.warn_at <= self.due_at:
            raise ValueError("deadline instants must satisfy started_at <= warn_at <= due_at")

    def state(self, now: datetime) -> SlaState:
        """BREACHED from ``due_at`` on, AT_RISK from ``warn_at`` on, else ON_TRACK."""
        moment = _utc(now, "now")
        if moment >= self.due_at:
            return SlaState.BREACHED
        if moment >= self.warn_at:
            return SlaState.AT_RISK
        return SlaState.ON_TRACK

    def remaining(self, now: datetime, calendar: BusinessCalendar) -> timedelta:
        """Business time left until ``due_at``; negative business time overdue once breached."""
        moment = _utc(now, "now")
        if moment < self.due_at:
            return calendar.business_time_between(moment, self.due_at)
        return -calendar.business_time_between(self.due_at, moment)


@dataclass(frozen=True)
class SlaPolicy:
    """SLA targets for every priority plus the fraction at which to warn."""

    targets: Mapping[Priority, SlaTarget]
    warn_at: float = 0.75

    def __post_init__(self) -> None:
        """Require all four priorities, valid targets and ``0 < warn_at < 1``."""
        targets = {Priority.parse(key): value for key, value in dict(self.targets).items()}
        missing = [p.value for p in Priority if p not in targets]
        if missing:
            raise ValueError(f"SLA policy is missing targets for {', '.join(missing)}")
        for priority, target in targets.items():
            if not isinstance(target, SlaTarget):
                raise ValueError(
                    f"target for {priority.value} must be an SlaTarget, got {target!r}"
                )
        warn = self.warn_at
        if isinstance(warn, bool) or not isinstance(warn, (int, float)) or not 0 < warn < 1:
            raise ValueError(f"warn_at must be a fraction strictly between 0 and 1, got {warn!r}")
        ordered = {p: targets[p] for p in Priority}
        object.__setattr__(self, "targets", MappingProxyType(ordered))
        object.__setattr__(self, "warn_at", float(self.warn_at))

    def __hash__(self) -> int:
        """Hash of the targets and warn fraction (``targets`` is a read-only view)."""
        # Explicit because the generated hash would fail on the mapping field.
        return hash((tuple(self.targets.items()), self.warn_at))

    @classmethod
    def default(cls) -> SlaPolicy:
        """Stock policy in business hours (first response / update / resolution).

        P1 1h/1h/4h, P2 4h/4h/24h, P3 8h/8h/48h, P4 16h/24h/96h; warn at 75%.
        """
        return cls(
            {
                Priority.P1: _hours(1, 1, 4),
                Priority.P2: _hours(4, 4, 24),
                Priority.P3: _hours(8, 8, 48),
                Priority.P4: _hours(16, 24, 96),
            }
        )

    def with_target(self, priority: Priority | str, target: SlaTarget) -> SlaPolicy:
        """A copy of this policy with ``priority``'s target replaced."""
        return replace(self, targets={**self.targets, Priority.parse(priority): target})

    def target(self, priority: Priority | str) -> SlaTarget:
        """The target for ``priority`` (accepts "P1", "p2", ...)."""
        return self.targets[Priority.parse(priority)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form with durations in seconds; inverse of :meth:`from_dict`."""
        return {
            "warn_at": self.warn_at,
            "targets": {
                p.value: {name: _seconds(getattr(t, name)) for name in _TARGET_FIELDS}
                for p, t in self.targets.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Rebuild a policy stored with :meth:`to_dict`; raises ``ValueError`` if malformed."""
        try:
            targets = {
                key: SlaTarget(**{name: timedelta(seconds=raw[name]) for name in _TARGET_FIELDS})
                for key, raw in data["targets"].items()
            }
            return cls(targets, data.get("warn_at", 0.75))
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed SLA policy data: {exc!r}") from None

    def _deadline(self, start: datetime, span: timedelta, calendar: BusinessCalendar) -> Deadline:
        return Deadline(
            started_at=start,
            due_at=calendar.add_business_time(start, span),
            warn_at=calendar.add_business_time(start, span * self.warn_at),
        )

    def first_response_deadline(
        self, priority: Priority | str, opened_at: datetime, calendar: BusinessCalendar
    ) -> Deadline:
        """Deadline for the first agent response to a ticket opened at ``opened_at``."""
        return self._deadline(opened_at, self.target(priority).first_response, calendar)

    def resolution_deadline(
        self, priority: Priority | str, opened_at: datetime, calendar: BusinessCalendar
    ) -> Deadline:
        """Deadline for resolving a ticket opened at ``opened_at``."""
        return self._deadline(opened_at, self.target(priority).resolution, calendar)

    def update_deadline(
        self, priority: Priority | str, last_update_at: datetime, calendar: BusinessCalendar
    ) -> Deadline:
        """Deadline for the next customer update after ``last_update_at``."""
        return self._deadline(last_update_at, self.target(priority).update_interval, calendar)


_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)\s*")
_HELP = Phrase("input.duration_help")


def parse_duration(text: str) -> timedelta:
    """Parse a human duration such as "90s", "45m", "1h30m", "1.5h" or "3d".

    Case-insensitive; units s/m/h/d/w and their long forms. Bare numbers, zero,
    negative and over-365-day values raise :class:`Unreadable` (a ValueError), each
    naming its own message that tells the person what was wrong.
    """
    if not isinstance(text, str) or not text.strip():
        raise Unreadable("input.duration_empty", help=_HELP)
    written, cleaned = text.strip(), text.strip().lower()
    if cleaned.startswith("-"):
        positive = written[1:].strip()
        try:
            parse_duration(positive)
        except Unreadable:
            raise Unreadable("input.duration_unreadable", text=written, help=_HELP) from None
        raise Unreadable("input.duration_negative", text=written, positive=positive)
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        raise Unreadable("input.duration_needs_unit", text=cleaned)
    total, pos = 0.0, 0
    while pos < len(cleaned):
        match = _PART.match(cleaned, pos)
        if not match or match.group(2) not in _UNITS:
            raise Unreadable("input.duration_unreadable", text=written, help=_HELP)
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if total > MAX_DURATION.total_seconds():
        raise Unreadable("input.duration_too_long", text=written)
    result = timedelta(seconds=total)
    if result <= _ZERO:
        raise Unreadable("input.duration_not_positive", text=written)
    return result


def working_day(calendar: BusinessCalendar) -> timedelta | None:
    """The length of the calendar's working day, when every open day has the same hours
    (None when they differ, or the calendar is never open)."""
    lengths = set()
    for span in calendar.hours:
        if span is not None:
            opens, closes = (datetime.combine(datetime.min.date(), t) for t in span)
            lengths.add((closes - opens) % timedelta(days=1) or timedelta(days=1))
    return lengths.pop() if len(lengths) == 1 else None


def _clock_parts(value: timedelta) -> list[tuple[int, str]]:
    hours, rest = divmod(int(value.total_seconds()), 3600)
    minutes, seconds = divmod(rest, 60)
    return [(count, unit) for count, unit in ((hours, "hour"), (minutes, "minute"),
                                              (seconds, "second")) if count]


@dataclass(frozen=True)
class BusinessDuration:
    """An SLA target as people read it, in parts for the desk to word: ``parts`` are
    ``(count, unit)`` with unit "hour", "minute" or "second" (no zero counts);
    ``working_days`` is how many working days of ``day_parts`` it makes, or None when
    that is not worth saying (under a day, not a whole or half number of days, days of
    different lengths, or not asked for)."""

    parts: tuple[tuple[int, str], ...]
    working_days: float | None = None
    day_parts: tuple[tuple[int, str], ...] = ()


def business_duration(value: timedelta, calendar: BusinessCalendar, *,
                      working_days: bool = True) -> BusinessDuration:
    """``value`` in business time: "1 business hour", "2 hours 30 minutes of business
    time", and, from a working day up on a calendar whose open days are all alike, the
    working days it makes: "24 business hours (3 working days of 8 hours)". Never "1
    day" for 24 business hours, which is three working days at 8 hours a day.
    ``working_days=False`` leaves the working days out."""
    parts = tuple(_clock_parts(value))
    day = working_day(calendar)
    if not working_days or day is None or value < day or (value * 2) % day:
        return BusinessDuration(parts)
    return BusinessDuration(parts, value / day, tuple(_clock_parts(day)))


def out_of_order(target: SlaTarget) -> str | None:
    """Why ``target`` makes no sense, or None: a first reply later than the update
    interval ("first_after_update"), or updates further apart than the time to resolve
    ("update_after_resolve")."""
    if target.first_response > target.update_interval:
        return "first_after_update"
    if target.update_interval > target.resolution:
        return "update_after_resolve"
    return None
