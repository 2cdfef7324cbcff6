"""Ticket states and guarded transitions, checked for every (state, action) pair."""

from __future__ import annotations

import pytest

from bot.domain.errors import DomainError, Phrase
from bot.domain.tickets import (
    IllegalTransition, TicketAction, TicketStatus, allowed_actions, subject_from,
    transition,
)

S, A = TicketStatus, TicketAction

# The whole table: (from, action) -> (to with an owner, to without one). Absent = illegal.
EXPECTED = {
    (S.NEW, A.ACKNOWLEDGE): (S.OPEN, S.OPEN),
    **{(s, A.CLAIM): (S.IN_PROGRESS, S.IN_PROGRESS)
       for s in (S.NEW, S.OPEN, S.IN_PROGRESS, S.WAITING_REQUESTER, S.WAITING_THIRD_PARTY)},
    **{(s, A.WAIT_ON_REQUESTER): (S.WAITING_REQUESTER,) * 2
       for s in (S.OPEN, S.IN_PROGRESS, S.WAITING_THIRD_PARTY)},
    **{(s, A.WAIT_ON_THIRD_PARTY): (S.WAITING_THIRD_PARTY,) * 2
       for s in (S.OPEN, S.IN_PROGRESS, S.WAITING_REQUESTER)},
    **{(s, A.RESUME): (S.IN_PROGRESS, S.OPEN) for s in (S.WAITING_REQUESTER, S.WAITING_THIRD_PARTY)},
    **{(s, A.RESOLVE): (S.RESOLVED,) * 2
       for s in (S.OPEN, S.IN_PROGRESS, S.WAITING_REQUESTER, S.WAITING_THIRD_PARTY)},
    (S.RESOLVED, A.CONFIRM): (S.CLOSED, S.CLOSED),
    (S.RESOLVED, A.REJECT_RESOLUTION): (S.IN_PROGRESS, S.OPEN),
    (S.RESOLVED, A.AUTO_CLOSE): (S.CLOSED, S.CLOSED),
    (S.WAITING_REQUESTER, A.AUTO_CLOSE): (S.CLOSED, S.CLOSED),
    (S.RESOLVED, A.REOPEN): (S.IN_PROGRESS, S.OPEN),
    (S.CLOSED, A.REOPEN): (S.IN_PROGRESS, S.OPEN),
    # "This solved it" on a suggested article closes an active ticket, whoever owns it.
    **{(s, A.SELF_SOLVE): (S.CLOSED, S.CLOSED)
       for s in (S.NEW, S.OPEN, S.IN_PROGRESS, S.WAITING_REQUESTER, S.WAITING_THIRD_PARTY)},
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(A))
def test_every_state_and_action(status, action):
    expected = EXPECTED.get((status, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as raised:
            transition(status, action, has_owner=True, number=7)
        assert isinstance(raised.value, DomainError)
        assert raised.value.fields["number"] == 7
        assert raised.value.fields["status"] == Phrase(f"status.{status.value}")
        assert raised.value.fields["action"] == Phrase(f"transitions.{action.value}")
        assert action not in allowed_actions(status)
    else:
        assert transition(status, action, has_owner=True) == expected[0]
        assert transition(status, action, has_owner=False) == expected[1]
        assert action in allowed_actions(status)


def test_closed_tickets_can_only_be_reopened():
    assert allowed_actions(S.CLOSED) == {A.REOPEN}


def test_only_resolved_and_closed_are_inactive():
    assert {s for s in S if not s.is_active} == {S.RESOLVED, S.CLOSED}


def test_illegal_transition_names_its_template_for_polite_wording():
    error = IllegalTransition(3, S.CLOSED, A.RESOLVE)
    assert error.template == "errors.illegal_transition"
    assert error.fields == {"number": 3, "status": Phrase("status.closed"),
                            "action": Phrase("transitions.resolve")}
    unnumbered = IllegalTransition(None, S.CLOSED, A.RESOLVE)
    assert unnumbered.template == "errors.illegal_transition_unnumbered"


@pytest.mark.parametrize("text, subject", [
    ("VPN drops", "VPN drops"),
    ("  many   spaces\nand lines ", "many spaces and lines"),
    ("", "(no text)"),
])
def test_subject_is_one_tidy_line(text, subject):
    assert subject_from(text) == subject


def test_long_subjects_are_cut_at_a_word_boundary():
    subject = subject_from("word " * 40)
    assert len(subject) <= 80 and subject.endswith("…") and "wor…" not in subject
