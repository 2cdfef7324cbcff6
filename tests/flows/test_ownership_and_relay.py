"""Ownership and the two threads of a ticket.

Claiming or assigning makes one agent the owner, and the requester is told by name who
has their request, always in the same thread. The requester's thread and the card's
thread in the triage channel are relayed both ways; ``note:`` under the card stays
internal; an agent writing straight into the requester's thread is the reply, and
keeps the first-response promise.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.promises import PromiseKind, PromiseStatus
from bot.domain.tickets import TicketStatus
from tests.flows.story import MONDAY, FlowDesk, live


async def test_claiming_tells_the_requester_by_name_who_has_their_request(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        await desk.command("sam", "ticket claim 1")
        told = desk.requester_thread(1)[-1]
        assert told.text == ("Good news: Sam from the IT desk is now looking after #1. They'll "
                             "update you by tomorrow at 10:00 UTC, or sooner if there's news.")
        [to_sam] = desk.private_to("sam")
        assert to_sam.text == ("You now own #1 (“Printer jammed”, from Ann). The next update is "
                               "due by tomorrow at 10:00 UTC.")
        first = next(p for p in await desk.promises(1) if p.kind is PromiseKind.FIRST_RESPONSE)
        assert first.status is PromiseStatus.KEPT
        ticket = await desk.ticket(1)
        assert ticket.status is TicketStatus.IN_PROGRESS and ticket.first_response_at is not None
        await desk.command("sam", "ticket claim 1")
        assert desk.last().text == "You already own #1."


async def test_assigning_tells_the_requester_and_the_new_owner(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(agents=("sam", "kim"))
        await desk.dm("ann", "Printer jammed")
        await desk.command("sam", "ticket assign 1 <@kim|Kim>")
        assert desk.requester_thread(1)[-1].text == (
            "Kim from the IT desk is now looking after #1. They'll update you by tomorrow at "
            "10:00 UTC.")
        assert desk.private_to("sam")[-1].text == "Kim now owns #1."
        assert [s.text for s in desk.private_to("kim")] == [
            ("Sam has given you #1 (“Printer jammed”, from Ann). The next update is due by "
             "tomorrow at 10:00 UTC.")]
        # Sam takes it back: the requester hears it in the very same thread.
        await desk.command("sam", "ticket claim 1")
        channel, thread = desk.thread_of(1)
        last = desk.requester_thread(1)[-1]
        assert "Sam from the IT desk is now looking after #1" in last.text
        assert (last.message.channel_id, last.message.thread_id) == (channel, thread)
        async with desk.db.unit_of_work() as uow:
            owner = await uow.people.get((await desk.ticket(1)).owner_id)
        assert owner.external_id == "sam"


async def test_assigning_a_ticket_to_its_owner_again_changes_and_says_nothing_new(sqlite_url):
    # Found by a fresh-clone review: the requester heard "Good news: Kim ... is now
    # looking after #1" a second time, and Kim "You now own #1" again.
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(agents=("sam", "kim"))
        await desk.dm("ann", "Printer jammed")
        await desk.command("sam", "ticket assign 1 <@kim|Kim>")
        told_ann, told_kim = len(desk.requester_thread(1)), len(desk.private_to("kim"))
        await desk.command("sam", "ticket assign 1 <@kim|Kim>")
        assert desk.private_to("sam")[-1].text == "Kim already owns #1, so nothing changed."
        await desk.command("kim", "ticket assign 1 <@kim|Kim>")
        assert desk.private_to("kim")[-1].text == "You already own #1."
        assert len(desk.requester_thread(1)) == told_ann
        assert len(desk.private_to("kim")) == told_kim + 1  # only the answer to Kim's own


async def test_the_requesters_words_reach_the_triage_thread(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        await desk.requester_says("ann", 1, "It shows error E4")
        assert [s.text for s in desk.triage_thread(1)] == ["Ann replied on #1: It shows error E4"]
        assert desk.cards(1)[-1].message.edit_of == desk.card_thread_id(1)


async def test_without_a_triage_channel_the_owner_gets_the_requesters_words(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(triage=None)
        await desk.dm("ann", "Printer jammed")
        await desk.command("sam", "ticket claim 1")
        await desk.requester_says("ann", 1, "It shows error E4")
        assert desk.last().message.direct_to == "sam"
        assert desk.last().text == "Ann replied on #1: It shows error E4"


async def test_an_agents_words_under_the_card_reach_the_requester(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        await desk.in_triage_thread("sam", 1, "Could you open the front panel and check?")
        assert desk.requester_thread(1)[-1].text == (
            "Sam: Could you open the front panel and check?")
        ticket = await desk.ticket(1)
        assert ticket.status is TicketStatus.IN_PROGRESS  # replying took ownership
        assert [e.kind for e in await desk.timeline(1)][-1] == "reply"


async def test_note_under_the_card_stays_with_the_agents(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        before = len(desk.requester_thread(1))
        await desk.in_triage_thread("sam", 1, "note: toner supplier is Acme, PO 4471")
        await desk.in_triage_thread("sam", 1, "NOTE: second thought, check the fuser")
        assert len(desk.requester_thread(1)) == before
        answers = [s for s in desk.private_to("sam")]
        assert [a.text for a in answers] == ["Note added to #1. Only agents can see it."] * 2
        assert all(a.message.channel_id == "C-triage" for a in answers)
        notes = [e.body for e in await desk.timeline(1) if e.kind == "note"]
        assert notes == ["toner supplier is Acme, PO 4471", "second thought, check the fuser"]
        assert (await desk.ticket(1)).status is TicketStatus.OPEN  # a note is not a reply


async def test_only_agents_may_write_under_a_card(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        before = len(desk.requester_thread(1))
        await desk.in_triage_thread("bob", 1, "I have this problem too!")
        [answer] = desk.private_to("bob")
        assert answer.text.startswith("Only agents can reply on tickets here.")
        assert len(desk.requester_thread(1)) == before
        assert "I have this problem too!" not in [e.body for e in await desk.timeline(1)]


async def test_an_agent_answering_in_the_requesters_thread_keeps_the_first_promise(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        mark = len(desk.adapter.sent)
        await desk.requester_says("sam", 1, "On my way with a new drum unit")
        # The requester already read it where Sam wrote it: the desk does not repeat it.
        assert not any("On my way" in s.text for s in desk.since(mark)
                       if s.message.audience == "requester")
        assert [s.text for s in desk.triage_thread(1)] == [
            "Sam replied in Ann's thread on #1: On my way with a new drum unit"]
        first = next(p for p in await desk.promises(1) if p.kind is PromiseKind.FIRST_RESPONSE)
        assert first.status is PromiseStatus.KEPT
        ticket = await desk.ticket(1)
        assert ticket.first_response_at == desk.clock.now()
        assert ticket.status is TicketStatus.IN_PROGRESS
        # When the first-response time comes, nobody apologises for a reply that was made.
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(days=1))
        assert not any("we said someone would reply by" in s.text
                       for s in desk.since(mark))


async def test_a_follow_up_changes_hands_with_the_ticket(sqlite_url):
    # Sam promised Ann an update by 10:15; Kim takes the ticket. The requester hears
    # the time she was already given (not a second, later one), and the heads-up and
    # the reminder go to Kim, who owns the ticket and so the promise, never to Sam.
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(agents=("sam", "kim"))
        await desk.command("sam", "ticket followup 1 15m")
        assert "by today at 10:15 UTC" in desk.requester_thread(1)[-1].text
        await desk.command("kim", "ticket claim 1")
        assert desk.requester_thread(1)[-1].text == (
            "Good news: Kim from the IT desk is now looking after #1. They'll update you by "
            "today at 10:15 UTC, or sooner if there's news.")
        assert "The next update is due by today at 10:15 UTC." in desk.private_to("kim")[-1].text
        mark = len(desk.adapter.sent)
        heard = await live(desk, MONDAY + timedelta(minutes=20), step=timedelta(minutes=1))
        to_owners = [s.message.direct_to for _, s in heard if s.message.direct_to]
        assert "sam" not in to_owners, desk.adapter.transcript()
        assert "kim" in to_owners
        # One time told to the requester, and it is the one the lapse apologises for.
        said = desk.requester_said(mark)
        assert said and "we said we'd update you by today at 10:15 UTC" in said[0]
        owned = {p.owner_id for p in await desk.open_promises(1)}
        async with desk.db.unit_of_work() as uow:
            kim = await uow.people.get((await desk.ticket(1)).owner_id)
        assert owned == {kim.id}


async def test_assigning_hands_the_resolution_target_over_too(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(agents=("sam", "kim"))
        await desk.command("sam", "ticket assign 1 <@kim|Kim>")
        owners = {p.kind: p.owner_id for p in await desk.open_promises(1)}
        async with desk.db.unit_of_work() as uow:
            kim = await uow.people.get((await desk.ticket(1)).owner_id)
        assert owners[PromiseKind.RESOLUTION] == kim.id
        assert owners[PromiseKind.STATUS_UPDATE] == kim.id
