"""The incident rules, without a database: references, what agents type, looking alike."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone

import pytest

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Unreadable
from bot.domain.incidents import (
    alike, looks_like, parse_ref, read_ticket_numbers, ref_of, signature, split_declare,
    split_next,
)

MONDAY = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)
CALENDAR = BusinessCalendar.weekdays(time(9), time(17), "UTC")


@pytest.mark.parametrize("text, number", [("INC-3", 3), ("inc3", 3), (" 12 ", 12)])
def test_references(text, number):
    assert parse_ref(text) == number
    assert ref_of(number) == f"INC-{number}"


@pytest.mark.parametrize("text", ["", "INC-0", "INC-x", "#3", "KB-3"])
def test_what_is_no_reference_says_so(text):
    with pytest.raises(Unreadable) as caught:
        parse_ref(text)
    assert caught.value.template == "input.bad_incident_ref"


@pytest.mark.parametrize("text, numbers", [
    ("1 2 3", [1, 2, 3]), ("1,2, #3", [1, 2, 3]), ("#4,#4 2", [4, 2]), ("1-3", [1, 2, 3]),
    ("#7-#9, 1", [7, 8, 9, 1]),
])
def test_ticket_numbers_by_spaces_commas_hashes_and_runs(text, numbers):
    assert read_ticket_numbers(text) == numbers


@pytest.mark.parametrize("text, template", [
    ("", "input.need_ticket_numbers"), (" , ", "input.need_ticket_numbers"),
    ("1 abc", "input.need_ticket_number"), ("3-1", "input.ticket_range_too_long"),
    ("1-5000", "input.ticket_range_too_long"), ("0", "input.ticket_number_zero"),
])
def test_what_is_no_ticket_number_says_so(text, template):
    with pytest.raises(Unreadable) as caught:
        read_ticket_numbers(text)
    assert caught.value.template == template


@pytest.mark.parametrize("text, title, numbers", [
    ("VPN down from 1, 2 #3", "VPN down", [1, 2, 3]),
    ("VPN down from 1-3", "VPN down", [1, 2, 3]),
    ("Email from Outlook", "Email from Outlook", []),  # "from" that starts no list
    ("Mail from the server from 4", "Mail from the server", [4]),
    ("VPN down", "VPN down", []),
])
def test_declare_reads_from_only_before_ticket_numbers(text, title, numbers):
    assert split_declare(text) == (title, numbers)


def test_next_counts_only_as_the_last_two_words_and_only_as_a_time():
    text, when = split_next("Gateway restarting next 30m", MONDAY, "UTC", CALENDAR)
    assert text == "Gateway restarting" and when.at == MONDAY + timedelta(minutes=30)
    text, when = split_next("Fixed by the next shift", MONDAY, "UTC", CALENDAR)
    assert (text, when) == ("Fixed by the next shift", None)
    text, when = split_next("next 15:00 we know more", MONDAY, "UTC", CALENDAR)
    assert (text, when) == ("next 15:00 we know more", None)


def test_a_message_looks_like_an_incident_by_its_title_terms():
    vpn = signature("VPN down")
    assert looks_like("My VPN keeps dropping", vpn)
    assert looks_like("vpn not working", vpn)
    assert not looks_like("Printer jammed on floor 3", vpn)
    email = signature("Outlook email not syncing")
    assert looks_like("my outlook email is stuck", email)
    assert not looks_like("outlook crashed", email)  # one term of three is not half
    assert not looks_like("anything", frozenset())


def test_two_messages_are_alike_when_they_share_half_the_shorter_ones_terms():
    assert alike("VPN is down", "my vpn keeps dropping")
    assert not alike("VPN is down", "printer jammed")
    assert not alike("hello", "thanks")  # no terms at all
