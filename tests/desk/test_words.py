"""Times and business durations are the domain's values in the workspace's words.

The domain (bot/domain/timefmt.py, bot/domain/sla.py) says which day, which clock time
and how many hours; bot/desk/words.py renders them from ``[when]`` and ``[durations]``
in config/messages.toml. The words moved out of the domain without changing one output:
the old English formatter is kept here as the reference.
"""

from __future__ import annotations

from datetime import datetime, time as clock, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import given, settings, strategies as st

from bot.desk.words import business_time, when
from bot.domain.calendar import BusinessCalendar
from bot.domain.timefmt import local_moment
from bot.templates import load_templates

WORDS = load_templates()
NOW = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)  # a Monday


def english_reference(moment: datetime, now: datetime, tz: str) -> str:
    """What bot/domain/timefmt.format_when wrote before its words became templates."""
    zone = ZoneInfo(tz)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock_text = local.strftime("%H:%M")
    # A time to come rounds up to the minute; one past is the minute it happened in.
    if (local.second or local.microsecond) and moment > now:
        local = (local + timedelta(minutes=1)).replace(second=0, microsecond=0)
        clock_text = local.strftime("%H:%M")
    else:
        local = local.replace(second=0, microsecond=0)
    abbreviation = local.tzname() or zone.key
    days = (local.date() - today).days
    if days == 0:
        day = "today"
    elif days == 1:
        day = "tomorrow"
    elif 1 < days < 7:
        day = local.strftime("%A")
    else:
        day = f"{local.strftime('%A')} {local.day} {local.strftime('%b')}"
    return f"{day} at {clock_text} {abbreviation}"


def test_times_read_as_before():
    assert when(WORDS, NOW + timedelta(hours=4, seconds=30), NOW, "UTC") == "today at 14:01 UTC"
    assert when(WORDS, NOW + timedelta(days=1), NOW, "Europe/Paris") == \
        "tomorrow at 12:00 CEST"
    assert when(WORDS, NOW + timedelta(days=4), NOW, "UTC") == "Friday at 10:00 UTC"
    assert when(WORDS, NOW + timedelta(days=8), NOW, "UTC") == "Tuesday 11 Jun at 10:00 UTC"
    assert when(WORDS, NOW - timedelta(days=1), NOW, "UTC") == "Sunday 2 Jun at 10:00 UTC"


def test_a_past_moment_is_the_minute_it_happened_in():
    # 13:30:20 happened in 13:30: "13:31" would be a minute that had not yet come.
    opened = NOW + timedelta(hours=3, minutes=30, seconds=20)
    assert when(WORDS, opened, opened + timedelta(seconds=5), "UTC") == "today at 13:30 UTC"
    assert when(WORDS, opened, opened, "UTC") == "today at 13:30 UTC"
    assert when(WORDS, opened, NOW, "UTC") == "today at 13:31 UTC"  # still to come


@settings(max_examples=300, deadline=None)
@given(st.integers(-10 * 24 * 3600, 400 * 24 * 3600),
       st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata",
                        "Australia/Lord_Howe", "Pacific/Chatham"]))
def test_prop_every_time_reads_as_the_english_formatter_wrote_it(seconds, tz):
    moment = NOW + timedelta(seconds=seconds)
    assert when(WORDS, moment, NOW, tz) == english_reference(moment, NOW, tz)


def test_the_domain_gives_parts_not_words():
    local = local_moment(NOW + timedelta(days=8), NOW, "UTC")
    assert (local.days_ahead, local.weekday, local.day, local.month, local.clock,
            local.zone) == (8, 1, 11, 6, "10:00", "UTC")


def test_a_workspace_words_its_own_times():
    french = WORDS.with_overrides({"when": {
        "tomorrow": "demain à {clock} {zone}",
        "later": "{weekday} {day} {month} à {clock} {zone}",
        "weekdays": ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"],
        "months": ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                   "oct.", "nov.", "déc."]}})
    assert when(french, NOW + timedelta(days=1), NOW, "UTC") == "demain à 10:00 UTC"
    assert when(french, NOW + timedelta(days=8), NOW, "UTC") == "mardi 11 juin à 10:00 UTC"


def test_business_durations_read_as_business_hours_and_working_days():
    office = BusinessCalendar.weekdays(clock(9), clock(17), "UTC")

    def fmt(value: timedelta, calendar: BusinessCalendar = office) -> str:
        return business_time(WORDS, value, calendar)

    assert fmt(timedelta(hours=1)) == "1 business hour"
    assert fmt(timedelta(minutes=45)) == "45 business minutes"
    assert fmt(timedelta(hours=2, minutes=30)) == "2 hours 30 minutes of business time"
    assert fmt(timedelta(hours=8)) == "8 business hours (1 working day of 8 hours)"
    assert fmt(timedelta(days=1)) == "24 business hours (3 working days of 8 hours)"
    assert fmt(timedelta(hours=12)) == "12 business hours (1.5 working days of 8 hours)"
    assert fmt(timedelta(hours=10)) == "10 business hours"
    assert fmt(timedelta(seconds=90)) == "1 minute 30 seconds of business time"
    assert business_time(WORDS, timedelta(days=1), office, working_days=False) == \
        "24 business hours"
    # Days of different lengths have no one "working day" to count in.
    uneven = BusinessCalendar(
        "UTC", tuple([(clock(9), clock(17))] * 4 + [(clock(9), clock(13)), None, None]))
    assert fmt(timedelta(hours=24), uneven) == "24 business hours"
    always = BusinessCalendar.always_open()
    assert fmt(timedelta(hours=48), always) == "48 business hours (2 working days of 24 hours)"
    long_day = BusinessCalendar.weekdays(clock(9), clock(17, 30), "UTC")
    assert fmt(timedelta(hours=17), long_day) == (
        "17 business hours (2 working days of 8 hours 30 minutes)")


def test_statuses_and_priorities_are_the_workspaces_words():
    from bot.desk.policy import DeskPolicy
    from bot.domain.priority import Priority
    from bot.domain.tickets import TicketStatus
    policy = DeskPolicy(calendar=BusinessCalendar.always_open(), sla=None, templates=WORDS,
                        ticket_emoji="ticket", waiting=None, confirmation=None)
    assert [policy.priority(p) for p in Priority] == [
        "P1 (critical)", "P2 (high)", "P3 (normal)", "P4 (low)"]
    assert policy.status(TicketStatus.OPEN) == "open, waiting for an agent"
    assert policy.status(TicketStatus.OPEN, agent=True) == "open, not claimed yet"
    assert all(policy.status(s) and policy.status(s, agent=True) for s in TicketStatus)
