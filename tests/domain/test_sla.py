"""Tests for bot.domain.sla."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Unreadable
from bot.domain.priority import Priority
from bot.domain.sla import (
    Deadline,
    SlaPolicy,
    SlaState,
    SlaTarget,
    parse_duration,
)

UTC = timezone.utc
NY = ZoneInfo("America/New_York")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
US = timedelta(microseconds=1)
OFFICE = BusinessCalendar.weekdays(time(9), time(17), "America/New_York")
ALWAYS = BusinessCalendar.always_open()
SECONDS = {"first_response": 60, "update_interval": 60, "resolution": 60}


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def target(first: float, update: float, resolve: float) -> SlaTarget:
    return SlaTarget(first * H, update * H, resolve * H)


# -- targets and policy -------------------------------------------------------


@pytest.mark.parametrize("bad", [timedelta(0), -MIN, 3600, None])
@pytest.mark.parametrize("field", ["first_response", "update_interval", "resolution"])
def test_target_must_be_positive_timedelta(field, bad):
    values = {"first_response": H, "update_interval": H, "resolution": H, field: bad}
    with pytest.raises(ValueError, match=field):
        SlaTarget(**values)


def test_default_policy():
    policy = SlaPolicy.default()
    assert policy.warn_at == 0.75
    assert policy.targets[Priority.P1] == target(1, 1, 4)
    assert policy.targets[Priority.P2] == target(4, 4, 24)
    assert policy.targets[Priority.P3] == target(8, 8, 48)
    assert policy.targets[Priority.P4] == target(16, 24, 96)
    assert list(policy.targets) == list(Priority)


def test_policy_requires_every_priority():
    targets = {p: target(1, 1, 1) for p in Priority if p is not Priority.P3}
    with pytest.raises(ValueError, match="missing targets for P3"):
        SlaPolicy(targets)


def test_policy_accepts_string_keys_and_rejects_unknown():
    keys = ["p1", "P2", " p3 ", "4"]
    policy = SlaPolicy({key: target(n, n, n) for n, key in enumerate(keys, 1)})  # type: ignore[misc]
    assert policy.target("P3") == target(3, 3, 3)
    with pytest.raises(ValueError, match="unknown_priority.*P9"):
        SlaPolicy({**{p: target(1, 1, 1) for p in Priority}, "P9": target(1, 1, 1)})


def test_policy_rejects_non_target_values():
    with pytest.raises(ValueError, match="SlaTarget"):
        SlaPolicy({p: (H, H, H) for p in Priority})  # type: ignore[misc]


@pytest.mark.parametrize("warn_at", [0, 1, -0.1, 1.5, True, "0.5", None])
def test_policy_warn_at_must_be_fraction(warn_at):
    with pytest.raises(ValueError, match="warn_at"):
        SlaPolicy(SlaPolicy.default().targets, warn_at)  # type: ignore[arg-type]


def test_policy_is_immutable_and_hashable():
    policy = SlaPolicy.default()
    with pytest.raises(TypeError):
        policy.targets[Priority.P1] = target(9, 9, 9)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.warn_at = 0.5  # type: ignore[misc]
    assert policy == SlaPolicy.default() and hash(policy) == hash(SlaPolicy.default())
    assert policy != SlaPolicy(policy.targets, 0.5)


def test_policy_copies_the_given_mapping():
    targets = dict(SlaPolicy.default().targets)
    policy = SlaPolicy(targets)
    targets[Priority.P1] = target(9, 9, 9)
    assert policy.targets[Priority.P1] == target(1, 1, 4)


def test_with_target():
    base = SlaPolicy.default()
    changed = base.with_target("p2", target(2, 3, 5))
    assert changed.targets[Priority.P2] == target(2, 3, 5)
    assert base.targets[Priority.P2] == target(4, 4, 24)
    assert changed.warn_at == base.warn_at
    assert {p: changed.targets[p] for p in Priority if p is not Priority.P2} == {
        p: base.targets[p] for p in Priority if p is not Priority.P2
    }


def test_policy_dict_round_trip():
    odd = SlaTarget(timedelta(seconds=90.25), 7 * MIN, 3 * H)
    policy = SlaPolicy.default().with_target(Priority.P1, odd)
    policy = SlaPolicy(policy.targets, 0.8)
    data = json.loads(json.dumps(policy.to_dict()))
    assert data["targets"]["P2"] == {"first_response": 14400, "update_interval": 14400, "resolution": 86400}
    assert data["targets"]["P1"]["first_response"] == 90.25
    assert data["warn_at"] == 0.8
    assert SlaPolicy.from_dict(data) == policy


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"targets": {"P1": {"first_response": 60}}},
        {"targets": {p.value: {**SECONDS, "first_response": 0} for p in Priority}},
        {"targets": {p.value: {**SECONDS, "first_response": "x"} for p in Priority}},
        {"targets": [1, 2, 3]},
    ],
)
def test_policy_from_dict_rejects_malformed(data):
    """Zero durations, wrong types and missing keys are all ValueError."""
    with pytest.raises(ValueError):
        SlaPolicy.from_dict(data)


# -- deadlines ----------------------------------------------------------------


def test_first_response_deadline_friday_afternoon():
    deadline = SlaPolicy.default().first_response_deadline(Priority.P1, ny(2024, 6, 7, 16, 30), OFFICE)
    assert deadline.started_at == ny(2024, 6, 7, 16, 30)
    assert deadline.due_at == ny(2024, 6, 10, 9, 30)
    # 45 business minutes: 30 on Friday, 15 on Monday.
    assert deadline.warn_at == ny(2024, 6, 10, 9, 15)
    assert all(d.tzinfo is UTC for d in (deadline.started_at, deadline.due_at, deadline.warn_at))


def test_resolution_deadline_spans_business_days():
    deadline = SlaPolicy.default().resolution_deadline("P2", ny(2024, 6, 10, 10), OFFICE)
    assert deadline.due_at == ny(2024, 6, 13, 10)
    assert deadline.warn_at == ny(2024, 6, 12, 12)  # 18 of 24 business hours


def test_update_deadline_uses_update_interval():
    policy = SlaPolicy.default()
    deadline = policy.update_deadline(Priority.P4, ny(2024, 6, 10, 9), OFFICE)
    assert deadline.started_at == ny(2024, 6, 10, 9)
    assert deadline.due_at == ny(2024, 6, 12, 17)  # 24 business hours = 3 days of 8h
    assert deadline.warn_at == ny(2024, 6, 12, 11)


def test_deadlines_on_always_open_calendar():
    opened = datetime(2024, 1, 1, 12, tzinfo=UTC)
    deadline = SlaPolicy.default().first_response_deadline(Priority.P1, opened, ALWAYS)
    assert deadline.due_at == opened + H
    assert deadline.warn_at == opened + 45 * MIN
    assert SlaPolicy.default().resolution_deadline(Priority.P4, opened, ALWAYS).due_at == opened + 96 * H


def test_deadline_opened_while_closed_starts_counting_at_opening():
    deadline = SlaPolicy.default().first_response_deadline(Priority.P1, ny(2024, 6, 8, 12), OFFICE)
    assert deadline.started_at == ny(2024, 6, 8, 12)
    assert deadline.due_at == ny(2024, 6, 10, 10)


def test_deadline_respects_holidays():
    cal = OFFICE.with_holiday(date(2024, 6, 10))
    deadline = SlaPolicy.default().first_response_deadline(Priority.P1, ny(2024, 6, 7, 16, 30), cal)
    assert deadline.due_at == ny(2024, 6, 11, 9, 30)


def test_state_transitions():
    deadline = SlaPolicy.default().first_response_deadline(Priority.P1, ny(2024, 6, 7, 16, 30), OFFICE)
    assert deadline.state(ny(2024, 6, 7, 16, 30)) is SlaState.ON_TRACK
    assert deadline.state(ny(2024, 6, 8, 12)) is SlaState.ON_TRACK
    assert deadline.state(deadline.warn_at - US) is SlaState.ON_TRACK
    assert deadline.state(deadline.warn_at) is SlaState.AT_RISK
    assert deadline.state(deadline.due_at - US) is SlaState.AT_RISK
    assert deadline.state(deadline.due_at) is SlaState.BREACHED
    assert deadline.state(deadline.due_at + timedelta(days=30)) is SlaState.BREACHED
    # Local-zone inputs are compared as instants.
    assert deadline.state(deadline.due_at.astimezone(NY)) is SlaState.BREACHED


def test_state_values():
    assert [s.value for s in SlaState] == ["on_track", "at_risk", "breached"]


def test_remaining_in_business_time():
    deadline = SlaPolicy.default().first_response_deadline(Priority.P1, ny(2024, 6, 7, 16, 30), OFFICE)
    assert deadline.remaining(ny(2024, 6, 7, 16, 30), OFFICE) == H
    assert deadline.remaining(ny(2024, 6, 8, 12), OFFICE) == 30 * MIN
    assert deadline.remaining(deadline.due_at, OFFICE) == timedelta(0)
    assert deadline.remaining(ny(2024, 6, 10, 11), OFFICE) == -90 * MIN
    # Overdue time also only counts business hours: Monday 09:30 -> Tuesday 10:00.
    assert deadline.remaining(ny(2024, 6, 11, 10), OFFICE) == -(7 * H + 30 * MIN + H)


def test_deadline_validation():
    at = datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="started_at <= warn_at <= due_at"):
        Deadline(at, at, at + H)
    with pytest.raises(ValueError, match="started_at <= warn_at <= due_at"):
        Deadline(at + H, at, at)
    with pytest.raises(ValueError, match="timezone-aware"):
        Deadline(datetime(2024, 1, 1), at, at)
    deadline = Deadline(at.astimezone(NY), at + H, at)
    assert deadline.started_at.tzinfo is UTC
    with pytest.raises(ValueError, match="timezone-aware"):
        deadline.state(datetime(2024, 1, 1))


def test_naive_opened_at_rejected():
    with pytest.raises(ValueError, match="timezone-aware"):
        SlaPolicy.default().first_response_deadline(Priority.P1, datetime(2024, 1, 1), OFFICE)


ZONES = ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC", "Pacific/Chatham"]
KIND_FIELD = {
    "first_response_deadline": "first_response",
    "resolution_deadline": "resolution",
    "update_deadline": "update_interval",
}


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.sampled_from([("mon-fri", "9-17"), ("mon-sun", "0-24"), ("mon,wed,fri", "08:30-12:15")]),
    st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(list(Priority)),
    st.sampled_from(sorted(KIND_FIELD)),
    st.floats(0.05, 0.95),
)
def test_prop_deadline_business_time_matches_target(zone, spec, opened, priority, kind, warn_at):
    cal = BusinessCalendar.from_spec(*spec, zone)
    policy = SlaPolicy(SlaPolicy.default().targets, warn_at)
    deadline = getattr(policy, kind)(priority, opened, cal)
    span = getattr(policy.targets[priority], KIND_FIELD[kind])
    assert deadline.started_at == opened <= deadline.warn_at < deadline.due_at
    assert cal.business_time_between(opened, deadline.due_at) == span
    assert cal.business_time_between(opened, deadline.warn_at) == span * warn_at
    assert deadline.remaining(opened, cal) == span
    assert deadline.state(deadline.warn_at) is SlaState.AT_RISK


# -- parse_duration -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", 45 * MIN),
        ("2h", 2 * H),
        ("3d", timedelta(days=3)),
        ("1h30m", 90 * MIN),
        ("1.5h", 90 * MIN),
        (".5h", 30 * MIN),
        ("1H30M", 90 * MIN),
        (" 2 hours ", 2 * H),
        ("1 hour 30 minutes", 90 * MIN),
        ("1d 2h", 26 * H),
        ("30 mins", 30 * MIN),
        ("10 sec", timedelta(seconds=10)),
        ("2hrs", 2 * H),
        ("1 day", timedelta(days=1)),
        ("2w", timedelta(weeks=2)),
        ("0.5m", timedelta(seconds=30)),
        ("365d", timedelta(days=365)),
        ("0h5m", 5 * MIN),
    ],
)
def test_parse_duration_accepts(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "template"),
    [
        ("90", "input.duration_needs_unit"),
        ("1.5", "input.duration_needs_unit"),
        ("", "input.duration_empty"),
        ("   ", "input.duration_empty"),
        ("0m", "input.duration_not_positive"),
        ("0h0m", "input.duration_not_positive"),
        ("-5m", "input.duration_negative"),
        ("366d", "input.duration_too_long"),
        ("52w 2d", "input.duration_too_long"),
        ("99999999999999999999h", "input.duration_too_long"),
        ("1y", "input.duration_unreadable"),
        ("h", "input.duration_unreadable"),
        ("1.5.h", "input.duration_unreadable"),
        ("abc", "input.duration_unreadable"),
        ("1e3h", "input.duration_unreadable"),
        ("1h30", "input.duration_unreadable"),
        ("5 m m", "input.duration_unreadable"),
        (None, "input.duration_empty"),
        (5, "input.duration_empty"),
    ],
)
def test_parse_duration_rejects_with_the_message_that_says_why(text, template):
    with pytest.raises(Unreadable) as raised:
        parse_duration(text)  # type: ignore[arg-type]
    assert raised.value.template == template and isinstance(raised.value, ValueError)


def test_parse_duration_names_what_was_written():
    with pytest.raises(Unreadable) as raised:
        parse_duration(" Soon ")
    assert raised.value.fields["text"] == "Soon"
    with pytest.raises(Unreadable) as raised:
        parse_duration("90")
    assert raised.value.fields == {"text": "90"}
