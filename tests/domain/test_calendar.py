"""Tests for bot.domain.calendar (examples, validation and hypothesis properties)."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Unreadable

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
LON = ZoneInfo("Europe/London")
SYD = ZoneInfo("Australia/Sydney")
CHA = ZoneInfo("Pacific/Chatham")
H = timedelta(hours=1)
US = timedelta(microseconds=1)


# Helpers return UTC: comparing aware datetimes across zones is always False
# when either side is an ambiguous or imaginary wall time (PEP 495).
def ny(*args: int, fold: int = 0) -> datetime:
    return datetime(*args, tzinfo=NY, fold=fold).astimezone(UTC)


def lon(*args: int) -> datetime:
    return datetime(*args, tzinfo=LON).astimezone(UTC)


NINE_FIVE_NY = BusinessCalendar.weekdays(time(9), time(17), "America/New_York")
DAILY_NINE_FIVE_NY = BusinessCalendar.from_spec("mon-sun", "9-17", "America/New_York")


# -- examples -----------------------------------------------------------------


def test_friday_afternoon_plus_one_hour_is_monday_morning():
    # 2024-03-08 is a Friday; the weekend also contains the US spring-forward.
    result = NINE_FIVE_NY.add_business_time(ny(2024, 3, 8, 16, 30), H)
    assert result == ny(2024, 3, 11, 9, 30)
    assert result.tzinfo is UTC


def test_friday_afternoon_plus_one_hour_in_london():
    cal = BusinessCalendar.weekdays(time(9), time(17), "Europe/London")
    assert cal.add_business_time(lon(2024, 6, 7, 16, 30), H) == lon(2024, 6, 10, 9, 30)


def test_holiday_monday_pushes_to_tuesday():
    cal = NINE_FIVE_NY.with_holiday(date(2024, 5, 27))  # Memorial Day
    assert cal.add_business_time(ny(2024, 5, 24, 16, 30), H) == ny(2024, 5, 28, 9, 30)
    assert cal.next_opening(ny(2024, 5, 25, 12)) == ny(2024, 5, 28, 9)
    assert not cal.is_open(ny(2024, 5, 27, 12))
    assert NINE_FIVE_NY.is_open(ny(2024, 5, 27, 12))


def test_with_holiday_returns_new_calendar():
    cal = NINE_FIVE_NY.with_holiday(date(2024, 12, 25))
    assert cal.holidays == {date(2024, 12, 25)} and NINE_FIVE_NY.holidays == frozenset()
    assert cal.with_holiday(date(2024, 12, 26)).holidays == {date(2024, 12, 25), date(2024, 12, 26)}


def test_next_opening_from_saturday():
    assert NINE_FIVE_NY.next_opening(ny(2024, 6, 8, 11)) == ny(2024, 6, 10, 9)
    assert NINE_FIVE_NY.next_opening(ny(2024, 6, 7, 17)) == ny(2024, 6, 10, 9)  # closing instant
    assert NINE_FIVE_NY.next_opening(ny(2024, 6, 10, 7)) == ny(2024, 6, 10, 9)


def test_next_opening_when_open_is_same_instant_in_utc():
    at = ny(2024, 6, 10, 10, 15, 30)
    result = NINE_FIVE_NY.next_opening(at)
    assert result == at and result.tzinfo is UTC


def test_is_open_boundaries_half_open():
    assert NINE_FIVE_NY.is_open(ny(2024, 6, 10, 9))
    assert NINE_FIVE_NY.is_open(ny(2024, 6, 10, 17) - US)
    assert not NINE_FIVE_NY.is_open(ny(2024, 6, 10, 17))
    assert not NINE_FIVE_NY.is_open(ny(2024, 6, 10, 9) - US)
    assert not NINE_FIVE_NY.is_open(ny(2024, 6, 8, 12))


def test_result_at_interval_end_is_that_end():
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 10, 16), H) == ny(2024, 6, 10, 17)
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 7, 9), 8 * H) == ny(2024, 6, 7, 17)
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 7, 9), 8 * H + US) == ny(2024, 6, 10, 9) + US


def test_zero_delta():
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 10, 10), timedelta(0)) == ny(2024, 6, 10, 10)
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 8, 10), timedelta(0)) == ny(2024, 6, 10, 9)
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 10, 17), timedelta(0)) == ny(2024, 6, 11, 9)


def test_start_before_opening_counts_from_opening():
    assert NINE_FIVE_NY.add_business_time(ny(2024, 6, 10, 3), 2 * H) == ny(2024, 6, 10, 11)


def test_week_has_forty_business_hours():
    assert NINE_FIVE_NY.business_time_between(ny(2024, 6, 10), ny(2024, 6, 17)) == 40 * H
    assert NINE_FIVE_NY.business_time_between(ny(2024, 6, 10, 12), ny(2024, 6, 10, 12)) == timedelta(0)
    assert NINE_FIVE_NY.business_time_between(ny(2024, 6, 11), ny(2024, 6, 10)) == timedelta(0)
    assert NINE_FIVE_NY.business_time_between(ny(2024, 6, 7, 16), ny(2024, 6, 10, 10)) == 2 * H


def test_long_span_business_time():
    # 2024 has 262 weekdays.
    assert NINE_FIVE_NY.business_time_between(ny(2024, 1, 1), ny(2025, 1, 1)) == 262 * 8 * H
    assert NINE_FIVE_NY.add_business_time(ny(2024, 1, 1), 262 * 8 * H) == ny(2024, 12, 31, 17)


# -- DST ----------------------------------------------------------------------


def test_us_spring_forward_24x7_real_hours():
    cal = BusinessCalendar.always_open("America/New_York")
    # The weekend of 2024-03-09/10 has 48 wall hours but only 47 real ones.
    assert cal.business_time_between(ny(2024, 3, 9), ny(2024, 3, 11)) == 47 * H
    assert cal.add_business_time(ny(2024, 3, 9, 12), 24 * H) == ny(2024, 3, 10, 13)
    assert cal.add_business_time(ny(2024, 3, 10, 1, 30), H) == ny(2024, 3, 10, 3, 30)


def test_us_fall_back_24x7_real_hours():
    cal = BusinessCalendar.always_open("America/New_York")
    assert cal.business_time_between(ny(2024, 11, 2), ny(2024, 11, 4)) == 49 * H
    assert cal.add_business_time(ny(2024, 11, 3, 0, 30), 2 * H) == ny(2024, 11, 3, 1, 30, fold=1)
    assert cal.add_business_time(ny(2024, 11, 2, 12), 24 * H) == ny(2024, 11, 3, 11)


@pytest.mark.parametrize("sunday", [date(2024, 3, 10), date(2024, 11, 3)])
def test_us_dst_weekends_nine_to_five_hour_is_real_hour(sunday):
    cal = DAILY_NINE_FIVE_NY
    y, m, d = sunday.year, sunday.month, sunday.day
    assert cal.business_time_between(ny(y, m, d), ny(y, m, d + 1)) == 8 * H
    nine = ny(y, m, d, 9)
    assert cal.add_business_time(nine, H) - nine == H
    assert cal.add_business_time(nine, 8 * H) == ny(y, m, d, 17)
    assert cal.add_business_time(ny(y, m, d - 1, 16), 2 * H) == ny(y, m, d, 10)
    assert NINE_FIVE_NY.add_business_time(ny(y, m, d - 2, 16), 2 * H) == ny(y, m, d + 1, 10)


def test_london_spring_forward_day_has_23_hours_and_fall_back_25():
    cal = BusinessCalendar.always_open("Europe/London")
    assert cal.business_time_between(lon(2024, 3, 31), lon(2024, 4, 1)) == 23 * H
    assert cal.business_time_between(lon(2024, 10, 27), lon(2024, 10, 28)) == 25 * H
    assert cal.business_time_between(lon(2024, 6, 2), lon(2024, 6, 3)) == 24 * H
    assert cal.open_intervals(lon(2024, 3, 31), lon(2024, 4, 1)) == [(lon(2024, 3, 31), lon(2024, 4, 1))]


def test_southern_hemisphere_and_odd_offsets():
    cal = BusinessCalendar.always_open("Australia/Sydney")
    sy = lambda *a: datetime(*a, tzinfo=SYD).astimezone(UTC)  # noqa: E731
    assert cal.business_time_between(sy(2024, 4, 7), sy(2024, 4, 8)) == 25 * H  # autumn: fall back
    assert cal.business_time_between(sy(2024, 10, 6), sy(2024, 10, 7)) == 23 * H  # spring forward
    chatham = BusinessCalendar.always_open("Pacific/Chatham")
    ch = lambda *a: datetime(*a, tzinfo=CHA).astimezone(UTC)  # noqa: E731
    assert chatham.business_time_between(ch(2024, 9, 29), ch(2024, 9, 30)) == 23 * H
    nine_five = BusinessCalendar.weekdays(time(9), time(17), "Pacific/Chatham")
    # Monday 00:45 local (+12:45 in winter) -> Monday 09:00 local = Sunday 20:15 UTC.
    assert nine_five.next_opening(datetime(2024, 6, 9, 12, tzinfo=UTC)) == ch(2024, 6, 10, 9)
    assert ch(2024, 6, 10, 9) == datetime(2024, 6, 9, 20, 15, tzinfo=UTC)
    kolkata = BusinessCalendar.weekdays(time(9, 30), time(18), "Asia/Kolkata")
    assert kolkata.next_opening(datetime(2024, 6, 10, tzinfo=UTC)) == datetime(2024, 6, 10, 4, tzinfo=UTC)


def test_opening_inside_spring_gap_moves_later():
    # 02:30 does not exist on 2024-03-10 in New York: fold=0 maps it to 03:30 EDT.
    cal = BusinessCalendar.from_spec("daily", "02:30-17:00", "America/New_York")
    assert cal.next_opening(ny(2024, 3, 10, 0)) == ny(2024, 3, 10, 3, 30)
    assert cal.business_time_between(ny(2024, 3, 10), ny(2024, 3, 11)) == timedelta(hours=13, minutes=30)


def test_repeated_wall_time_uses_first_occurrence():
    cal = BusinessCalendar.from_spec("daily", "01:30-02:00", "America/New_York")
    assert cal.next_opening(ny(2024, 11, 3, 0)) == ny(2024, 11, 3, 1, 30, fold=0)
    # 01:30 EDT until 02:00 EST spans 1.5 real hours on the fall-back day.
    assert cal.business_time_between(ny(2024, 11, 3), ny(2024, 11, 4)) == timedelta(hours=1, minutes=30)


def test_interval_collapsed_by_gap_is_skipped():
    cal = BusinessCalendar.from_spec("daily", "02:15-03:00", "America/New_York")
    assert cal.business_time_between(ny(2024, 3, 10), ny(2024, 3, 11)) == timedelta(0)
    assert cal.next_opening(ny(2024, 3, 10, 0)) == ny(2024, 3, 11, 2, 15)


def test_skipped_local_date_is_not_counted_twice():
    # Samoa skipped 2011-12-30; its 09:00 maps onto 31 December 09:00 and is clipped.
    apia = ZoneInfo("Pacific/Apia")
    cal = BusinessCalendar.from_spec("daily", "9-17", "Pacific/Apia")
    start = datetime(2011, 12, 29, tzinfo=apia).astimezone(UTC)
    end = datetime(2012, 1, 1, tzinfo=apia).astimezone(UTC)  # only 48 real hours later
    assert end - start == 48 * H
    assert cal.business_time_between(start, end) == 16 * H
    assert cal.add_business_time(start, 9 * H) == datetime(2011, 12, 31, 10, tzinfo=apia)


# -- construction and validation ----------------------------------------------


def test_always_open():
    cal = BusinessCalendar.always_open()
    assert cal.timezone == "UTC" and cal.holidays == frozenset()
    assert cal.is_open(datetime(2024, 1, 6, 0, 0, tzinfo=UTC))
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert cal.add_business_time(start, timedelta(days=1)) == start + timedelta(days=1)
    assert cal.is_open(start + timedelta(days=1))


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("Mon,Wed,Fri", {0, 2, 4}),
        ("sat-sun", {5, 6}),
        ("mon-sun", set(range(7))),
        ("fri-mon", {4, 5, 6, 0}),
        ("monday, tues, thurs", {0, 1, 3}),
        ("weekdays", set(range(5))),
        ("weekends", {5, 6}),
        ("daily", set(range(7))),
        ("sun", {6}),
    ],
)
def test_from_spec_days(days, expected):
    cal = BusinessCalendar.from_spec(days, "9-17", "UTC")
    assert {i for i, span in enumerate(cal.hours) if span is not None} == expected


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("09:00-17:30", (time(9), time(17, 30))),
        ("9-17", (time(9), time(17))),
        (" 8:15 - 12 ", (time(8, 15), time(12))),
        ("0-24", (time(0), time(0))),
        ("22:00-24:00", (time(22), time(0))),
    ],
)
def test_from_spec_span(span, expected):
    assert BusinessCalendar.from_spec("mon", span, "UTC").hours[0] == expected


@pytest.mark.parametrize(
    ("days", "span", "template", "fields"),
    [
        ("mon-fry", "9-17", "input.unknown_day", {"text": "fry"}),
        ("", "9-17", "input.empty_day", {"days": ""}),
        ("mon,,fri", "9-17", "input.empty_day", {"days": "mon,,fri"}),
        ("t", "9-17", "input.unknown_day", {"text": "t"}),
        ("mon", "9to17", "input.hours_unreadable", {"hours": "9to17"}),
        ("mon", "17-9", "input.opens_after_closing", {"open": "17:00", "close": "09:00"}),
        ("mon", "9-9", "input.opens_after_closing", {"open": "09:00", "close": "09:00"}),
        ("mon", "9:75-17", "input.clock_invalid", {"text": "9:75", "hours": "9:75-17"}),
        ("mon", "25-26", "input.clock_invalid", {"text": "25", "hours": "25-26"}),
        ("mon", "24-24", "input.clock_invalid", {"text": "24", "hours": "24-24"}),
        ("mon", "9-24:30", "input.clock_invalid", {"text": "24:30", "hours": "9-24:30"}),
        ("mon", "22-6", "input.opens_after_closing", {"open": "22:00", "close": "06:00"}),
        ("mon", "9-17-18", "input.hours_unreadable", {"hours": "9-17-18"}),
    ],
)
def test_from_spec_errors(days, span, template, fields):
    """Text an admin wrote is refused with the message that says what was wrong (a
    ValueError too, as a bad settings file's value is)."""
    with pytest.raises(Unreadable) as raised:
        BusinessCalendar.from_spec(days, span, "UTC")
    assert (raised.value.template, raised.value.fields) == (template, fields)
    assert isinstance(raised.value, ValueError)


def test_unknown_time_zone():
    for name in ["Mars/Olympus", "", "../etc/passwd", None]:
        with pytest.raises(Unreadable) as raised:
            BusinessCalendar.always_open(name)  # type: ignore[arg-type]
        assert raised.value.template == "input.unknown_time_zone"
        assert raised.value.fields == {"zone": str(name)}


def test_hours_validation():
    with pytest.raises(ValueError, match="7 entries"):
        BusinessCalendar("UTC", ((time(9), time(17)),) * 6)
    with pytest.raises(Unreadable, match="opens_after_closing"):
        BusinessCalendar.weekdays(time(17), time(9), "UTC")
    with pytest.raises(ValueError, match="pair"):
        BusinessCalendar("UTC", ("9-17",) * 7)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="tzinfo"):
        BusinessCalendar.weekdays(time(9, tzinfo=UTC), time(17), "UTC")
    with pytest.raises(ValueError, match="holidays must be dates"):
        BusinessCalendar.weekdays(time(9), time(17), "UTC", holidays=[datetime(2024, 1, 1)])


