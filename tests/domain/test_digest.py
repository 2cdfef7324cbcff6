"""When the weekly digest is due and which week it tells of (pure)."""

from __future__ import annotations

from datetime import date, datetime, time, timezone

from bot.domain.calendar import BusinessCalendar
from bot.domain.digest import digest_team, digest_text, digest_week, next_digest_at

UTC = timezone.utc
DESK = BusinessCalendar.weekdays(time(9), time(17), "UTC")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2030, 6, day, hour, minute, tzinfo=UTC)  # 3 June 2030 is a Monday


def test_the_next_digest_is_the_weeks_first_opening_still_to_come():
    assert next_digest_at(DESK, at(5, 10)) == at(10, 9)        # Wednesday: next Monday
    assert next_digest_at(DESK, at(3, 8, 59)) == at(3, 9)      # Monday before opening: today
    assert next_digest_at(DESK, at(3, 9)) == at(10, 9)         # at opening: the next week's
    assert next_digest_at(DESK, at(9, 23, 59)) == at(10, 9)    # Sunday night


def test_a_holiday_monday_moves_the_digest_to_tuesdays_opening():
    holiday = DESK.with_holiday(date(2030, 6, 10))
    assert next_digest_at(holiday, at(5, 10)) == at(11, 9)
    # Its week is still the one before: Monday 3 to Sunday 9 June.
    assert digest_week(holiday, at(11, 9)) == (at(3, 0), at(10, 0))


def test_the_week_follows_the_teams_time_zone():
    london = BusinessCalendar.weekdays(time(8), time(16), "Europe/London")
    due = next_digest_at(london, at(5, 10))
    assert due == at(10, 7)                                    # 08:00 BST
    assert digest_week(london, due) == (datetime(2030, 6, 2, 23, tzinfo=UTC),
                                        datetime(2030, 6, 9, 23, tzinfo=UTC))


def test_a_digest_promise_names_its_team():
    assert digest_team(digest_text(42)) == 42
    assert digest_team("") is None and digest_team("team x") is None
