"""Every time the desk states to a requester, for something it owes, is business time.

A P1 claimed on Friday afternoon is due at Monday's opening; when that lapses the new
time is an hour of business time later (Monday 10:30), not an hour-per-hour of the
weekend (Thursday 02:30). Heads-ups before a breach land in business hours too, and
never after the time they warn about.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from bot.domain.calendar import BusinessCalendar
from tests.flows.story import FlowDesk, live, requester_heard

UTC = timezone.utc
# Friday 7 June 2030, 16:30 UTC: half an hour before the default desk (Mon-Fri 09-17 UTC)
# closes for the weekend.
FRIDAY_1630 = datetime(2030, 6, 7, 16, 30, tzinfo=UTC)
DEFAULT = BusinessCalendar.weekdays(time(9), time(17), "UTC")


async def _p1_claimed_friday(desk: FlowDesk) -> None:
    await desk.staffed(leads=("lee",))
    await desk.dm("ann", "The whole office is offline")
    await desk.command("sam", "ticket priority 1 P1")
    await desk.command("sam", "ticket claim 1")


async def test_a_p1_claimed_friday_afternoon_lapses_monday_and_is_due_an_hour_later(sqlite_url):
    async with FlowDesk(sqlite_url, start=FRIDAY_1630) as desk:
        await _p1_claimed_friday(desk)
        assert desk.requester_thread(1)[-1].text.endswith(
            "They'll update you by Monday at 09:30 UTC, or sooner if there's news.")
        heard = await live(desk, datetime(2030, 6, 10, 9, 31, tzinfo=UTC))
        told = requester_heard(heard)
        assert told == [
            "A quick update on #1: there's no news yet, and it's still with Sam. The next update will be by "
            "today at 10:30 UTC."]
        # Nothing at all was said over the weekend, to anyone.
        assert all(DEFAULT.is_open(when - timedelta(seconds=1)) for when, _ in heard), \
            [(when, s.text) for when, s in heard]


async def test_a_holiday_monday_moves_everything_to_tuesday(sqlite_url):
    async with FlowDesk(sqlite_url, start=FRIDAY_1630) as desk:
        await desk.command("boss", "helpdesk holiday add 2030-06-10")
        await _p1_claimed_friday(desk)
        assert desk.requester_thread(1)[-1].text.endswith(
            "They'll update you by Tuesday at 09:30 UTC, or sooner if there's news.")
        heard = await live(desk, datetime(2030, 6, 11, 9, 31, tzinfo=UTC), timedelta(hours=1))
        told = requester_heard(heard)
        assert told == [
            "A quick update on #1: there's no news yet, and it's still with Sam. The next update will be by "
            "today at 10:30 UTC."]
        holiday = DEFAULT.with_holiday(date(2030, 6, 10))
        assert all(holiday.is_open(when - timedelta(seconds=1)) for when, _ in heard)


async def test_the_night_dst_begins_in_london(sqlite_url):
    # Saturday 29 March 2031 16:30 GMT; the clocks go forward that night (01:00 GMT is
    # 02:00 BST). The desk works every day 09:00-17:00 London time.
    saturday = datetime(2031, 3, 29, 16, 30, tzinfo=UTC)
    async with FlowDesk(sqlite_url, start=saturday) as desk:
        await desk.command("boss", "helpdesk hours mon-sun 09:00-17:00 Europe/London")
        await _p1_claimed_friday(desk)
        assert desk.requester_thread(1)[-1].text.endswith(
            "They'll update you by tomorrow at 09:30 BST, or sooner if there's news.")
        heard = await live(desk, datetime(2031, 3, 30, 8, 31, tzinfo=UTC), timedelta(hours=1))
        told = requester_heard(heard)
        assert told == [
            "A quick update on #1: there's no news yet, and it's still with Sam. The next update will be by "
            "today at 10:30 BST."]


async def test_a_missed_follow_up_is_promised_again_in_business_time(sqlite_url):
    # The agent's own "in a day" is a working day on, at the same time (Monday 16:55);
    # the desk's new time is never sooner than the business time that promise ran for
    # (8 hours), counted in business time again: Tuesday 16:55, not three wall-clock
    # days later (Thursday).
    async with FlowDesk(sqlite_url, start=FRIDAY_1630 + timedelta(minutes=25)) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer on floor 2 is jammed")
        await desk.command("sam", "ticket priority 1 P2")  # updates every 4 business hours
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket followup 1 1d")
        heard = await live(desk, datetime(2030, 6, 10, 16, 56, tzinfo=UTC), timedelta(hours=1))
        lapses = requester_heard(heard)
        assert lapses == [
            "An update on #1: we said we'd update you by today at 16:55 UTC and haven't yet. "
            "Sorry about that. You'll get an update by tomorrow at "
            "16:55 UTC."]


async def test_heads_ups_before_a_follow_up_come_in_business_hours(sqlite_url):
    # Promised at Friday 16:30 for Monday 10:00: 1h30 of business time between, so the
    # heads-up comes at 75% of that (Monday 09:37:30), not on Sunday.
    async with FlowDesk(sqlite_url, start=FRIDAY_1630) as desk:
        await _p1_claimed_friday(desk)
        # 1h30 of business time: half an hour on Friday, an hour on Monday morning.
        await desk.command("sam", "ticket followup 1 1h30m")  # Monday 10:00
        heard = await live(desk, datetime(2030, 6, 10, 9, 40, tzinfo=UTC), timedelta(hours=1))
        warnings = [(when, s.text) for when, s in heard if s.text.startswith("Heads-up")]
        assert warnings and all(DEFAULT.is_open(when - timedelta(seconds=1))
                                for when, _ in warnings), warnings


async def test_a_ticket_has_one_update_cadence_when_its_resolution_target_lapses(sqlite_url):
    # Friday 14:00: a P1 claimed with a follow-up nobody keeps. Its resolution target
    # (Monday 10:00) lapses while the follow-up's re-promise (Monday 10:30) is open: the
    # requester is pointed to that time, and no second cadence starts.
    async with FlowDesk(sqlite_url, start=datetime(2030, 6, 7, 14, 0, tzinfo=UTC)) as desk:
        await desk.staffed()
        await desk.dm("ann", "My laptop won't boot")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket priority 1 P1")
        await desk.command("sam", "ticket followup 1 30m checking the disk")
        heard = await live(desk, datetime(2030, 6, 10, 12, 1, tzinfo=UTC),
                           step=timedelta(minutes=15))
        told = [(when, s.text) for when, s in heard if s.message.audience == "requester"]
        resolution = [(when, text) for when, text in told if "longer than we aimed" in text]
        assert resolution == [(datetime(2030, 6, 10, 10, 0, tzinfo=UTC),
                               "#1 is taking longer than we aimed for: we hoped to have it "
                               "solved by today at 10:00 UTC. Sorry for the wait. You'll get "
                               "an update by today at 10:30 UTC.")]
        # After it, one update an hour, each at the time the one before it gave.
        after = [when for when, _ in told if when > datetime(2030, 6, 10, 10, 0, tzinfo=UTC)]
        assert after == [datetime(2030, 6, 10, h, 30, tzinfo=UTC) for h in (10, 11)]
        open_updates = [p for p in await desk.open_promises(1)
                        if p.kind.value in ("status_update", "follow_up")]
        assert len(open_updates) == 1, open_updates