def test_lists_are_normalised_to_tuples_and_hashable():
    hours = [[time(9), time(17)]] * 5 + [None, None]
    cal = BusinessCalendar("UTC", hours, {date(2024, 1, 1)})  # type: ignore[arg-type]
    assert cal == BusinessCalendar.weekdays(time(9), time(17), "UTC", [date(2024, 1, 1)])
    assert isinstance(cal.hours, tuple) and isinstance(cal.holidays, frozenset)
    assert len({cal, BusinessCalendar.weekdays(time(9), time(17), "UTC", [date(2024, 1, 1)])}) == 1


def test_naive_datetimes_rejected():
    naive = datetime(2024, 6, 10, 10)
    for call in (
        lambda: NINE_FIVE_NY.is_open(naive),
        lambda: NINE_FIVE_NY.next_opening(naive),
        lambda: NINE_FIVE_NY.add_business_time(naive, H),
        lambda: NINE_FIVE_NY.business_time_between(naive, ny(2024, 6, 11)),
        lambda: NINE_FIVE_NY.business_time_between(ny(2024, 6, 9), naive),
    ):
        with pytest.raises(ValueError, match="timezone-aware"):
            call()


def test_bad_deltas_rejected():
    with pytest.raises(ValueError, match="negative"):
        NINE_FIVE_NY.add_business_time(ny(2024, 6, 10), -US)
    with pytest.raises(ValueError, match="timedelta"):
        NINE_FIVE_NY.add_business_time(ny(2024, 6, 10), 60)  # type: ignore[arg-type]


