"""The parsers of what people type (times, durations, priorities, ticket numbers) raise
nothing but the domain's own ``Unreadable`` (or ``UnknownTicket`` for a number no
ticket has), and every answer names what was wrong in its own words."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from bot.desk.policy import words_for
from bot.domain.errors import DomainError, Unreadable
from bot.domain.priority import Impact, Priority, Urgency, read_priority
from bot.domain.sla import parse_duration
from bot.domain.tickets import UnknownTicket, read_ticket_number
from bot.domain.when import parse_when, split_when
from bot.templates import load_templates

TEMPLATES = load_templates()
NOW = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)  # a Monday


def said(error: DomainError) -> str:
    return words_for(TEMPLATES, error, prefix="/ticket")


def answer_to(call, *args) -> str:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return said(caught.value)


@pytest.mark.parametrize("text, expected", [
    ("tomorrow 25:00", "“tomorrow 25:00” isn't a time of day."),
    ("25:00", "“25:00” isn't a time of day."),
    ("9:75", "“9:75” isn't a time of day."),
    ("12:345", "“12:345” isn't a time of day."),
    ("13pm", "“13pm” isn't a time on a 12-hour clock."),
    ("0s", "“0s” is no time at all: a duration must be more than zero."),
    ("-5m", "“-5m” is negative: write how long, like 5m."),
    ("99999d", "“99999d” is too long: the longest is 365 days."),
    ("53w", "“53w” is too long: the longest is 365 days."),
    ("1.5", "“1.5” needs a unit: 1.5m for minutes or 1.5h for hours."),
    ("tomorrow", "“tomorrow” needs a time of day too, like tomorrow 9am."),
    ("today", "“today” needs a time of day too, like today 3pm."),
    ("whenever", "I couldn't read “whenever” as a time."),
    ("9am", "9am has already passed; did you mean tomorrow 9am?"),
])
def test_each_bad_time_gets_its_own_reason(text, expected):
    assert answer_to(parse_when, text, NOW, "UTC").startswith(expected)


@pytest.mark.parametrize("text, expected", [
    ("tomorrow 25:00 call them", "“tomorrow 25:00” isn't a time of day."),
    ("-5m check again", "“-5m” is negative"),
    ("0s now", "“0s” is no time at all"),
    ("99999d later", "“99999d” is too long"),
    ("tomorrow please", "“tomorrow” needs a time of day too"),
    ("whenever you can", "I couldn't read “whenever” as a time."),
])
def test_the_reason_is_about_the_words_that_tried_to_be_a_time(text, expected):
    assert answer_to(split_when, text, NOW, "UTC").startswith(expected)


def test_a_time_and_the_words_after_it_are_split():
    assert split_when("tomorrow 9am call them", NOW, "UTC") == (
        datetime(2030, 6, 4, 9, 0, tzinfo=timezone.utc), "call them")
    assert split_when("at 3pm", NOW, "UTC") == (datetime(2030, 6, 3, 15, tzinfo=timezone.utc), "")
    assert split_when("2h", NOW, "UTC") == (NOW + timedelta(hours=2), "")


@pytest.mark.parametrize("words, expected", [
    ([], "I need a priority."),
    (["P2", "extra"], "“extra” is more than I need: write just the priority (P2)"),
    (["P2", "high", "low"], "“high low” is more than I need: write just the priority (P2)"),
    (["high", "low", "extra"], "“extra” is more than I need: write an impact and an urgency"),
    (["P9"], "“P9” isn't a priority I know"),
    (["high"], "“high” is an impact or an urgency: give both"),
    (["huge", "low"], "“huge” isn't an impact I know"),
    (["high", "soon"], "“soon” isn't an urgency I know"),
    (["impact=high", "impact=low"], "I need an urgency too"),
])
def test_each_bad_priority_gets_its_own_reason(words, expected):
    assert answer_to(read_priority, words).startswith(expected)


def test_good_priorities_are_read():
    assert read_priority(["p1"]) == (Priority.P1, None, None)
    assert read_priority(["3"]) == (Priority.P3, None, None)
    assert read_priority(["high", "low"]) == (Priority.P3, Impact.HIGH, Urgency.LOW)
    assert read_priority(["urgency=high", "impact=medium"]) == \
        (Priority.P2, Impact.MEDIUM, Urgency.HIGH)


# ---- properties: any text at all ----------------------------------------------------

_ODD = st.one_of(
    st.text(max_size=40),
    st.text(alphabet="0123456789:.-+ apmhdswtoryuin", max_size=20),
    st.from_regex(r"(today|tomorrow)?\s?-?\d{0,30}(:\d{0,5})?\s?(am|pm|h|m|d|s|w)?",
                  fullmatch=True),
)


def _answered(call, *args) -> None:
    """``call`` returns, or raises a DomainError whose words render and name something."""
    try:
        call(*args)
    except DomainError as error:
        text = said(error)
        assert text.strip()
        assert isinstance(error, (Unreadable, UnknownTicket))


@settings(max_examples=500, deadline=None)
@given(_ODD)
def test_no_time_raises_anything_but_its_own_reason(text):
    _answered(parse_when, text, NOW, "Europe/London")
    _answered(split_when, text, NOW, "UTC")
    _answered(parse_duration, text)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
    ["P1", "p2", "3", "high", "low", "medium", "impact=high", "urgency=low", "=", "P"])),
    max_size=4))
def test_no_priority_raises_anything_but_its_own_reason(words):
    _answered(read_priority, words)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=30), st.from_regex(r"#?[-+]?\d{0,60}", fullmatch=True)))
def test_no_ticket_number_raises_anything_but_its_own_reason(word):
    _answered(read_ticket_number, word)


def test_a_bar_marks_where_the_time_ends():
    from datetime import datetime, timedelta, timezone
    from bot.domain.when import split_when
    now = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)
    assert split_when("2h | 30m call with the vendor", now, "UTC") == \
        (now + timedelta(hours=2), "30m call with the vendor")
    # Without the bar the longest time wins, as before.
    assert split_when("2h 30m call", now, "UTC") == (now + timedelta(hours=2, minutes=30), "call")
    # A bar after something that is not a time is just text.
    assert split_when("2h check a|b", now, "UTC") == (now + timedelta(hours=2), "check a|b")
