"""Who is on duty, as a pure function of shifts, a rota and the moment."""

from __future__ import annotations

from datetime import date, datetime, timezone

from bot.domain.calendar import BusinessCalendar
from bot.domain.oncall import Rota, Shift, next_on_duty, on_duty, rota_week

UTC = timezone.utc
CAL = BusinessCalendar.from_spec("mon-fri", "09:00-17:00", "Europe/Oslo")
ROTA = Rota((1, 2, 3), date(2030, 6, 3))  # week of Monday 3 June: person 1


def test_the_rota_turns_at_the_first_opening_of_the_week_in_the_teams_zone():
    # Monday 10 June, 08:59 in Oslo (06:59 UTC): still person 1's week.
    assert on_duty([], ROTA, CAL, datetime(2030, 6, 10, 6, 59, tzinfo=UTC)) == 1
    assert on_duty([], ROTA, CAL, datetime(2030, 6, 10, 7, 0, tzinfo=UTC)) == 2
    assert on_duty([], ROTA, CAL, datetime(2030, 6, 24, 12, 0, tzinfo=UTC)) == 1  # wraps
    # Before the rota's first week: nobody.
    assert on_duty([], ROTA, CAL, datetime(2030, 6, 1, 12, 0, tzinfo=UTC)) is None


def test_a_monday_holiday_moves_the_handover_to_tuesdays_opening():
    holiday = CAL.with_holiday(date(2030, 6, 10))
    assert on_duty([], ROTA, holiday, datetime(2030, 6, 10, 12, 0, tzinfo=UTC)) == 1
    assert on_duty([], ROTA, holiday, datetime(2030, 6, 11, 7, 0, tzinfo=UTC)) == 2
    assert rota_week(holiday, datetime(2030, 6, 10, 12, 0, tzinfo=UTC)) == date(2030, 6, 3)


def test_a_shift_wins_over_the_rota_and_the_newest_shift_wins_while_it_lasts():
    start, end = (datetime(2030, 6, 4, 8, 0, tzinfo=UTC), datetime(2030, 6, 4, 12, 0, tzinfo=UTC))
    shifts = [Shift(1, 7, start, end), Shift(2, 8, start, None)]
    assert on_duty(shifts, ROTA, CAL, datetime(2030, 6, 4, 9, 0, tzinfo=UTC)) == 8
    assert on_duty(shifts[:1], ROTA, CAL, datetime(2030, 6, 4, 9, 0, tzinfo=UTC)) == 7
    assert on_duty(shifts[:1], ROTA, CAL, end) == 1  # over: back to the rota


def test_the_next_change_is_the_first_moment_someone_else_is_on_duty():
    now = datetime(2030, 6, 7, 14, 0, tzinfo=UTC)  # Friday
    assert next_on_duty([], ROTA, CAL, now) == (2, datetime(2030, 6, 10, 7, 0, tzinfo=UTC))
    assert next_on_duty([], None, CAL, now) is None
    ending = [Shift(1, 9, now, datetime(2030, 6, 7, 15, 0, tzinfo=UTC))]
    assert next_on_duty(ending, None, CAL, now) == (None, datetime(2030, 6, 7, 15, 0,
                                                                   tzinfo=UTC))