def test_calendar_without_open_hours():
    closed = BusinessCalendar("UTC", (None,) * 7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    assert not closed.is_open(start)
    assert closed.business_time_between(start, start + timedelta(days=30)) == timedelta(0)
    with pytest.raises(ValueError, match="no opening hours"):
        closed.next_opening(start)
    with pytest.raises(ValueError, match="no opening hours"):
        closed.add_business_time(start, H)


def test_search_is_capped_when_holidays_cover_everything():
    mondays = [date(2024, 1, 1) + timedelta(weeks=w) for w in range(120)]
    cal = BusinessCalendar.from_spec("mon", "9-17", "UTC", holidays=mondays)
    with pytest.raises(ValueError, match="stays closed"):
        cal.next_opening(datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="stays closed"):
        cal.add_business_time(datetime(2024, 1, 1, tzinfo=UTC), H)
    # Under the cap it still finds the next opening.
    short = BusinessCalendar.from_spec("mon", "9-17", "UTC", holidays=mondays[:50])
    assert short.next_opening(datetime(2024, 1, 1, tzinfo=UTC)) == datetime(2024, 12, 16, 9, tzinfo=UTC)


def test_dict_round_trip_is_exact_and_json_safe():
    cal = BusinessCalendar(
        "Europe/London",
        (
            (time(9), time(17, 30)),
            None,
            (time(0), time(0)),
            (time(8, 0, 15), time(12, 0, 0, 250)),
            None,
            (time(22), time(0)),
            None,
        ),
        frozenset({date(2024, 12, 25), date(2024, 12, 26)}),
    )
    data = json.loads(json.dumps(cal.to_dict()))
    assert data["hours"][0] == ["09:00", "17:30"]
    assert data["hours"][2] == ["00:00", "24:00"]
    assert data["holidays"] == ["2024-12-25", "2024-12-26"]
    assert BusinessCalendar.from_dict(data) == cal


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"timezone": "UTC"},
        {"timezone": "UTC", "hours": [None] * 6},
        {"timezone": "UTC", "hours": [["9am", "5pm"]] + [None] * 6},
        {"timezone": "UTC", "hours": [["24:00", "17:00"]] + [None] * 6},
        {"timezone": "Nowhere/Land", "hours": [None] * 7},
        {"timezone": "UTC", "hours": [None] * 7, "holidays": ["not-a-date"]},
        {"timezone": "UTC", "hours": [["09:00"]] + [None] * 6},
    ],
)
def test_from_dict_rejects_malformed(data):
    with pytest.raises(ValueError):
        BusinessCalendar.from_dict(data)


