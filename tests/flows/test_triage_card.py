"""The ticket card agents see in the triage channel.

It appears once an admin has named a triage channel, is posted once and then edited in
place after every change, and shows what an agent needs at a glance: status, owner,
priority, the next promise, the requester's recent tickets and their whole first
message. Its buttons do what the matching commands do, for agents only.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.priority import Priority
from bot.domain.tickets import TicketStatus
from tests.flows.story import TRIAGE, FlowDesk


async def test_no_card_until_a_triage_channel_is_named(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(triage=None)
        await desk.dm("ann", "Printer jammed")
        assert desk.cards(1) == []
        await desk.command("boss", "helpdesk triage <#C-triage|triage>")
        assert desk.last().text == "<#C-triage> is now the desk's triage channel."
        await desk.dm("bob", "Wifi is down")
        [card] = desk.cards(2)
        assert card.message.channel_id == TRIAGE and card.message.edit_of is None
        # The older ticket gets its card with its next change.
        await desk.command("sam", "ticket claim 1")
        [card] = desk.cards(1)
        assert card.message.edit_of is None


async def test_the_card_shows_what_an_agent_needs(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        first_message = "My laptop will not wake from sleep.\n" + "Details: " + "x" * 1900
        await desk.dm("ann", first_message)
        [card] = desk.cards(1)
        m = card.message
        assert m.title == "#1 · My laptop will not wake from sleep. Details:…"  # the subject
        assert m.text == first_message  # the whole first message, not just the subject
        assert dict(m.fields) == {
            "Status": "open, not claimed yet",
            "Owner": "nobody yet",
            "Priority": "P3 (normal)",
            "Requester": "Ann",
            "Next promise": "first response due tomorrow at 10:00 UTC",
            "Their recent tickets": "none before this one",
        }
        assert [b.label for b in m.buttons] == ["Claim", "Reply", "Follow-up", "Priority",
                                                "Escalate", "Resolve"]


async def test_a_very_long_first_message_is_cut_on_the_card_and_says_so(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "word " * 1000)
        [card] = desk.cards(1)
        assert len(card.text) == 2500 and card.text.endswith("…")


async def test_the_card_is_edited_in_place_after_every_change(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket priority 1 P2")
        await desk.command("sam", "ticket resolve 1 Cleared the jam")
        first, *edits = desk.cards(1)
        assert first.message.edit_of is None and len(edits) == 3
        assert all(e.message.edit_of == first.message_id for e in edits)
        assert [dict(e.message.fields)["Status"].partition(",")[0] for e in edits] == [
            "in progress", "in progress", "resolved"]
        claimed, reprioritised, resolved = (dict(e.message.fields) for e in edits)
        assert claimed["Owner"] == "Sam"
        assert claimed["Next promise"] == "status update due tomorrow at 10:00 UTC"
        assert reprioritised["Priority"] == "P2 (high)"
        assert resolved["Next promise"] == \
            "confirmation from the requester due tomorrow at 10:00 UTC"


async def test_the_card_lists_the_requesters_recent_tickets(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "Printer jammed")
        await desk.command("sam", "ticket resolve 1")
        await desk.press("ann", "resolution.yes", str((await desk.ticket(1)).id))
        await desk.dm("ann", "Now the scanner")
        fields = dict(desk.cards(2)[0].message.fields)
        assert fields["Their recent tickets"] == "#1 closed"


async def test_the_cards_buttons_work_for_agents(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "VPN drops")
        card = desk.cards(1)[0]
        await desk.press_button("sam", card, "Claim")
        assert (await desk.ticket(1)).status is TicketStatus.IN_PROGRESS
        await desk.press_button("sam", card, "Reply", form={"text": "Which office are you in?"})
        assert desk.requester_thread(1)[-1].text.startswith("Sam: Which office are you in?")
        await desk.press_button("sam", card, "Follow-up", form={"when": "2h", "text": "logs"})
        assert "Sam will update you on #1 by today at 12:00 UTC.\nSam: logs" in \
            [s.text for s in desk.requester_thread(1)]
        await desk.press_button("sam", card, "Priority", form={"priority": "high medium"})
        assert (await desk.ticket(1)).priority is Priority.P2
        await desk.press_button("sam", card, "Escalate", form={"reason": "VIP"})
        assert any("Sam escalated #1 from Ann: “VIP”" in s.text for s in desk.private_to("lee"))
        await desk.press_button("sam", card, "Resolve", form={"summary": "New VPN profile"})
        assert desk.requester_thread(1)[-1].text == (
            "Sam has marked #1 as resolved: “New VPN profile”. Has this solved your problem?")
        assert (await desk.ticket(1)).status is TicketStatus.RESOLVED


async def test_a_requester_pressing_card_buttons_changes_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "VPN drops")
        card = desk.cards(1)[0]
        before = await desk.ticket(1)
        for label, form in (("Claim", None), ("Reply", {"text": "hi"}),
                            ("Resolve", {"summary": "done"}), ("Priority", {"priority": "P1"})):
            mark = len(desk.adapter.sent)
            await desk.press_button("ann", card, label, form=form)
            [answer] = desk.since(mark)
            assert answer.message.ephemeral_to == "ann"
            assert answer.text.startswith("Sorry, ") and "is for agents of the desk" in answer.text
        assert await desk.ticket(1) == before


async def test_a_missed_first_response_asks_the_agents_under_the_card_to_claim_it(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "VPN drops")
        await desk.advance(timedelta(days=1))  # nobody claimed it in time
        [ask] = desk.triage_thread(1)
        assert ask.text == ("#1 from Ann had no first response by today at 10:00 UTC. I've told "
                            "them they'll hear from us by tomorrow at 10:00 UTC. Could someone "
                            "claim it?")


async def test_the_card_follows_what_the_bot_does_on_its_own(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "VPN drops")
        await desk.command("sam", "ticket followup 1 1h")
        await desk.advance(timedelta(hours=1))  # the bot covers it and promises a new time
        assert dict(desk.cards(1)[-1].message.fields)["Next promise"] == \
            "promised follow-up due tomorrow at 11:00 UTC"
        await desk.command("sam", "ticket resolve 1")
        await desk.advance(timedelta(days=1))  # reminder
        await desk.advance(timedelta(days=2))  # closed as announced
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        assert dict(desk.cards(1)[-1].message.fields)["Status"] == "closed"
