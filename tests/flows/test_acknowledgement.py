"""An honest acknowledgement: the number, who it is from, and a time the desk can keep.

The expected time of first response comes from the SLA target in business hours, says
how many requests are ahead, says when the desk opens if it is closed, and uses the
desk's recent median when the desk has been slower than its target. Every stated time
is also a promise row with the same due time.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


from bot.domain.promises import PromiseKind
from bot.desk.words import when
from bot.templates import load_templates
from tests.flows.story import MONDAY, FlowDesk

SATURDAY_NOON = datetime(2030, 6, 8, 12, 0, tzinfo=timezone.utc)
MONDAY_EVENING = MONDAY.replace(hour=18)


async def test_in_hours_the_ack_gives_the_number_and_a_time_that_is_a_promise(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Cannot print to the second floor printer")
        assert desk.ack(1).text == (
            "Thanks, Ann. I've opened ticket #1 for you: “Cannot print to the second floor "
            "printer”. Someone from the IT desk will reply by tomorrow at 10:00 UTC (within "
            "8 business hours). You can add anything else right here in this thread.")
        [promise] = await desk.promises(1)
        # P3's first response is 8 business hours: 7 on Monday, 1 on Tuesday.
        assert promise.kind is PromiseKind.FIRST_RESPONSE
        assert promise.due_at == MONDAY + timedelta(days=1)


async def test_the_queue_ahead_is_mentioned_and_only_unclaimed_tickets_count(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        for who in ("ann", "bob", "cat"):
            await desk.dm(who, f"{who} needs a hand")
        assert "There are 2 requests ahead of yours, so someone from the IT desk will reply by" \
            in desk.ack(3).text
        await desk.command("sam", "ticket claim 1")
        await desk.dm("dan", "dan needs a hand")
        assert "There are 2 requests ahead of yours" in desk.ack(4).text


async def test_one_request_ahead_reads_as_good_english(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "First")
        await desk.dm("bob", "Second")
        assert "one request ahead of yours" in desk.ack(2).text
        assert "1 requests" not in desk.ack(2).text


async def test_at_the_weekend_the_ack_says_when_the_desk_opens(sqlite_url):
    async with FlowDesk(sqlite_url, start=SATURDAY_NOON) as desk:
        await desk.staffed()
        await desk.dm("ann", "Locked out of my account")
        assert ("The desk is closed right now and opens Monday at 09:00 UTC; someone will reply "
                "by Monday at 17:00 UTC.") in desk.ack(1).text


async def test_on_a_weekday_evening_the_desk_opens_tomorrow(sqlite_url):
    async with FlowDesk(sqlite_url, start=MONDAY_EVENING) as desk:
        await desk.staffed()
        await desk.dm("ann", "Locked out of my account")
        assert ("The desk is closed right now and opens tomorrow at 09:00 UTC; someone will "
                "reply by tomorrow at 17:00 UTC.") in desk.ack(1).text


async def test_times_are_written_in_the_requesters_own_time_zone(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Cannot print", tz="America/New_York")
        assert "will reply by tomorrow at 06:00 EDT" in desk.ack(1).text


async def _tickets_answered_after(desk: FlowDesk, wait: timedelta, count: int) -> None:
    """``count`` people each open a ticket now; they are all claimed after ``wait``."""
    for n in range(count):
        await desk.dm(f"user{n}", f"Problem number {n}")
    await desk.advance(wait)
    for n in range(count):
        await desk.command("sam", f"ticket claim {n + 1}")


async def test_when_the_desk_has_been_slow_the_eta_is_the_recent_median(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        # Five tickets answered two business days (16 h) after opening: twice the P3 target.
        await _tickets_answered_after(desk, timedelta(days=2), 5)
        now = desk.clock.now()  # Wednesday 10:00
        await desk.dm("zoe", "My laptop is slow")
        [promise] = await desk.promises(6)
        assert promise.due_at == now + timedelta(days=2)  # Friday 10:00, not Thursday
        assert "will reply by Friday at 10:00 UTC (within 16 business hours)" in desk.ack(6).text


async def test_when_the_desk_is_fast_the_sla_target_stands(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await _tickets_answered_after(desk, timedelta(hours=1), 5)
        await desk.dm("zoe", "My laptop is slow")
        [promise] = await desk.promises(6)
        assert promise.due_at == desk.clock.now() + timedelta(days=1)
        assert "will reply by tomorrow at 11:00 UTC" in desk.ack(6).text


async def test_four_slow_tickets_are_too_few_to_change_the_promise(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await _tickets_answered_after(desk, timedelta(days=2), 4)
        await desk.dm("zoe", "My laptop is slow")
        [promise] = await desk.promises(5)
        assert promise.due_at == desk.clock.now() + timedelta(days=1)
        promised = when(load_templates(), promise.due_at, desk.clock.now(), "UTC")
        assert promised in desk.ack(5).text
