"""Service exceptions: a lead changes one ticket's targets from now, with a reason on
the timeline; the requester hears only of a time that comes sooner."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.domain.promises import PromiseKind
from tests.flows.story import FlowDesk

PRINTER = "The printer on floor 2 is jammed"


async def test_an_exception_that_tightens_brings_the_requesters_time_forward(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", PRINTER)  # P3: first reply within 8h, Tuesday 10:00
        (before,) = await desk.open_promises(1)
        mark = len(desk.adapter.sent)
        await desk.command("lee", "ticket exception 1 first=1h the CEO is waiting on it")
        (after,) = await desk.open_promises(1)
        assert after.kind is PromiseKind.FIRST_RESPONSE
        assert after.due_at == datetime(2030, 6, 3, 11, 0, tzinfo=timezone.utc) < before.due_at
        assert desk.requester_said(mark) == [
            "Good news on #1: we can get back to you sooner than we said, by today at 11:00 UTC."]
        assert desk.private_to("lee")[-1].text.startswith(
            "Done: #1's targets are now first reply within 1 business hour")
        assert "Ann has been told the sooner time." in desk.private_to("lee")[-1].text
        timeline = await desk.timeline(1)
        (granted,) = [e for e in timeline if e.kind == "exception"]
        assert granted.body == "the CEO is waiting on it" and granted.author_id is not None
        # The ticket keeps its own targets: a claim now starts updates on them.
        await desk.command("boss", "helpdesk sla P3 first=8h")
        assert (await desk.ticket(1)).sla_exception == {"first_response": 3600.0}


async def test_an_exception_that_loosens_never_moves_a_time_the_requester_holds(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", PRINTER)
        await desk.command("sam", "ticket claim 1")
        held = {p.kind: p.due_at for p in await desk.open_promises(1)}
        mark = len(desk.adapter.sent)
        await desk.command("lee", "ticket exception 1 update=16h resolve=10d waiting on the vendor")
        after = {p.kind: p.due_at for p in await desk.open_promises(1)}
        assert after[PromiseKind.STATUS_UPDATE] == held[PromiseKind.STATUS_UPDATE]
        assert after[PromiseKind.RESOLUTION] > held[PromiseKind.RESOLUTION]  # the desk's own
        assert desk.requester_said(mark) == []  # nothing they hold moved
        assert desk.private_to("lee")[-1].text.endswith("so they weren't told anything.")
        # The next update after this one comes on the looser cadence.
        await desk.command("sam", "ticket reply 1 Still with the vendor")
        (update,) = [p for p in await desk.open_promises(1)
                     if p.kind is PromiseKind.STATUS_UPDATE]
        assert update.due_at == datetime(2030, 6, 5, 10, 0, tzinfo=timezone.utc)


async def test_only_leads_grant_exceptions_and_bad_ones_change_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", PRINTER)
        await desk.command("sam", "ticket exception 1 first=1h please")
        assert "granting service exceptions" in desk.last().text
        await desk.command("lee", "ticket exception 1 first=1h")
        assert desk.last().text.startswith("I need the reason too, after the targets")
        await desk.command("lee", "ticket exception 1 because it is urgent")
        assert desk.last().text.startswith("I need at least one of first=")
        await desk.command("lee", "ticket exception 1 first=1h first=2h twice")
        assert desk.last().text.startswith("first= came twice")
        await desk.command("lee", "ticket exception 1 update=20h resolve=10h too slow")
        assert desk.last().text.startswith("The update interval")
        await desk.command("lee", "ticket exception 1 first=soon now")
        assert "I couldn't read “soon” as a duration" in desk.last().text
        assert (await desk.ticket(1)).sla_exception is None


async def test_an_exception_reaches_the_sweeper_a_lapse_gives_the_new_cadence(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", PRINTER)
        await desk.command("lee", "ticket exception 1 first=1h update=2h VIP")
        await desk.advance(timedelta(hours=1, minutes=1))  # nobody replied by 11:00
        lapse = [s.text for s in desk.requester_thread(1) if "nobody has yet" in s.text]
        # Two hours (the exception's update cadence) from the lapse, not P3's eight.
        assert lapse and lapse[-1].endswith("by today at 13:01 UTC.")


async def test_exceptions_and_flags_are_in_the_promise_report(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", PRINTER)
        await desk.command("lee", "ticket exception 1 first=1h the CEO is waiting")
        await desk.command("sam", "ticket flag 1 rude on the phone")
        await desk.command("boss", "helpdesk promises")
        report = desk.last().text
        assert "Latest service exceptions: #1 by Lee (“the CEO is waiting”)" in report
        assert "Latest difficult conversations flagged: #1 by Sam (“rude on the phone”)" in report
