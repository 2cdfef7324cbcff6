"""Looking at tickets: ``/ticket show``, ``mine``, ``queue``, ``help`` and the home view.

Requesters see only their own tickets and never internal notes; agents see everything,
notes included. Every answer is private to the person who asked.
"""

from __future__ import annotations

from datetime import timedelta

from tests.flows.story import MONDAY, FlowDesk


async def _worked(desk: FlowDesk) -> None:
    """Ann's #1 with a claim, a note, a reply and a requester message; Bob's #2 unclaimed."""
    await desk.staffed()
    await desk.dm("ann", "The VPN drops every few minutes")
    await desk.command("sam", "ticket claim 1")
    await desk.command("sam", "ticket note 1 Her laptop is on the old client")
    await desk.command("sam", "ticket reply 1 Could you tell me your laptop's name?")
    await desk.requester_says("ann", 1, "It's LT-0423")
    await desk.dm("bob", "Teams has no sound")


async def test_a_requester_sees_their_own_ticket_without_notes(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("ann", "ticket show 1")
        answer = desk.last()
        assert answer.message.ephemeral_to == "ann"
        assert answer.text.splitlines()[:4] == [
            "#1 · The VPN drops every few minutes",
            "Status: in progress · Owner: Sam · Priority: P3 (normal) · Opened today at 10:00 UTC",
            "First message:",
            "The VPN drops every few minutes",
        ]
        assert "• today at 10:00 UTC: Sam replied: “Could you tell me your laptop's name?”" \
            in answer.text
        assert "• today at 10:00 UTC: Ann wrote: “It's LT-0423”" in answer.text
        assert "old client" not in answer.text and "noted" not in answer.text


async def test_a_requester_cannot_see_someone_elses_ticket(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("bob", "ticket show 1")
        assert desk.last().text == "I can't find ticket #1. `/ticket mine` lists your tickets."
        assert "VPN" not in desk.last().text


async def test_someone_elses_ticket_reads_exactly_as_one_that_does_not_exist(sqlite_url):
    """Asking cannot count the desk's tickets: #1 (Ann's) and #99 (nobody's) get the
    same answer, in every command a requester may run with a number."""
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("sam", "ticket resolve 1 Fixed")
        for word in ("show", "reopen"):
            answers = []
            for number in (1, 99):
                mark = len(desk.adapter.sent)
                await desk.command("bob", f"ticket {word} {number}")
                [answer] = desk.since(mark)
                assert answer.message.ephemeral_to == "bob"
                answers.append(answer.text.replace(f"#{number}", "#N"))
            assert answers[0] == answers[1] == (
                "I can't find ticket #N. `/ticket mine` lists your tickets."), word
        assert (await desk.ticket(1)).status.value == "resolved"  # Bob reopened nothing
        # Agents still see and reopen every ticket.
        await desk.command("sam", "ticket show 1")
        assert desk.last().text.startswith("#1 · The VPN drops")


async def test_an_agent_sees_everything_notes_included(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.command("sam", "ticket show 1")
        answer = desk.last()
        assert answer.message.ephemeral_to == "sam"
        assert "• today at 10:00 UTC: Sam added an internal note: “Her laptop is on the old client”" \
            in answer.text
        await desk.command("sam", "ticket show 2")
        assert desk.last().text.startswith("#2 · Teams has no sound")


async def test_mine_lists_what_you_asked_for_and_for_agents_what_you_own(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("ann", "ticket mine")
        assert desk.last().text == ("You have no tickets yet. Write to me any time and I'll "
                                    "open one.")
        await _worked(desk)
        await desk.command("ann", "ticket mine")
        assert desk.last().text == ("Your tickets:\n"
                                    "• #1 The VPN drops every few minutes — in progress")
        await desk.command("sam", "ticket mine")
        assert desk.last().text == ("Tickets you own:\n• #1 The VPN drops every few minutes — "
                                    "in progress")


async def test_the_queue_shows_unclaimed_tickets_and_yours(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("sam", "ticket queue")
        assert desk.last().text == "The queue is empty. Nice work!"
        await _worked(desk)
        await desk.command("sam", "ticket queue")
        assert desk.last().text == (
            "The queue:\n"
            "Waiting for someone to claim them:\n"
            "• #2 P3 Teams has no sound — Bob, next: tomorrow at 10:00 UTC\n"
            "Yours:\n"
            "• #1 P3 The VPN drops every few minutes — Ann, next: tomorrow at 10:00 UTC")


async def test_help_shows_each_person_what_they_can_do(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("ann", "ticket help")
        requester_help = desk.last().text
        assert requester_help.startswith("Here's what I can do:")
        assert "`/ticket new <text>` opens a ticket." in requester_help
        assert "/ticket claim" not in requester_help and "/helpdesk" not in requester_help
        await desk.command("sam", "ticket help")
        assert "`/ticket queue`, `/ticket claim <n>`" in desk.last().text
        assert "/helpdesk hours" not in desk.last().text
        await desk.command("boss", "helpdesk help")
        assert "`/helpdesk hours <days> <from>-<to> <time zone>`" in desk.last().text
        await desk.command("ann", "ticket")  # no sub-command is help too
        assert desk.last().text == requester_help


async def test_the_desks_setup_in_one_message(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",), intake="C-help")
        await desk.command("boss", "helpdesk show")
        text = desk.last().text
        assert "• Intake channels: <#C-help>" in text and "• Triage channel: <#C-triage>" in text
        assert "• Agents: Sam" in text and "• Leads: Lee" in text
        assert "• Hours: Mon-Fri 09:00-17:00 (UTC)" in text
        # Business time as people read it: 48 business hours is six working days, not "2 days".
        assert ("P3: first reply within 8 business hours (1 working day of 8 hours), updates "
                "every 8 business hours (1 working day of 8 hours), resolved within 48 business "
                "hours (6 working days of 8 hours)") in text
        assert "P1: first reply within 1 business hour, updates every 1 business hour" in text


async def test_the_home_view_lists_open_tickets_with_the_next_promised_time(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _worked(desk)
        await desk.home("ann")
        await desk.home("sam")
        ann_home, sam_home = (s.message for s in desk.adapter.sent[-2:])
        assert ann_home.direct_to == "ann" and ann_home.audience == "home"
        assert ("#1 The VPN drops every few minutes — in progress, next update by tomorrow at "
                "10:00 UTC") in ann_home.text
        assert ann_home.fields == ()  # no agent sections for a requester
        sections = dict(sam_home.fields)
        assert sections["Yours"] == ("#1 P3 The VPN drops every few minutes — next: tomorrow "
                                     "at 10:00 UTC")
        assert sections["Waiting to be claimed"].startswith("#2 P3 Teams has no sound")


async def test_the_queue_and_the_home_view_cost_the_same_queries_for_any_number_of_tickets(
        sqlite_url):
    from sqlalchemy import event

    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        selects: list[str] = []
        event.listen(desk.db.engine.sync_engine, "before_cursor_execute",
                     lambda conn, cursor, statement, *rest: selects.append(statement)
                     if statement.lstrip().startswith("SELECT") else None)

        async def cost(action) -> int:
            selects.clear()
            await action()
            return len(selects)

        counts = []
        for opened in (2, 8):
            while (await desk.ticket_count()) < opened:
                await desk.dm(f"user{await desk.ticket_count()}", "Something broke")
            counts.append((await cost(lambda: desk.command("sam", "ticket queue")),
                           await cost(lambda: desk.home("sam"))))
        assert counts[0] == counts[1]
        assert "#8" in desk.last().text or any("#8" in f for _, f in desk.last().message.fields)


async def test_show_reads_every_kind_of_timeline_line_for_agents_and_requesters(sqlite_url):
    # Each kind of line the desk writes renders for both readers (a priority change made
    # /ticket show fail with a missing template).
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "The VPN drops")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket priority 1 P2")
        await desk.command("sam", "ticket note 1 checked the logs")
        await desk.command("sam", "ticket reply 1 Can you try again?")
        await desk.command("sam", "ticket followup 1 2h checking")
        await desk.command("sam", "ticket escalate 1 needs a second look")
        await desk.command("sam", "ticket resolve 1 Replaced the cable")
        await desk.command("sam", "ticket show 1")
        shown = desk.private_to("sam")[-1].text
        assert "set the priority to P2" in shown and "Sorry" not in shown, shown
        await desk.command("ann", "ticket show 1")
        shown = desk.adapter.sent[-1].text
        assert "set the priority to P2" in shown and "Sorry" not in shown, shown
        assert "checked the logs" not in shown


async def test_past_moments_show_the_minute_they_happened_in(sqlite_url):
    # Opened at 10:00:20: the ticket's page says 10:00, the minute it opened in, not
    # the 10:01 a promise would round to (that minute had not yet come).
    async with FlowDesk(sqlite_url, start=MONDAY + timedelta(seconds=20)) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops every few minutes")
        await desk.advance(timedelta(seconds=10))
        await desk.command("ann", "ticket show 1")
        text = desk.last().text
        assert "Opened today at 10:00 UTC" in text, text
        assert "• today at 10:00 UTC: Ann opened the ticket" in text