def test_open_intervals_clipped():
    got = NINE_FIVE_NY.open_intervals(ny(2024, 6, 7, 12), ny(2024, 6, 10, 10))
    assert got == [(ny(2024, 6, 7, 12), ny(2024, 6, 7, 17)), (ny(2024, 6, 10, 9), ny(2024, 6, 10, 10))]
    assert all(a.tzinfo is UTC and b.tzinfo is UTC for a, b in got)


# -- properties ---------------------------------------------------------------

ZONE_NAMES = [
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere DST
    "Asia/Kolkata",  # +05:30, no DST
    "UTC",
    "Pacific/Chatham",  # +12:45/+13:45, DST at 02:45
]
# The last two templates put opening/closing times inside DST transitions on purpose.
TEMPLATES = [
    ("mon-sun", "0-24"),
    ("mon-fri", "9-17"),
    ("mon,wed,fri", "08:30-12:15"),
    ("sat", "22-24"),
    ("tue-sat", "00:00-09:45"),
    ("mon-sun", "01:30-03:30"),
    ("fri-mon", "02:15-03:00"),
]
WALL_SAFE = TEMPLATES[:5]
LOW, HIGH = datetime(2020, 1, 1), datetime(2030, 12, 31)
PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@lru_cache(maxsize=None)
def transition_days(zone_name: str) -> tuple[date, ...]:
    """Local dates in 2020-2030 on which the zone's UTC offset changes."""
    zone, day, found = ZoneInfo(zone_name), date(2020, 1, 1), []
    offset = datetime.combine(day, time(), zone).utcoffset()
    while day < date(2031, 1, 1):
        nxt = datetime.combine(day + timedelta(days=1), time(), zone).utcoffset()
        if nxt != offset:
            found.append(day)
        day, offset = day + timedelta(days=1), nxt
    return tuple(found)


