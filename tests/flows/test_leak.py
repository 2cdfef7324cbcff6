"""The LEAK test: an internal note never reaches the requester, whatever happens.

Notes are added through every path there is (``/ticket note`` and ``note:`` under the
card; the card has no note button, so its Reply button is used to show that a public
reply beside them stays public), each carrying a unique marker. Then the ticket lives its
whole life: claim, replies both ways, a follow-up kept and one missed and covered by the
bot, waits, an escalation, resolve, "no", reopen, resolve, the bot's reminder, "yes", a
rating and a comment, ``/ticket show``, ``mine`` and the home view, with the card
updated all along. No message the requester can see, or that is addressed to them, may
contain a marker; the agent's ``/ticket show`` must contain every one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.tickets import TicketStatus
from tests.flows.story import FlowDesk, full_text
from tests.support.recording import Sent

MARKERS = ("LEAK-CMD-5e1c9", "LEAK-TRIAGE-a73f2", "LEAK-LATE-0b8d4", "LEAK-REOPENED-91c6e")


def _reaches(sent: Sent, user: str, thread: tuple[str, str]) -> bool:
    """True when ``user`` can see ``sent``: their audience, their DM channel, their ticket's
    thread, or a message addressed to them alone."""
    m = sent.message
    return (m.audience in ("requester", "home") or m.direct_to == user
            or m.ephemeral_to == user or m.channel_id == f"D-{user}"
            or (m.channel_id, m.thread_id) == thread)


async def _whole_life(desk: FlowDesk) -> None:
    """Ann's printer ticket from first message to rating, with notes all along."""
    await desk.staffed(agents=("sam", "kim"), leads=("lee",))
    await desk.dm("ann", "The printer on floor 2 prints blank pages")
    await desk.command("sam", f"ticket note 1 {MARKERS[0]} supplier contract lapsed")
    await desk.command("sam", "ticket claim 1")
    await desk.in_triage_thread("sam", 1, f"note: {MARKERS[1]} Ann sounded cross on the phone")
    await desk.in_triage_thread("sam", 1, "Could you print a test page and tell me what you see?")
    await desk.requester_says("ann", 1, "The test page is blank too")
    await desk.command("sam", "ticket followup 1 1h checking the toner")
    await desk.advance(timedelta(minutes=30))
    await desk.press_button("sam", desk.cards(1)[0], "Reply",
                            form={"text": "The toner cartridge is empty; a new one is coming"})
    await desk.command("sam", "ticket followup 1 2h")
    await desk.advance(timedelta(hours=2))  # missed: the bot covers it
    await desk.command("sam", f"ticket note 1 {MARKERS[2]} forgot the follow-up, sorry")
    await desk.command("sam", "ticket wait 1 requester Is the printer showing any light?")
    await desk.requester_says("ann", 1, "A steady green light")
    await desk.command("sam", "ticket wait 1 third-party the toner supplier")
    await desk.command("sam", "ticket escalate 1 Supplier is slow again")
    await desk.command("sam", "ticket assign 1 <@kim|Kim>")
    await desk.requester_says("kim", 1, "Hi Ann, Kim here: the new cartridge is in")
    await desk.command("kim", "ticket resolve 1 New toner cartridge fitted")
    await desk.press_button("ann", desk.requester_thread(1)[-1], "No, not yet")
    await desk.command("kim", f"ticket note 1 {MARKERS[3]} reopened, check the drum")
    await desk.in_triage_thread("kim", 1, f"note: {MARKERS[3]} drum ordered")
    await desk.press_button("kim", desk.cards(1)[0], "Resolve",
                            form={"summary": "New drum unit fitted"})
    await desk.advance(timedelta(days=1))  # the bot's reminder to confirm
    question = [s for s in desk.requester_thread(1) if s.message.buttons][-1]
    await desk.press_button("ann", question, "Yes, it's solved")
    rating = [s for s in desk.requester_thread(1) if s.message.buttons][-1]
    await desk.press_button("ann", rating, "5")
    await desk.requester_says("ann", 1, "Kim was great")
    await desk.command("ann", "ticket show 1")
    await desk.command("ann", "ticket mine")
    await desk.home("ann")


async def test_internal_notes_never_reach_the_requester(db_url):
    async with FlowDesk(db_url) as desk:
        await _whole_life(desk)
        assert (await desk.ticket(1)).status is TicketStatus.CLOSED
        thread = desk.thread_of(1)
        seen_by_ann = [s for s in desk.adapter.sent if _reaches(s, "ann", thread)]
        assert len(seen_by_ann) >= 20  # the whole story, not a few lines
        for sent in seen_by_ann:
            for marker in MARKERS:
                assert marker not in full_text(sent), desk.adapter.transcript()
        # The card was updated all along and never carried a note either.
        cards = desk.cards(1)
        assert len(cards) >= 10 and all(c.message.edit_of == cards[0].message_id
                                        for c in cards[1:])
        assert not any(m in full_text(c) for c in cards for m in MARKERS)
        # The agents' view has every note.
        await desk.command("kim", "ticket show 1")
        agent_view = desk.last()
        assert agent_view.message.ephemeral_to == "kim"
        for marker in MARKERS:
            assert marker in agent_view.text


async def test_the_requesters_own_show_lists_the_story_without_notes(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _whole_life(desk)
        [show] = [s for s in desk.private_to("ann") if s.text.startswith("#1 · ")]
        for expected in ("Sam replied: “Could you print a test page",
                         "Ann wrote: “The test page is blank too",
                         "Sam promised an update by", "the desk posted an update",
                         "Kim replied: “Hi Ann, Kim here", "changed the status to closed"):
            assert expected in show.text
        assert "internal note" not in show.text


async def test_an_escalation_reason_stays_with_the_leads(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "The printer prints blank pages")
        await desk.press_button("sam", desk.cards(1)[0], "Escalate",
                                form={"reason": "REASON-4f1 requester was abusive on the phone"})
        assert "REASON-4f1" in desk.private_to("lee")[-1].text
        await desk.command("ann", "ticket show 1")
        thread = desk.thread_of(1)
        for sent in desk.adapter.sent:
            if _reaches(sent, "ann", thread):
                assert "REASON-4f1" not in full_text(sent), sent.text
