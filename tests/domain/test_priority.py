"""Tests for bot.domain.priority."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from bot.domain.errors import Unreadable
from bot.domain.priority import Impact, Priority, PriorityDecision, Urgency, priority_from

H, M, L = "high", "medium", "low"

MATRIX = {
    (H, H): Priority.P1,
    (H, M): Priority.P2,
    (M, H): Priority.P2,
    (H, L): Priority.P3,
    (M, M): Priority.P3,
    (L, H): Priority.P3,
    (M, L): Priority.P4,
    (L, M): Priority.P4,
    (L, L): Priority.P4,
}


def test_enum_values():
    assert [m.value for m in Impact] == ["high", "medium", "low"]
    assert [m.value for m in Urgency] == ["high", "medium", "low"]
    assert [m.value for m in Priority] == ["P1", "P2", "P3", "P4"]
    assert Impact.HIGH == "high" and Priority.P1 == "P1"


@pytest.mark.parametrize(("impact", "urgency"), list(MATRIX))
def test_priority_matrix(impact, urgency):
    assert priority_from(Impact(impact), Urgency(urgency)) is MATRIX[(impact, urgency)]


def test_matrix_is_total_and_symmetric():
    for imp, urg in itertools.product(Impact, Urgency):
        assert priority_from(imp, urg) is priority_from(Impact(urg.value), Urgency(imp.value))


def test_priority_from_accepts_words():
    assert priority_from("HIGH", " medium ") is Priority.P2


def test_priority_from_rejects_garbage():
    with pytest.raises(ValueError, match="impact"):
        priority_from("huge", "high")
    with pytest.raises(ValueError, match="urgency"):
        priority_from("high", "asap")


@pytest.mark.parametrize("text", ["p1", "P1", " P1 ", "\tp1\n", "1"])
def test_priority_parse_accepts(text):
    assert Priority.parse(text) is Priority.P1


@pytest.mark.parametrize(
    ("text", "expected"),
    [(" P2 ", Priority.P2), ("p3", Priority.P3), ("P4", Priority.P4), ("4", Priority.P4)],
)
def test_priority_parse_other_levels(text, expected):
    assert Priority.parse(text) is expected


@pytest.mark.parametrize("text", ["", "  ", "P0", "P5", "p12", "high", "P 1", "1p", "5"])
def test_priority_parse_rejects_with_helpful_message(text):
    with pytest.raises(Unreadable) as raised:
        Priority.parse(text)
    assert (raised.value.template, raised.value.fields) == ("input.unknown_priority",
                                                            {"text": text.strip()})


def test_priority_parse_non_string():
    with pytest.raises(ValueError):
        Priority.parse(1)  # type: ignore[arg-type]
    assert Priority.parse(Priority.P3) is Priority.P3


def test_priority_rank():
    assert [p.rank for p in Priority] == [1, 2, 3, 4]


@pytest.mark.parametrize("cls", [Impact, Urgency])
@pytest.mark.parametrize(
    ("text", "value"),
    [("HIGH", "high"), (" Medium ", "medium"), ("low", "low"), ("LoW", "low")],
)
def test_level_parse(cls, text, value):
    assert cls.parse(text) is cls(value)


@pytest.mark.parametrize("cls", [Impact, Urgency])
@pytest.mark.parametrize("text", ["", "hi", "critical", "med ium"])
def test_level_parse_rejects(cls, text):
    with pytest.raises(Unreadable) as raised:
        cls.parse(text)
    assert raised.value.template == f"input.unknown_{cls.__name__.lower()}"
    assert raised.value.fields == {"text": text.strip()}


@pytest.mark.parametrize("cls", [Impact, Urgency])
@pytest.mark.parametrize("value", [None, 3])
def test_level_parse_rejects_what_is_not_text(cls, value):
    with pytest.raises(ValueError, match="must be text"):
        cls.parse(value)


def test_level_parse_passes_members_through():
    assert Impact.parse(Impact.LOW) is Impact.LOW
    assert Urgency.parse(Urgency.HIGH) is Urgency.HIGH


def test_computed_decision():
    decision = PriorityDecision.computed(Impact.HIGH, "medium")
    assert decision.priority is Priority.P2
    assert decision.impact is Impact.HIGH and decision.urgency is Urgency.MEDIUM
    assert decision.override_reason is None and decision.overridden_by is None
    assert decision.override_reason is None


def test_override_decision():
    decision = PriorityDecision.override("p1", " CEO laptop ", "alice", impact="low", urgency="low")
    assert decision.priority is Priority.P1
    assert decision.override_reason is not None
    assert decision.override_reason == "CEO laptop"
    assert decision.overridden_by == "alice"
    assert decision.impact is Impact.LOW and decision.urgency is Urgency.LOW


def test_override_without_impact_urgency():
    decision = PriorityDecision.override(Priority.P4, "duplicate", "bob")
    assert decision.impact is None and decision.urgency is None and decision.override_reason is not None


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_override_requires_reason(reason):
    with pytest.raises(ValueError, match="reason"):
        PriorityDecision.override(Priority.P1, reason, "alice")  # type: ignore[arg-type]


@pytest.mark.parametrize("by", ["", " ", None])
def test_override_requires_author(by):
    with pytest.raises(ValueError, match="overridden_by"):
        PriorityDecision.override(Priority.P1, "because", by)  # type: ignore[arg-type]


def test_override_rejects_bad_priority():
    with pytest.raises(Unreadable, match="unknown_priority"):
        PriorityDecision.override("urgent", "because", "alice")


def test_direct_construction_validates_computed_consistency():
    with pytest.raises(ValueError, match="override"):
        PriorityDecision(Priority.P1, Impact.LOW, Urgency.LOW)
    with pytest.raises(ValueError, match="impact and urgency"):
        PriorityDecision(Priority.P1)
    with pytest.raises(ValueError, match="reason"):
        PriorityDecision(Priority.P1, overridden_by="alice")
    direct = PriorityDecision("P3", "medium", "medium")  # type: ignore[arg-type]
    assert direct == PriorityDecision.computed(Impact.MEDIUM, Urgency.MEDIUM)


def test_decision_is_frozen_and_hashable():
    decision = PriorityDecision.computed("low", "low")
    with pytest.raises(dataclasses.FrozenInstanceError):
        decision.priority = Priority.P1  # type: ignore[misc]
    assert hash(decision) == hash(PriorityDecision.computed("low", "low"))


@pytest.mark.parametrize(
    "decision",
    [
        PriorityDecision.computed("high", "high"),
        PriorityDecision.override("P4", "known issue", "carol"),
        PriorityDecision.override("P2", "VIP", "dave", impact="low", urgency="medium"),
    ],
)
def test_decision_dict_round_trip(decision):
    data = decision.to_dict()
    assert all(v is None or isinstance(v, str) for v in data.values())
    assert PriorityDecision.from_dict(data) == decision
