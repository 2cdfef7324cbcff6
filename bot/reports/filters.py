"""What a report is about: a workspace, a period and optional slices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from enum import Enum
from zoneinfo import ZoneInfo

from bot.domain.errors import Unreadable


@dataclass(frozen=True)
class ReportFilter:
    """The tickets and promises a report counts.

    ``start``/``end`` are aware UTC instants, the period half-open ``[start, end)``.
    ``agent_id`` is a person's row id (a ticket's owner; a promise's owner).
    ``team_id`` is a team's row id (``tickets.team_id``); with ``team_default`` (the
    team is the workspace's default) tickets from before teams, whose team is NULL,
    are its too. A team of another workspace matches nothing (the workspace condition
    stays).
    ``channel_id`` is the intake path (the channel a ticket was opened in; a DM's
    channel for direct messages). ``priority`` is "P1".."P4"; ``platform`` is
    "slack", "discord" or "console" (a workspace lives on one platform, so a platform
    other than its own matches nothing).
    """

    workspace_id: int
    start: datetime
    end: datetime
    agent_id: int | None = None
    team_id: int | None = None
    team_default: bool = False
    channel_id: str | None = None
    priority: str | None = None
    platform: str | None = None

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"ReportFilter.{name} must be timezone-aware")
        if self.end < self.start:
            raise ValueError("ReportFilter.end is before its start")


class Period(str, Enum):
    """The periods the chat report names."""

    TODAY = "today"
    SEVEN_DAYS = "7d"
    THIRTY_DAYS = "30d"
    WEEK = "week"
    MONTH = "month"

    @classmethod
    def parse(cls, text: str) -> "Period":
        """A period as a person types it; :class:`Unreadable` names the choices."""
        word = text.strip().lower()
        for period in cls:
            if period.value == word:
                return period
        raise Unreadable("reports.unknown_period", text=text)


def period_for(period: Period, now: datetime, zone: str) -> tuple[datetime, datetime]:
    """The UTC ``[start, end)`` of ``period`` as the desk's time zone counts days:
    ``today`` from local midnight; ``7d``/``30d`` the last 7 or 30 local days including
    today; ``week`` from this Monday; ``month`` from the 1st. ``end`` is the end of
    today (local midnight tonight), so whatever happened at ``now`` itself is in."""
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    first: date
    if period is Period.TODAY:
        first = today
    elif period is Period.SEVEN_DAYS:
        first = today - timedelta(days=6)
    elif period is Period.THIRTY_DAYS:
        first = today - timedelta(days=29)
    elif period is Period.WEEK:
        first = today - timedelta(days=today.weekday())
    else:
        first = today.replace(day=1)
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(timezone.utc)
    end = datetime.combine(today + timedelta(days=1), time(0), tzinfo=tz)
    return start, end.astimezone(timezone.utc)
