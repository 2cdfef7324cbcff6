"""Waiting on the requester stops the desk's clock.

While a ticket waits for the requester's reply the desk owes nothing: its first-response
and resolution targets pause, and resume with the business time they had left when the
requester answers (the update cadence starts afresh from their answer). The only
messages meanwhile are the nudge and the close. Waiting on a third party is different:
the desk still owes the requester updates, and says so.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.domain.promises import UPDATE_KINDS, PromiseKind, PromiseStatus
from tests.flows.story import MONDAY, FlowDesk, live, requester_heard

UTC = timezone.utc


async def _waiting(desk: FlowDesk, *, claim: bool = True) -> None:
    """Ann's P2 ticket #1 (resolution target 24 business hours: Thursday 10:00), put on
    hold for her at Monday 11:00."""
    await desk.staffed(leads=("lee",))
    await desk.dm("ann", "Outlook won't sync")
    await desk.command("sam", "ticket priority 1 P2")
    if claim:
        await desk.command("sam", "ticket claim 1")
    await desk.advance(timedelta(hours=1))
    await desk.command("sam", "ticket wait 1 requester Which version of Outlook is it?")


async def test_while_waiting_on_the_requester_only_the_nudge_and_the_close_are_said(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _waiting(desk)
        mark = len(desk.adapter.sent)
        heard = await live(desk, MONDAY + timedelta(days=7, hours=2), timedelta(hours=1))
        to_ann = requester_heard(heard)
        assert len(to_ann) == 2, to_ann
        assert to_ann[0].startswith("Just checking in on #1")
        assert to_ann[1].startswith("We've closed #1 since we haven't heard back")
        # Nobody on the staff was reminded, warned or escalated to either.
        assert [s.text for s in desk.since(mark) if s.message.audience == "person"] == []


async def test_the_targets_resume_with_the_business_time_they_had_left(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _waiting(desk)
        [resolution] = [p for p in await desk.promises(1) if p.kind is PromiseKind.RESOLUTION]
        assert resolution.status is PromiseStatus.PAUSED
        # Ann answers on Tuesday at 11:00: eight business hours later.
        await desk.advance(timedelta(days=1))
        await desk.requester_says("ann", 1, "Outlook 2021")
        [resolution] = [p for p in await desk.open_promises(1)
                        if p.kind is PromiseKind.RESOLUTION]
        # 23 business hours were left at Monday 11:00; from Tuesday 11:00 that is Friday
        # 10:00 (6 + 8 + 8 hours, then one more on Friday morning).
        assert resolution.due_at == datetime(2030, 6, 7, 10, 0, tzinfo=UTC)
        assert resolution.status is PromiseStatus.PENDING


async def test_an_unclaimed_ticket_waiting_on_its_requester_owes_no_first_response(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _waiting(desk, claim=False)
        mark = len(desk.adapter.sent)
        heard = await live(desk, MONDAY + timedelta(days=2), timedelta(hours=1))
        to_ann = requester_heard(heard)
        assert [t for t in to_ann if not t.startswith("Just checking in")] == [], to_ann
        assert [s.text for s in desk.since(mark) if s.message.audience == "agents"
                and not s.message.title] == []


async def test_waiting_on_a_third_party_still_owes_the_requester_updates(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Outlook won't sync")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket wait 1 third-party Microsoft support")
        mark = len(desk.adapter.sent)
        await live(desk, MONDAY + timedelta(days=1, minutes=1), timedelta(hours=1))
        told = desk.requester_said(mark)
        assert told == [
            "A quick update on #1: we're still waiting to hear back from the third party. "
            "The next update will be by tomorrow at 10:00 UTC."]


async def test_an_unowned_tickets_requester_answering_a_wait_gets_one_cadence_not_two(
        sqlite_url):
    # The wait paused the first response; the answer resumes it. No second update
    # cadence starts beside it, so nothing is apologised for twice at one moment.
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        await desk.command("sam", "ticket wait 1 requester Which VPN client do you use?")
        await desk.requester_says("ann", 1, "The built-in one")
        kinds = sorted(p.kind.value for p in await desk.open_promises(1)
                       if p.kind.value in ("first_response", "status_update", "follow_up"))
        assert kinds == ["first_response"], kinds
        heard = await live(desk, desk.clock.now() + timedelta(days=2))
        told = [(when, s.text) for when, s in heard if s.message.audience == "requester"]
        assert told, "the first response lapsed and was covered"
        moments = [when for when, _ in told]
        assert len(moments) == len(set(moments)), told  # never two updates at once
        assert not any("The desk" in text for _, text in told), told


async def test_the_requesters_answer_tells_them_when_they_will_hear_next(sqlite_url):
    # Sam had said "by today at 12:00"; the wait set that aside. When Ann answers, the
    # clock starts again and she is told the time it now runs to, in the same answer,
    # so no stated time passes unmentioned.
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed()
        await desk.command("sam", "ticket followup 1 2h")
        await desk.command("sam", "ticket wait 1 requester Which VPN client is it?")
        await desk.advance(timedelta(hours=1, minutes=50))
        await desk.requester_says("ann", 1, "The built-in one")
        [update] = [p for p in await desk.open_promises(1) if p.kind in UPDATE_KINDS]
        told = desk.requester_thread(1)[-1].text
        assert told == ("Thanks! Sam has your reply and is back on #1. You'll hear from us by "
                        "tomorrow at 11:50 UTC.")
        assert update.due_at == datetime(2030, 6, 4, 11, 50, tzinfo=UTC)


async def test_an_unowned_tickets_answer_tells_the_requester_when_too(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        await desk.command("sam", "ticket wait 1 requester Which VPN client do you use?")
        await desk.advance(timedelta(hours=1))
        await desk.requester_says("ann", 1, "The built-in one")
        [first] = [p for p in await desk.open_promises(1) if p.kind in UPDATE_KINDS]
        assert desk.requester_thread(1)[-1].text == (
            "Thanks! We have your reply, and #1 is back in the queue for the next free agent. "
            "You'll hear from us by tomorrow at 11:00 UTC.")
        assert first.due_at == datetime(2030, 6, 4, 11, 0, tzinfo=UTC)


async def test_a_follow_up_given_while_waiting_ends_the_wait_and_is_never_apologised_for_unowed(
        sqlite_url):
    # Found by a fresh-clone review: a follow-up promised during a wait on the requester
    # lapsed and apologised twice and escalated, while the desk also nudged "we're
    # waiting for your reply". Promising a time means the desk has the ball again.
    async with FlowDesk(sqlite_url) as desk:
        await _waiting(desk)
        await desk.command("sam", "ticket followup 1 1h")
        assert (await desk.ticket(1)).status.value == "in_progress"
        kinds = {p.kind for p in await desk.open_promises(1)}
        assert PromiseKind.AWAITING_REQUESTER not in kinds and PromiseKind.FOLLOW_UP in kinds
        assert "the reminder to them is withdrawn" in desk.private_to("sam")[-1].text
        heard = await live(desk, MONDAY + timedelta(days=3), timedelta(minutes=30))
        to_ann = requester_heard(heard)
        assert not any("waiting for your reply" in text for text in to_ann), to_ann
