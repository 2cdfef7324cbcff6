"""Covering a lapsed promise is a pure plan (bot/ledger/plans.py): given the promise,
its ticket, the people and the policy, it says what to write, with no database and no
clock. These tests read the plans; the sweeper's tests check they are written."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.clock import SystemClock
from bot.desk.policy import Desk
from bot.domain.people import Person, Role, Workspace
from bot.domain.priority import Priority
from bot.domain.promises import Promise, PromiseKind
from bot.domain.tickets import Ticket, TicketStatus
from bot.ledger.plans import CoverInputs, plan_cover
from bot.settings import Settings

WORKSPACE = Workspace(1, "console", "T1", "Acme", {})
POLICY = Desk.from_settings(Settings(database_url="sqlite://"), SystemClock()).policy(WORKSPACE)
ANN = Person(20, 1, "ann", "Ann")
ALEX = Person(10, 1, "alex", "Alex", Role.AGENT)
LEE = Person(11, 1, "lee", "Lee", Role.LEAD)
# Monday 23 November 2026, 10:00 UTC: the default desk (09:00-17:00 UTC) is open.
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc)


def ticket(status=TicketStatus.IN_PROGRESS, owner=ALEX, priority=Priority.P3, **extra) -> Ticket:
    return Ticket(7, 1, 7, ANN.id, status, priority, "VPN", "VPN drops",
                  MONDAY_10 - timedelta(hours=2), owner_id=owner.id if owner else None,
                  channel_id="D-ann", thread_id="t-ann", **extra)


def promise(kind: PromiseKind, *, owner=ALEX, step=0, misses=0, length=timedelta(minutes=30)):
    return Promise(3, 1, 7, kind, MONDAY_10, MONDAY_10 - length,
                   owner_id=owner.id if owner else None, misses_in_row=misses, step=step)


def inputs(kind: PromiseKind, *, the_ticket: Ticket | None = None, owner=ALEX, leads=(),
           now=MONDAY_10 + timedelta(seconds=1), open_update=None,
           **promise_extra) -> CoverInputs:
    the_ticket = the_ticket or ticket(owner=owner)
    return CoverInputs(promise(kind, owner=owner, **promise_extra), the_ticket, WORKSPACE,
                       POLICY, ANN, owner, tuple(leads), now, open_update)


def test_a_missed_follow_up_gives_an_update_a_reminder_and_a_new_time():
    plan = plan_cover(inputs(PromiseKind.FOLLOW_UP))
    assert plan.update.audience == "requester" and plan.update.channel_id == "D-ann"
    assert plan.update.text.startswith("An update on #7: ")
    # A P3 is updated every business day: tomorrow at the same time.
    assert "You'll get an update by tomorrow at 10:00 UTC" in plan.update.text
    [reminder] = plan.notices
    assert reminder.person == ALEX and reminder.kind == "lapse.owner_reminders"
    assert plan.next_promise.kind is PromiseKind.FOLLOW_UP
    # (Covered at 10:00:01: the new time counts from 10:00, the minute the cover runs
    # in, so it is 10:00 tomorrow, not 10:01, and does not drift with each lapse.)
    assert plan.next_promise.due_at == MONDAY_10 + timedelta(days=1)
    assert plan.next_promise.misses_in_row == 1 and plan.status is None
    # The new follow-up replaces any open update: one cadence per ticket.
    assert plan.cancel == (PromiseKind.STATUS_UPDATE, PromiseKind.FOLLOW_UP)
    assert [line.kind for line in plan.timeline] == ["bot"]
    assert plan.timeline[0].body == "covered promised follow-up"


def test_a_chain_of_lapses_keeps_its_minute():
    # Each cover runs some seconds after the stated minute; and the first promise was
    # made at 09:29:40 and stated as 10:00 (ran for 30 minutes 20 seconds). Neither the
    # seconds of the cover nor those of the making move the next time a minute later.
    missed = replace(promise(PromiseKind.FOLLOW_UP),
                     made_at=MONDAY_10 - timedelta(days=1, seconds=20))
    covered_at = MONDAY_10 + timedelta(seconds=40)
    for day in range(1, 4):
        plan = plan_cover(CoverInputs(missed, ticket(), WORKSPACE, POLICY, ANN, ALEX, (),
                                      covered_at, None))
        assert plan.next_promise.due_at == MONDAY_10 + timedelta(days=day)
        missed = replace(missed, due_at=plan.next_promise.due_at, made_at=covered_at,
                         misses_in_row=day)
        covered_at = plan.next_promise.due_at + timedelta(seconds=40)


def test_a_waits_close_counts_from_the_minute_of_the_nudge():
    waiting = ticket(status=TicketStatus.WAITING_REQUESTER)
    nudge = plan_cover(inputs(PromiseKind.AWAITING_REQUESTER, the_ticket=waiting,
                              now=MONDAY_10 + timedelta(seconds=50)))
    assert nudge.next_promise.due_at.second == 0
    assert nudge.next_promise.due_at.minute == MONDAY_10.minute


def test_status_updates_and_resolution_targets_go_on_as_status_updates():
    for kind in (PromiseKind.STATUS_UPDATE, PromiseKind.RESOLUTION):
        plan = plan_cover(inputs(kind))
        assert plan.next_promise.kind is PromiseKind.STATUS_UPDATE
        # The ticket's other status updates and follow-ups give way to the one the
        # cover makes.
        assert plan.cancel == (PromiseKind.STATUS_UPDATE, PromiseKind.FOLLOW_UP)


def test_a_missed_resolution_target_points_to_the_update_already_promised():
    follow_up_due = MONDAY_10 + timedelta(minutes=30)
    plan = plan_cover(inputs(PromiseKind.RESOLUTION, open_update=(41, follow_up_due)))
    assert plan.next_promise is None and plan.cancel is None
    assert plan.relies_on == (41, follow_up_due)
    assert plan.update.text.endswith("You'll get an update by today at 10:30 UTC.")


def test_an_unowned_ticket_tells_the_triage_thread_not_a_person():
    carded = ticket(owner=None, triage_channel_id="C-triage", triage_message_id="card-7")
    plan = plan_cover(inputs(PromiseKind.FIRST_RESPONSE, the_ticket=carded, owner=None))
    assert plan.notices == ()
    [note] = plan.posts
    assert (note.channel_id, note.thread_id, note.audience) == ("C-triage", "card-7", "agents")
    # With no card yet there is nowhere to say it; the requester is still told.
    plan = plan_cover(inputs(PromiseKind.FIRST_RESPONSE, owner=None))
    assert plan.posts == () and plan.update is not None


def test_a_p1_miss_escalates_at_once_and_a_missing_lead_is_flagged():
    urgent = ticket(priority=Priority.P1)
    plan = plan_cover(inputs(PromiseKind.FOLLOW_UP, the_ticket=urgent, leads=[LEE]))
    assert [n.person for n in plan.notices] == [ALEX, LEE]
    assert plan.notices[1].kind == "lapse.escalations"
    assert [line.kind for line in plan.timeline] == ["escalated", "bot"]
    assert plan.no_leads is False
    assert plan_cover(inputs(PromiseKind.FOLLOW_UP, the_ticket=urgent)).no_leads is True
    # A P3's first miss does not escalate; its second does.
    assert plan_cover(inputs(PromiseKind.FOLLOW_UP, leads=[LEE])).timeline[0].kind == "bot"
    assert len(plan_cover(inputs(PromiseKind.FOLLOW_UP, leads=[LEE], misses=1)).notices) == 2


def test_a_wait_on_the_requester_nudges_then_closes():
    waiting = ticket(status=TicketStatus.WAITING_REQUESTER)
    nudge = plan_cover(inputs(PromiseKind.AWAITING_REQUESTER, the_ticket=waiting))
    assert nudge.update.text.startswith("Just checking in on #7")
    assert nudge.next_promise.kind is PromiseKind.AWAITING_REQUESTER
    assert nudge.next_promise.step == 1 and nudge.status is None and nudge.notices == ()
    # The agents see the nudge in the ticket's timeline.
    assert [line.body for line in nudge.timeline] == [
        "nudged the requester for a reply; the ticket closes at the stated time without one"]
    close = plan_cover(inputs(PromiseKind.AWAITING_REQUESTER, the_ticket=waiting, step=1))
    assert close.status is TicketStatus.CLOSED and close.cancel == ()
    assert close.next_promise is None
    assert close.update.text.startswith("We've closed #7")


def test_an_unconfirmed_resolution_is_asked_again_with_the_buttons_then_closed():
    resolved = ticket(status=TicketStatus.RESOLVED)
    ask = plan_cover(inputs(PromiseKind.AWAITING_CONFIRMATION, the_ticket=resolved))
    assert [b.action for b in ask.update.buttons] == ["resolution.yes", "resolution.no"]
    close = plan_cover(inputs(PromiseKind.AWAITING_CONFIRMATION, the_ticket=resolved, step=1))
    assert close.status is TicketStatus.CLOSED


def test_a_promise_that_owes_nothing_any_more_plans_nothing():
    # The requester answered (the ticket left "waiting"), or the ticket was resolved.
    for kind, status in ((PromiseKind.AWAITING_REQUESTER, TicketStatus.IN_PROGRESS),
                         (PromiseKind.FOLLOW_UP, TicketStatus.RESOLVED)):
        plan = plan_cover(inputs(kind, the_ticket=ticket(status=status)))
        assert (plan.update, plan.next_promise, plan.notices, plan.status) == (None, None, (), None)


def test_an_update_sent_long_after_its_time_owns_the_lateness():
    plan = plan_cover(inputs(PromiseKind.FOLLOW_UP, now=MONDAY_10 + timedelta(minutes=10)))
    assert plan.update.text.startswith("Sorry, this update on #7 is late")


def test_planning_is_pure():
    given = inputs(PromiseKind.STATUS_UPDATE, leads=[LEE], misses=1)
    assert plan_cover(given) == plan_cover(replace(given))


def test_the_desk_owns_a_miss_and_names_no_colleague_in_the_apology():
    for kind in (PromiseKind.FIRST_RESPONSE, PromiseKind.FOLLOW_UP, PromiseKind.STATUS_UPDATE,
                 PromiseKind.RESOLUTION):
        for misses in (0, 1):
            for late in (timedelta(seconds=1), timedelta(minutes=10)):
                text = plan_cover(inputs(kind, misses=misses, now=MONDAY_10 + late)).update.text
                # The owner may be named as the one the ticket is still with, never as the
                # one who didn't manage.
                assert ALEX.name not in text.replace("still with Alex", ""), text
                assert "we " in text.lower() or kind is PromiseKind.STATUS_UPDATE, text
                assert "first in line" not in text and "(s)" not in text


def test_a_status_update_while_waiting_on_a_third_party_says_so():
    waiting = ticket(status=TicketStatus.WAITING_THIRD_PARTY)
    plan = plan_cover(inputs(PromiseKind.STATUS_UPDATE, the_ticket=waiting))
    assert plan.update.text.startswith(
        "A quick update on #7: we're still waiting to hear back from the third party")


def test_a_first_response_missed_again_says_nobody_has_yet_not_that_work_goes_on():
    unowned = ticket(owner=None)
    plan = plan_cover(inputs(PromiseKind.FIRST_RESPONSE, the_ticket=unowned, owner=None,
                             misses=2))
    assert plan.update.text.startswith("An update on #7: we said someone would reply by")
    assert "nobody has yet" in plan.update.text and "working on it" not in plan.update.text


def test_a_status_update_on_a_ticket_nobody_owns_names_nobody():
    plan = plan_cover(inputs(PromiseKind.STATUS_UPDATE, the_ticket=ticket(owner=None),
                             owner=None))
    assert "waiting for someone on the team to pick it up" in plan.update.text
    assert "still with" not in plan.update.text and "The desk" not in plan.update.text


def test_an_incidents_new_time_stretches_with_each_miss_up_to_a_business_day():
    """L3: after the first miss the incident's interval, then doubled per miss in a
    row, capped at a business day, and never shorter than what the missed promise ran."""
    from datetime import timedelta

    from bot.ledger.incident_covers import STRETCH_CAP, stretched_span

    hour = timedelta(hours=1)
    assert [stretched_span(hour, hour, n) for n in (1, 2, 3, 4, 5, 9)] == [
        hour, 2 * hour, 4 * hour, STRETCH_CAP, STRETCH_CAP, STRETCH_CAP]
    # A lead's own longer time is never cut short by the stretch.
    assert stretched_span(3 * hour, hour, 2) == 3 * hour
