"""Keeping the requester in the loop: waits, priority and escalation in plain words.

Waiting on the requester or on a third party is posted in the requester's thread with
the next time; a reply from the requester puts the ticket back to work; a requester
who never answers gets one nudge and then a close, both announced. Priority is set by
P-level or by impact x urgency and moves the targets; bad input is refused politely.
Escalation reaches every lead, and the owner stays the requester's contact.
"""

from __future__ import annotations

from datetime import timedelta

from bot.domain.priority import Priority
from bot.domain.promises import PromiseKind
from bot.domain.tickets import TicketStatus
from tests.flows.story import MONDAY, FlowDesk


PRINTER = "The printer is jammed"  # what Ann opens ticket #1 with in these stories


async def test_waiting_on_the_requester_is_said_plainly_and_their_reply_resumes_work(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket wait 1 requester Which floor is the printer on?")
        assert desk.requester_thread(1)[-1].text == (
            "Sam needs a little more from you to carry on with #1: “Which floor is the printer "
            "on?”. Just reply here; we'll check back Wednesday at 10:00 UTC if we haven't heard "
            "from you.")
        assert (await desk.ticket(1)).status is TicketStatus.WAITING_REQUESTER
        assert dict(desk.cards(1)[-1].message.fields)["Status"] == "waiting on the requester"
        await desk.requester_says("ann", 1, "Floor 2, by the kitchen")
        assert desk.requester_thread(1)[-1].text == (
            "Thanks! Sam has your reply and is back on #1. You'll hear from us by tomorrow at "
            "10:00 UTC.")
        assert desk.triage_thread(1)[-1].text == "Ann replied on #1: Floor 2, by the kitchen"
        assert (await desk.ticket(1)).status is TicketStatus.IN_PROGRESS
        kinds = {p.kind for p in await desk.open_promises(1)}
        assert PromiseKind.AWAITING_REQUESTER not in kinds and PromiseKind.STATUS_UPDATE in kinds


async def test_the_agent_is_not_told_the_ticket_waits_for_their_own_reply(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket wait 1 requester Which floor?")
        assert "your reply" not in desk.private_to("sam")[-1].text


async def test_a_requester_who_never_answers_gets_one_nudge_then_a_close(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket wait 1 requester Which floor?")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(days=2))  # Wednesday 10:00: 16 business hours later
        [nudge] = [s for s in desk.since(mark) if s.message.audience == "requester"]
        assert nudge.text == ("Just checking in on #1: we're waiting for your reply to carry on. "
                              "If we don't hear back, we'll close it Monday at 10:00 UTC — you "
                              "can reopen it any time by replying here.")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(days=4))  # Sunday: still open, as announced
        assert (await desk.ticket(1)).status is TicketStatus.WAITING_REQUESTER
        assert desk.requester_said(mark) == []
        await desk.advance(timedelta(days=1))  # Monday 10:00, the announced time
        assert desk.requester_thread(1)[-1].text == (
            "We've closed #1 since we haven't heard back. If it still needs attention, just "
            "reply here and we'll pick it up again.")
        ticket = await desk.ticket(1)
        assert ticket.status is TicketStatus.CLOSED
        assert ticket.closed_at == MONDAY + timedelta(days=7)


async def test_waiting_on_a_third_party_keeps_the_requester_posted(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket wait 1 third-party Canon's engineer")
        assert desk.requester_thread(1)[-1].text == (
            "A quick update on #1: we're waiting on Canon's engineer before we can carry on. "
            "Sam will keep you posted, next by tomorrow at 10:00 UTC.")
        assert desk.private_to("sam")[-1].text == "#1 is now waiting on a third party."
        # Already waiting: asking again is refused plainly, and the requester hears nothing.
        before = len(desk.requester_thread(1))
        await desk.command("sam", "ticket wait 1 vendor")
        assert desk.last().text == ("#1 is waiting on a third party, so it can't be put on hold "
                                    "for a third party right now.")
        assert len(desk.requester_thread(1)) == before


async def test_a_third_party_with_no_name_is_a_third_party(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER)
        await desk.command("sam", "ticket wait 1 vendor")
        assert "we're waiting on a third party before we can carry on" in \
            desk.requester_thread(1)[-1].text


async def test_every_status_change_is_in_the_requesters_thread(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER, leads=("lee",))
        await desk.command("sam", "ticket wait 1 third-party Canon")
        await desk.command("sam", "ticket escalate 1")
        await desk.command("sam", "ticket resolve 1 New drum unit")
        said = [s.text for s in desk.requester_thread(1)]
        for phrase in ("I've opened ticket #1", "Sam from the IT desk is now looking after #1",
                       "we're waiting on Canon", "I've asked a lead to look at #1 too",
                       "Sam has marked #1 as resolved"):
            assert sum(phrase in text for text in said) == 1, phrase


async def test_escalation_reaches_every_lead_and_the_owner_stays_the_contact(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER, leads=("lee", "liz"))
        await desk.command("sam", "ticket escalate 1 The CEO's printer")
        expected = ("Sam escalated #1 from Ann: “The CEO's printer”. Priority P3, owner Sam.")
        assert [s.text for s in desk.private_to("lee")] == [expected]
        assert [s.text for s in desk.private_to("liz")] == [expected]
        assert desk.triage_thread(1)[-1].text == expected + " I've asked Lee and Liz."
        assert desk.requester_thread(1)[-1].text == (
            "I've asked a lead to look at #1 too, so it gets the attention it needs. Sam stays "
            "your contact.")
        assert desk.private_to("sam")[-1].text == "Escalated #1 to Lee and Liz."
        assert (await desk.ticket(1)).status is TicketStatus.IN_PROGRESS


async def test_escalating_with_no_leads_says_how_to_add_them(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer is jammed")
        await desk.command("sam", "ticket escalate 1")
        assert desk.private_to("sam")[-1].text == (
            "The desk has no leads yet, so nobody was asked to look at #1. I've told the "
            "admins, who can add one with `/helpdesk leads add`.")
        assert "lead" not in desk.requester_thread(1)[-1].text


async def test_a_workspace_admin_hears_of_an_escalation_with_no_leads(sqlite_url):
    # Issue 14: "the admins hear" reached only HELPDESK_ADMINS and stored admins, never
    # a Slack workspace admin, a Discord guild manager or the console's Morgan.
    async with FlowDesk(sqlite_url, admins=()) as desk:
        await desk.command("owner", "helpdesk agents add <@sam|Sam>", is_platform_admin=True)
        await desk.dm("ann", "The printer is jammed")
        await desk.command("sam", "ticket escalate 1 the CEO is waiting")
        assert desk.private_to("owner")[-1].text == (
            "Sam asked for a lead on #1 from Ann (“the CEO is waiting”), but the desk has no "
            "leads yet, so nobody was asked. Add one with `/helpdesk leads add <person>`.")
        assert "I've told the admins" in desk.private_to("sam")[-1].text
        # No longer a workspace admin: no longer told, and no longer an admin of the desk.
        await desk.command("owner", "ticket mine")
        await desk.command("sam", "ticket escalate 1 still waiting")
        assert "still waiting" not in " ".join(s.text for s in desk.private_to("owner"))
        assert desk.private_to("sam")[-1].text == (
            "The desk has no leads yet, so nobody was asked to look at #1. An admin can add "
            "one with `/helpdesk leads add <person>`.")


PRIORITY_WORDS = [
    ("P1", Priority.P1), ("p2", Priority.P2), ("4", Priority.P4),
    ("high high", Priority.P1), ("high medium", Priority.P2), ("low high", Priority.P3),
    ("impact=low urgency=low", Priority.P4), ("urgency=high impact=medium", Priority.P2),
]


LABELS = {Priority.P1: "P1 (critical)", Priority.P2: "P2 (high)", Priority.P3: "P3 (normal)",
          Priority.P4: "P4 (low)"}


async def test_priority_by_p_level_or_impact_and_urgency(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer is jammed")
        for words, priority in PRIORITY_WORDS:
            await desk.command("sam", f"ticket priority 1 {words}")
            assert desk.private_to("sam")[-1].text == f"#1 is now {LABELS[priority]}.", words
            assert (await desk.ticket(1)).priority is priority
            assert dict(desk.cards(1)[-1].message.fields)["Priority"] == LABELS[priority]


async def test_a_priority_it_already_has_changes_nothing_and_says_so(sqlite_url):
    # Issue 14: "high low" on a P3 logged "Sam set the priority to P3".
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer is jammed")
        before = (await desk.ticket(1), await desk.timeline(1))
        await desk.command("sam", "ticket priority 1 high low")
        assert desk.private_to("sam")[-1].text == (
            "#1 is already P3 (normal), so nothing changed.")
        assert (await desk.ticket(1), await desk.timeline(1)) == before


async def test_raising_the_priority_brings_the_promised_first_response_forward(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The whole floor is offline")
        await desk.command("sam", "ticket priority 1 P1")
        [first] = [p for p in await desk.open_promises(1)
                   if p.kind is PromiseKind.FIRST_RESPONSE]
        assert first.due_at == MONDAY + timedelta(hours=1)
        assert dict(desk.cards(1)[-1].message.fields)["Next promise"] == \
            "first response due today at 11:00 UTC"


BAD_PRIORITIES = [
    ("", "I need a priority."),
    ("urgent", "“urgent” isn't a priority I know: use P1, P2, P3 or P4 (P1 is the most urgent)."),
    ("huge tiny", "“huge” isn't an impact I know: use high, medium or low."),
    ("high tiny", "“tiny” isn't an urgency I know: use high, medium or low."),
    ("high medium low", "“low” is more than I need: write an impact and an urgency, like "
     "high medium."),
]


async def test_bad_priorities_are_refused_politely_and_change_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer is jammed")
        before = (await desk.ticket(1), await desk.promises(1), len(desk.cards(1)))
        for words, problem in BAD_PRIORITIES:
            mark = len(desk.adapter.sent)
            await desk.command("sam", f"ticket priority 1 {words}")
            [answer] = desk.since(mark)
            assert answer.message.ephemeral_to == "sam"
            assert answer.text.startswith(problem), words
            assert answer.text.endswith("Usage: `/ticket priority <n> <P1-P4>` or `/ticket "
                                        "priority <n> <impact> <urgency>` (high, medium or low).")
        assert (await desk.ticket(1), await desk.promises(1), len(desk.cards(1))) == before


async def test_a_bad_priority_is_echoed_as_it_was_typed(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The printer is jammed")
        await desk.command("sam", "ticket priority 1 P9")
        assert "“P9”" in desk.last().text and "P1, P2, P3 or P4" in desk.last().text