@st.composite
def starts(draw, zone_name: str) -> datetime:
    """Aware instants in 2020-2030, often within a few days of a DST change."""
    zone = ZoneInfo(zone_name)
    days = transition_days(zone_name)
    if days and draw(st.booleans()):
        base = datetime.combine(draw(st.sampled_from(days)), time(), zone)
        offset = draw(st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)))
        return (base.astimezone(UTC) + offset).astimezone(draw(st.sampled_from([UTC, zone])))
    tz = draw(st.sampled_from([UTC, zone]))
    return draw(st.datetimes(LOW, HIGH, timezones=st.just(tz)))


@st.composite
def scenarios(draw, templates=TEMPLATES):
    """A calendar plus a start instant; holidays cluster near the start."""
    zone_name = draw(st.sampled_from(ZONE_NAMES))
    days, span = draw(st.sampled_from(templates))
    start = draw(starts(zone_name))
    local_day = start.astimezone(ZoneInfo(zone_name)).date()
    offsets = draw(st.sets(st.integers(-1, 40), max_size=12))
    holidays = [local_day + timedelta(days=o) for o in offsets]
    cal = BusinessCalendar.from_spec(days, span, zone_name, holidays)
    return cal, start


deltas = st.timedeltas(min_value=US, max_value=timedelta(days=30))


