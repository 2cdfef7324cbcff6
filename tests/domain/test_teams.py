"""Teams as pure values: reading ``team <name>`` off a command, and re-planning a
ticket's promises for the team it moves to."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.domain.calendar import BusinessCalendar
from bot.domain.errors import Unreadable
from bot.domain.promises import Promise, PromiseKind, PromiseStatus
from bot.domain.sla import SlaTarget
from bot.domain.teams import is_person_word, replan_for_transfer, split_team, team_name

MONDAY = datetime(2030, 6, 3, 10, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("text, rest, name", [
    ("add <@U1|hana> team hr", "add <@U1|hana>", "hr"),
    ("add <@U1|hana> TEAM HR", "add <@U1|hana>", "hr"),
    ("add <@U1|hana>", "add <@U1|hana>", None),
    ("mon-fri 09:00-17:00 UTC team facilities", "mon-fri 09:00-17:00 UTC", "facilities"),
    ("team hr", "", "hr"),
    # "team" alone at the end names nothing: left for the command to refuse.
    ("add <@U1|hana> team", "add <@U1|hana> team", None),
    # A person called Steam is not the word team.
    ("add steam hr", "add steam hr", None),
])
def test_a_trailing_team_is_read_off(text, rest, name):
    assert split_team(text) == (rest, name)


@pytest.mark.parametrize("bad", ["Facilities!", "", "a" * 31, "-hr", "h r"])
def test_a_name_that_cannot_be_a_team_is_unreadable(bad):
    with pytest.raises(Unreadable) as refused:
        team_name(bad)
    assert refused.value.template == "input.bad_team_name"


def _promise(pid: int, kind: PromiseKind, due: datetime,
             status: PromiseStatus = PromiseStatus.PENDING) -> Promise:
    return Promise(pid, 1, 1, kind, due, MONDAY - timedelta(hours=1), status=status)


HR = BusinessCalendar.from_spec("mon-fri", "09:00-12:00", "UTC")
TARGET = SlaTarget(timedelta(hours=1), timedelta(hours=2), timedelta(hours=6))


def test_a_sooner_plan_never_shortens_a_promise_and_a_closed_time_moves_to_the_opening():
    held = MONDAY.replace(hour=16)  # IT's time; HR could answer by 11:30, and is closed at 16:00
    planned = replan_for_transfer([_promise(1, PromiseKind.FIRST_RESPONSE, held)], MONDAY, HR,
                                  TARGET, 0.75)
    due, warn = planned[1]
    assert due == datetime(2030, 6, 4, 9, 0, tzinfo=timezone.utc)
    assert due >= held and HR.is_in_hours(due) and warn is not None and warn <= due


def test_a_later_plan_on_the_new_calendar_wins_and_stays_in_its_hours():
    held = MONDAY.replace(hour=11)
    planned = replan_for_transfer([_promise(1, PromiseKind.RESOLUTION, held)], MONDAY, HR,
                                  TARGET, 0.75)
    # 6h of HR time from Monday 10:30: 1h30 on Monday, 3h on Tuesday, 1h30 on Wednesday.
    assert planned[1][0] == datetime(2030, 6, 5, 10, 30, tzinfo=timezone.utc)


def test_promises_the_desk_is_not_running_are_left_alone():
    promises = [_promise(1, PromiseKind.AWAITING_REQUESTER, MONDAY + timedelta(hours=1)),
                _promise(2, PromiseKind.FIRST_RESPONSE, MONDAY, PromiseStatus.PAUSED),
                _promise(3, PromiseKind.STATUS_UPDATE, MONDAY, PromiseStatus.SENDING),
                _promise(4, PromiseKind.FOLLOW_UP, MONDAY.replace(hour=15))]
    planned = replan_for_transfer(promises, MONDAY, HR, TARGET, 0.75)
    assert set(planned) == {4}
    # A follow-up keeps the moment an agent chose when the new team can keep it; here
    # 15:00 falls while HR is closed, and HR's own update plan (2h of its time from
    # 10:30: 1h30 on Monday, 30 minutes on Tuesday) is later than its opening minute.
    assert planned[4][0] == datetime(2030, 6, 4, 9, 30, tzinfo=timezone.utc)


def test_a_follow_up_moved_over_a_closed_weekend_leaves_the_new_team_its_update_time():
    """FINDINGS-20c M1: Fred's Friday follow-up landed on HR's Monday opening minute, a
    certain lapse with an apology."""
    friday = datetime(2030, 6, 7, 16, 15, tzinfo=timezone.utc)
    held = friday.replace(hour=18)
    planned = replan_for_transfer([_promise(1, PromiseKind.FOLLOW_UP, held)], friday, HR,
                                  TARGET, 0.75)
    assert planned[1][0] == datetime(2030, 6, 10, 11, 0, tzinfo=timezone.utc)


def test_a_ticket_moved_on_again_is_planned_from_the_time_held_before_its_first_move():
    """FINDINGS-20c M3: each hop took the later of its plan and the previous hop's time."""
    it = BusinessCalendar.from_spec("mon-fri", "09:00-17:00", "UTC")
    inflated = datetime(2030, 6, 5, 15, 0, tzinfo=timezone.utc)  # an earlier hop's time
    first = datetime(2030, 6, 3, 12, 30, tzinfo=timezone.utc)  # held before any move
    promise = _promise(1, PromiseKind.STATUS_UPDATE, inflated)
    planned = replan_for_transfer([promise], MONDAY, it, TARGET, 0.75, held_first=first)
    assert planned[1][0] == first  # IT's plan (12:30) and the first time agree
    planned = replan_for_transfer([promise], MONDAY, it, TARGET, 0.75)
    assert planned[1][0] == inflated  # without it, the ratchet


@pytest.mark.parametrize("word, template", [
    ("@hana", "input.team_name_mention"), ("<@U7|hana>", "input.team_name_mention"),
    ("#hr", "input.team_name_mention"), ("me", "input.team_name_pronoun"),
    ("THEM", "input.team_name_pronoun"), ("rota", "input.team_name_reserved"),
    ("end", "input.team_name_reserved"),
])
def test_a_mention_or_a_pronoun_is_never_a_teams_name(word, template):
    with pytest.raises(Unreadable) as refused:
        team_name(word)
    assert refused.value.template == template


def test_only_a_person_is_a_person_word():
    assert is_person_word("@hana") and is_person_word("<@U7>") and is_person_word("Me")
    assert not is_person_word("#hr") and not is_person_word("it")
    assert not is_person_word("hr")


def test_an_update_time_the_new_team_can_meet_is_kept():
    """RECHECK-20 N4: a transfer stretched every pending follow-up to the new team's
    update plan, with an apology, even when the new team could keep the held time."""
    it = BusinessCalendar.from_spec("mon-fri", "09:00-17:00", "UTC")
    held = MONDAY + timedelta(hours=1, minutes=30)  # the team's update plan: 2h
    for kind in (PromiseKind.FOLLOW_UP, PromiseKind.STATUS_UPDATE, PromiseKind.FIRST_RESPONSE):
        planned = replan_for_transfer([_promise(1, kind, held)], MONDAY, it, TARGET, 0.75)
        assert planned[1][0] == held, kind
    # Too little of the team's time before it: the team's own plan.
    soon = MONDAY + timedelta(minutes=20)
    planned = replan_for_transfer([_promise(1, PromiseKind.FOLLOW_UP, soon)], MONDAY, it,
                                  TARGET, 0.75)
    assert planned[1][0] == MONDAY + TARGET.update_interval
