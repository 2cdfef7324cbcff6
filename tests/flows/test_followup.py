"""A moved promise is said, not swapped; a follow-up on a finished ticket is refused.

A second ``/ticket followup`` used to replace the first in silence, so a deadline could
be pushed out with no word and no lapse. Moving a stated time later tells the requester
plainly (the new time, and that it moved) and the timeline records it; moving it
earlier is just the new time.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.promises import PromiseKind
from tests.flows.story import MONDAY, FlowDesk


async def test_moving_a_follow_up_later_tells_the_requester_it_moved(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 1h")
        await desk.command("sam", "ticket followup 1 3h waiting for the vendor")
        assert desk.requester_thread(1)[-1].text == (
            "A change of plan on #1: we need a little longer, so the update we said would come "
            "by today at 11:00 UTC will now come by today at 13:00 UTC.\n"
            "Sam: waiting for the vendor")
        assert desk.private_to("sam")[-1].text == (
            "Noted: you'll update Ann on #1 by today at 13:00 UTC. That's later than the time "
            "we'd given them, today at 11:00 UTC, so I've told them it moved. If you can't, "
            "I'll tell them myself and give a new time.")
        [moved] = [e for e in await desk.timeline(1) if e.kind == "promise"][-1:]
        assert moved.data["moved_from"] == (desk.clock.now() + timedelta(hours=1)).isoformat()
        await desk.command("sam", "ticket show 1")
        assert "promised an update by today at 13:00 UTC (moved from today at 11:00 UTC): " \
            "“waiting for the vendor”" in desk.private_to("sam")[-1].text


async def test_a_follow_up_later_than_the_stated_update_time_is_a_move_too(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()  # "They'll update you by tomorrow at 10:00 UTC"
        await desk.command("sam", "ticket followup 1 2d")
        assert desk.requester_thread(1)[-1].text.startswith(
            "A change of plan on #1: we need a little longer, so the update we said would come "
            "by tomorrow at 10:00 UTC will now come by Wednesday at 10:00 UTC.")


async def test_moving_a_follow_up_earlier_is_just_the_new_time(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 3h")
        await desk.command("sam", "ticket followup 1 1h")
        assert desk.requester_thread(1)[-1].text == "Sam will update you on #1 by today at 11:00 UTC."
        [follow_up] = [p for p in await desk.open_promises(1) if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.due_at == desk.clock.now() + timedelta(hours=1)


async def test_a_follow_up_on_a_resolved_ticket_is_refused(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket resolve 1 Replaced the cable")
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket followup 1 1h")
        assert desk.last().text == (
            "#1 is resolved, awaiting the requester's confirmation, so there's no update to "
            "promise. Reopen it first if it needs more work.")
        assert desk.requester_said(mark) == []
        assert [p for p in await desk.open_promises(1) if p.kind is PromiseKind.FOLLOW_UP] == []


async def test_a_follow_up_in_the_same_stated_minute_is_no_move(sqlite_url):
    # "5m" at 10:00:20 is 10:05:20 and at 10:00:30 is 10:05:30: both are said as 10:06,
    # so the second is the same time, not a move "from 10:06 to 10:06".
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.advance(timedelta(seconds=20))
        await desk.command("sam", "ticket followup 1 5m")
        await desk.advance(timedelta(seconds=10))
        await desk.command("sam", "ticket followup 1 5m")
        assert desk.requester_thread(1)[-1].text == (
            "Sam will update you on #1 by today at 10:06 UTC.")
        [follow_up] = [p for p in await desk.open_promises(1)
                       if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.due_at == MONDAY + timedelta(minutes=6)
        [stated] = [e for e in await desk.timeline(1) if e.kind == "promise"][-1:]
        assert "moved_from" not in stated.data


# -- how an agent's time is read --------------------------------------------------------
# The default desk is open Mon-Fri 09:00-17:00 UTC.

async def test_a_span_given_near_closing_counts_in_the_desks_open_hours(sqlite_url):
    # "2h" at 16:30 on Monday: half an hour today, an hour and a half tomorrow morning.
    async with FlowDesk(sqlite_url, start=MONDAY.replace(hour=16, minute=30)) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2h checking the VPN logs")
        assert desk.requester_thread(1)[-1].text.startswith(
            "Sam will update you on #1 by tomorrow at 10:30 UTC.")
        assert desk.private_to("sam")[-1].text.endswith(
            "Counted in the desk's open hours, Mon-Fri 09:00-17:00 (UTC), “2h” is "
            "tomorrow at 10:30 UTC.")
        [follow_up] = [p for p in await desk.open_promises(1) if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.due_at == MONDAY + timedelta(days=1, minutes=30)
        assert follow_up.text == "checking the VPN logs"


async def test_in_two_hours_reads_as_a_span_too(sqlite_url):
    async with FlowDesk(sqlite_url, start=MONDAY.replace(hour=16, minute=30)) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 in 2 hours")
        [follow_up] = [p for p in await desk.open_promises(1) if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.due_at == MONDAY + timedelta(days=1, minutes=30)
        # Issue 14: the sentence began "in 2 hours counts ...", in lower case.
        assert desk.private_to("sam")[-1].text.endswith(
            " Counted in the desk's open hours, Mon-Fri 09:00-17:00 (UTC), “in 2 hours” is "
            "tomorrow at 10:30 UTC.")


async def test_days_are_working_days_at_the_same_time(sqlite_url):
    # "2d" on Friday 11:00 is Tuesday 11:00, not Sunday.
    async with FlowDesk(sqlite_url, start=MONDAY + timedelta(days=4, hours=1)) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2d")
        [follow_up] = [p for p in await desk.open_promises(1) if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.due_at == MONDAY + timedelta(days=8, hours=1)
        assert "“2d” is Tuesday at 11:00 UTC" in desk.private_to("sam")[-1].text


async def test_a_span_inside_open_hours_is_just_the_time(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2h")
        assert desk.private_to("sam")[-1].text == (
            "Noted: you'll update Ann on #1 by today at 12:00 UTC. If you can't, I'll tell "
            "them myself and give a new time.")


async def test_a_clock_time_outside_open_hours_is_kept_and_the_agent_told(sqlite_url):
    async with FlowDesk(sqlite_url, start=MONDAY.replace(hour=16, minute=30)) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 19:00 after the maintenance window")
        assert desk.requester_thread(1)[-1].text.startswith(
            "Sam will update you on #1 by today at 19:00 UTC.")
        assert desk.private_to("sam")[-1].text.endswith(
            "That's outside the desk's open hours, Mon-Fri 09:00-17:00 (UTC). I've kept it "
            "since it's your time; if you won't be around then, give a time within them.")
        [follow_up] = [p for p in await desk.open_promises(1) if p.kind is PromiseKind.FOLLOW_UP]
        assert follow_up.due_at == MONDAY.replace(hour=19)
        assert follow_up.warn_at is None or follow_up.warn_at <= follow_up.due_at
        # Closing time itself is within the hours: "by 17:00" needs no remark.
        await desk.command("sam", "ticket followup 1 17:00")
        assert "outside the desk's open hours" not in desk.private_to("sam")[-1].text


async def test_a_move_apologises_only_once_the_old_time_has_passed(sqlite_url):
    # Before 11:00 nobody has waited past a time we gave, so the move above carries no
    # "Sorry". Once 11:00 has come (the sweeper not yet round to cover it), it does.
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 1h")
        await desk.command("sam", "ticket followup 1 2h")
        assert "Sorry" not in desk.requester_thread(1)[-1].text
        desk.clock.offset += timedelta(hours=2, seconds=30)  # no sweep: the 12:00 still open
        await desk.command("sam", "ticket followup 1 3h")
        assert desk.requester_thread(1)[-1].text == (
            "A change of plan on #1: we need a little longer, so the update we said would come "
            "by today at 12:00 UTC will now come by today at 15:01 UTC. Sorry for the wait.")
