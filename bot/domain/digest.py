"""When a team's weekly digest is due, and which week it tells of.

The digest is posted at the week's first opening on the team's own calendar: Monday
at opening, or the next opening after it when Monday is a holiday or a closed day. It
tells of the week before, Monday to Sunday as the team's time zone counts days.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.domain.calendar import BusinessCalendar

# How a digest's promise names its team (``promises.text``): it has no ticket to
# carry one.
_TEXT = "team {id}"


def digest_text(team_id: int) -> str:
    """The ``promises.text`` of team ``team_id``'s digest promise."""
    return _TEXT.format(id=team_id)


def digest_team(text: str) -> int | None:
    """The team a digest promise's ``text`` names (None if it names none)."""
    word, _, number = text.partition(" ")
    return int(number) if word == "team" and number.isdigit() else None


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_midnight(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).astimezone(timezone.utc)


def next_digest_at(calendar: BusinessCalendar, now: datetime) -> datetime:
    """The first week's-first-opening strictly after ``now``: this week's when it is
    still to come (early on a Monday), else next week's."""
    monday = _monday(now.astimezone(ZoneInfo(calendar.timezone)).date())
    for week in (monday, monday + timedelta(days=7), monday + timedelta(days=14)):
        due = calendar.next_opening(_local_midnight(week, calendar.timezone))
        if due > now:
            return due
    # A week with no opening at all (a fortnight of holidays): the next opening.
    return calendar.next_opening(now + timedelta(minutes=1))


def digest_week(calendar: BusinessCalendar, due: datetime) -> tuple[datetime, datetime]:
    """The UTC ``[start, end)`` of the week a digest due at ``due`` tells of: the
    Monday-to-Sunday before the week ``due`` falls in."""
    monday = _monday(due.astimezone(ZoneInfo(calendar.timezone)).date())
    return (_local_midnight(monday - timedelta(days=7), calendar.timezone),
            _local_midnight(monday, calendar.timezone))
