"""A new priority never makes the desk state a time it did not give.

Raising a priority brings the times the requester was given sooner, and tells them so;
lowering it never pushes a given time later in silence; a target already passed is
neither quoted back as a promise nor "missed" the moment it is made.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.promises import PromiseKind
from tests.flows.story import MONDAY, FlowDesk


async def _due(desk: FlowDesk, kind: PromiseKind):
    return [p.due_at for p in await desk.open_promises(1) if p.kind is kind]


async def test_raising_the_priority_after_its_target_passed_tells_the_requester_the_new_time(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "VPN down")  # P3: someone will reply by tomorrow at 10:00
        await desk.advance(timedelta(hours=2))
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket priority 1 P1")
        told = desk.requester_said(mark)
        # P1's first reply (counted from the opening) had passed: counted from now.
        [first] = await _due(desk, PromiseKind.FIRST_RESPONSE)
        assert desk.clock.now() < first < MONDAY + timedelta(days=1)
        assert told == [f"We've raised the priority of #1, so you'll hear from us sooner: by "
                        f"today at {first:%H:%M} UTC."]
        # Nothing lapses at once, and no lapse ever quotes a time the desk never gave.
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(minutes=1))
        assert desk.requester_said(mark) == []


async def test_lowering_the_priority_keeps_the_times_given(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "VPN down")
        await desk.command("sam", "ticket priority 1 P1")
        given = await _due(desk, PromiseKind.FIRST_RESPONSE)
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket priority 1 P4")
        assert await _due(desk, PromiseKind.FIRST_RESPONSE) == given
        assert desk.requester_said(mark) == []


async def test_a_resolution_target_already_passed_is_not_missed_the_moment_it_is_made(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "VPN down")
        await desk.command("sam", "ticket claim 1")
        await desk.advance(timedelta(hours=6))
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket priority 1 P1")  # P1 resolves in 4 business hours
        assert await _due(desk, PromiseKind.RESOLUTION) == []
        await desk.advance(timedelta(minutes=1))
        told = desk.requester_said(mark)
        assert not [t for t in told if "longer than we aimed" in t], told


async def test_a_new_target_in_the_same_stated_minute_is_no_news(sqlite_url):
    # Opened at 10:00:20, the P3 first reply is due 10:00:20 tomorrow and was said (and
    # recorded) as 10:01. A P2 with the same 8-hour first reply targets 10:00:20 too:
    # earlier than the recorded minute, but the same minute Ann read, so she is not told
    # "sooner: by tomorrow at 10:01".
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk sla P2 first=8h update=8h resolve=48h")
        await desk.advance(timedelta(seconds=20))
        await desk.dm("ann", "VPN down")
        [given] = await _due(desk, PromiseKind.FIRST_RESPONSE)
        assert given == MONDAY + timedelta(days=1, minutes=1)
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket priority 1 P2")
        assert await _due(desk, PromiseKind.FIRST_RESPONSE) == [given]
        assert desk.requester_said(mark) == []
