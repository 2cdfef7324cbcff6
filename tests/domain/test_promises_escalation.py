"""Which escalation of a run of misses a miss is, and the one that widens the circle."""

from __future__ import annotations

from bot.domain.promises import escalation_round, should_escalate, widens


def test_a_p1_escalates_from_its_first_miss_and_widens_at_its_second():
    assert [escalation_round(m, True) for m in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert [widens(m, True) for m in (1, 2, 3, 4)] == [False, True, False, False]


def test_another_ticket_escalates_from_its_second_miss_and_widens_at_its_third():
    assert [escalation_round(m, False) for m in (1, 2, 3, 4)] == [0, 1, 2, 3]
    assert [should_escalate(m, False) for m in (1, 2, 3)] == [False, True, True]
    assert [widens(m, False) for m in (1, 2, 3, 4)] == [False, False, True, False]