def at_interval_end(cal: BusinessCalendar, moment: datetime) -> bool:
    return not cal.is_open(moment) and cal.is_open(moment - US)


def local_day_is_open(cal: BusinessCalendar, moment: datetime) -> bool:
    day = moment.astimezone(cal.zone).date()
    return cal.hours[day.weekday()] is not None and day not in cal.holidays


@PROPS
@given(scenarios(), deltas)
def test_prop_between_inverts_add(scenario, delta):
    cal, start = scenario
    end = cal.add_business_time(start, delta)
    assert end.tzinfo is UTC and end > start
    assert cal.business_time_between(start, end) == delta


@PROPS
@given(scenarios(), deltas)
def test_prop_result_is_open_or_interval_end_on_open_day(scenario, delta):
    cal, start = scenario
    end = cal.add_business_time(start, delta)
    assert cal.is_open(end) or at_interval_end(cal, end)
    # The last open instant before the result lies on an open, non-holiday day.
    assert cal.is_open(end - US)
    assert local_day_is_open(cal, end - US)


@PROPS
@given(scenarios(WALL_SAFE), deltas)
def test_prop_result_within_local_wall_hours(scenario, delta):
    cal, start = scenario
    last = (cal.add_business_time(start, delta) - US).astimezone(cal.zone)
    open_, close = cal.hours[last.weekday()]
    assume(last.date() not in transition_days(cal.timezone) or cal.hours[0] == (time(0), time(0)))
    wall = last.time().replace(tzinfo=None)
    assert open_ <= wall and (close == time(0) or wall < close)


@PROPS
@given(scenarios(), deltas, deltas)
def test_prop_monotonic_and_composable(scenario, d1, d2):
    cal, start = scenario
    small, large = sorted((d1, d2))
    assert cal.add_business_time(start, small) <= cal.add_business_time(start, large)
    if small < large:
        assert cal.add_business_time(start, small) < cal.add_business_time(start, large)
    chained = cal.add_business_time(cal.add_business_time(start, d1), d2)
    assert chained == cal.add_business_time(start, d1 + d2)


@PROPS
@given(scenarios())
def test_prop_next_opening(scenario):
    cal, start = scenario
    opening = cal.next_opening(start)
    start = start.astimezone(UTC)
    assert opening >= start and cal.is_open(opening)
    assert cal.business_time_between(start, opening) == timedelta(0)
    assert (opening == start) == cal.is_open(start)
    assert cal.add_business_time(start, timedelta(0)) == opening


@PROPS
@given(scenarios(), deltas, deltas)
def test_prop_between_is_additive(scenario, d1, d2):
    cal, a = scenario
    a = a.astimezone(UTC)  # same-zone datetime arithmetic would be wall-clock arithmetic
    b, c = a + min(d1, d2), a + max(d1, d2)
    total = cal.business_time_between(a, c)
    assert total == cal.business_time_between(a, b) + cal.business_time_between(b, c)
    assert timedelta(0) <= total <= c - a


@st.composite
def aligned_windows(draw):
    """Windows on a 15-minute UTC grid (every template boundary and zone offset is on it)."""
    cal, _ = draw(scenarios(WALL_SAFE))
    slot = timedelta(minutes=15)
    start = datetime(2020, 1, 1, tzinfo=UTC) + slot * draw(st.integers(0, 4 * 24 * 4000))
    days = transition_days(cal.timezone)
    if days and draw(st.integers(0, 3)):
        day = datetime.combine(draw(st.sampled_from(days)), time(), cal.zone).astimezone(UTC)
        hours_before = timedelta(hours=draw(st.integers(0, 48)))
        start = day.replace(minute=day.minute // 15 * 15) - hours_before
    local_day = start.astimezone(cal.zone).date()
    offsets = draw(st.sets(st.integers(-1, 5), max_size=3))
    holidays = [local_day + timedelta(days=o) for o in offsets]
    cal = BusinessCalendar(cal.timezone, cal.hours, holidays)
    steps = draw(st.integers(0, 4 * 24 * 4))
    return cal, start, steps


@PROPS
@given(aligned_windows())
def test_prop_matches_wall_clock_oracle(window):
    """Business time equals a brute-force count of 15-minute slots whose wall time is open."""
    cal, start, steps = window
    slot = timedelta(minutes=15)
    open_slots = 0
    for i in range(steps):
        local = (start + i * slot).astimezone(cal.zone)
        span = cal.hours[local.weekday()]
        if span is None or local.date() in cal.holidays:
            continue
        wall = local.time().replace(tzinfo=None)
        open_slots += span[0] <= wall and (span[1] == time(0) or wall < span[1])
    assert cal.business_time_between(start, start + steps * slot) == open_slots * slot


@st.composite
def calendars(draw):
    """Arbitrary valid calendars, including second/microsecond wall times."""
    times = st.times()
    hours = []
    for _ in range(7):
        a, b = draw(times), draw(times)
        if draw(st.booleans()) or a == b:
            hours.append(None if draw(st.booleans()) else (a, time(0)))
        else:
            hours.append((min(a, b), max(a, b)))
    holidays = draw(st.frozensets(st.dates(date(2020, 1, 1), date(2030, 12, 31)), max_size=5))
    return BusinessCalendar(draw(st.sampled_from(ZONE_NAMES)), tuple(hours), holidays)


@PROPS
@given(calendars())
def test_prop_dict_round_trip(cal):
    assert BusinessCalendar.from_dict(json.loads(json.dumps(cal.to_dict()))) == cal


def test_working_days_skip_weekends_and_holidays_and_keep_the_clock_time_across_dst():
    # London, Friday 26 March 2027 10:15 GMT; Monday 29 March is a holiday and BST
    # (UTC+1) begins on Sunday 28 March. One working day on is Tuesday 10:15 BST.
    calendar = BusinessCalendar.from_spec("mon-fri", "09:00-17:00", "Europe/London",
                                          holidays=[date(2027, 3, 29)])
    friday = datetime(2027, 3, 26, 10, 15, tzinfo=timezone.utc)
    assert calendar.later_at_same_time(friday, working_days=1) == \
        datetime(2027, 3, 30, 9, 15, tzinfo=timezone.utc)
    # A week on is the same weekday and time; at 08:00 (closed) it is the opening.
    assert calendar.later_at_same_time(friday, days=7) == \
        datetime(2027, 4, 2, 9, 15, tzinfo=timezone.utc)
    early = datetime(2027, 3, 26, 8, 0, tzinfo=timezone.utc)
    assert calendar.later_at_same_time(early, working_days=2) == \
        datetime(2027, 3, 31, 8, 0, tzinfo=timezone.utc)  # 09:00 BST, the opening
    assert calendar.is_in_hours(datetime(2027, 3, 31, 16, 0, tzinfo=timezone.utc))  # 17:00
    assert not calendar.is_in_hours(datetime(2027, 3, 31, 16, 1, tzinfo=timezone.utc))
