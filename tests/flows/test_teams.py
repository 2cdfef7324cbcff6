"""One front door, several teams: the team words of admin commands, routing by intake
channel, each team's own policy, and transfers between teams that never shorten a
promise the requester holds and keep every time in the new team's hours."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.domain.promises import PromiseKind
from bot.storage.tables import PersonRow, TeamMemberRow, TeamRow
from tests.flows.story import MONDAY, TRIAGE, FlowDesk
from tests.support.console import play

HR_TRIAGE, HR_INTAKE = "C-hr-triage", "C-hr"


async def with_hr(desk: FlowDesk, *, hours: str | None = None, first: str | None = None) -> None:
    """IT staffed as usual (Sam, triage C-triage), and an HR team with Hana, its own
    triage and intake channels, and (optionally) its own hours and P3 first reply."""
    await desk.staffed()
    mark = len(desk.adapter.sent)
    await desk.command("boss", "helpdesk team add hr")
    await desk.command("boss", "helpdesk agents add <@hana|Hana> team hr")
    await desk.command("boss", f"helpdesk triage <#{HR_TRIAGE}|hr-triage> team hr")
    await desk.command("boss", f"helpdesk intake <#{HR_INTAKE}|ask-hr> team hr")
    if hours:
        await desk.command("boss", f"helpdesk hours {hours} team hr")
    if first:
        await desk.command("boss", f"helpdesk sla P3 first={first} team hr")
    answers = [s.text for s in desk.since(mark)]
    assert all(a.startswith("Done") or "is now team hr's" in a for a in answers), answers
    del desk.adapter.sent[mark:]


async def _people(desk: FlowDesk) -> set[str]:
    async with desk.db.unit_of_work() as uow:
        return set((await uow.session.execute(select(PersonRow.external_id))).scalars())


async def test_team_and_its_name_are_never_taken_for_people(sqlite_url):
    """``/helpdesk agents add @hana team hr`` used to make three agents: hana, team, hr."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk team add hr")
        assert desk.last().text.startswith("Done: team hr is set up.")
        await desk.command("boss", "helpdesk agents add <@hana|Hana> team hr")
        assert desk.last().text == "Done: Hana can now work team hr as an agent."
        await desk.command("boss", "helpdesk leads add @lee team hr")
        assert desk.last().text == "Done: lee can now work team hr as a lead."
        people = await _people(desk)
        assert "team" not in people and "hr" not in people and {"hana", "lee"} <= people
        async with desk.db.unit_of_work() as uow:
            rows = (await uow.session.execute(
                select(TeamRow.name, PersonRow.external_id, TeamMemberRow.role)
                .join(TeamRow, TeamRow.id == TeamMemberRow.team_id)
                .join(PersonRow, PersonRow.id == TeamMemberRow.person_id))).all()
        assert sorted(tuple(r) for r in rows) == [("hr", "hana", "agent"), ("hr", "lee", "lead")]


async def test_a_team_the_desk_does_not_have_is_refused_and_changes_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk agents add <@hana|Hana> team payroll")
        assert desk.last().text.startswith("“payroll” isn't one of the desk's teams: they are it.")
        assert "hana" not in await _people(desk)
        await desk.command("boss", "helpdesk team add Facilities!")
        assert "can't be a team's name" in desk.last().text
        await desk.command("boss", "helpdesk team remove it")
        assert desk.last().text.startswith("Team it is the default team")


async def test_show_lists_every_team_with_its_own_channels_people_and_hours(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk, hours="mon-fri 13:00-16:00 UTC")
        await desk.command("boss", "helpdesk show")
        shown = desk.last().text
        it_part, hr_part = shown.split("Team hr")
        assert "Team it, the default team" in it_part and f"<#{TRIAGE}>" in it_part
        assert "Agents: Sam" in it_part and "Hana" not in it_part
        assert "Mon-Fri 09:00-17:00 (UTC)" in it_part
        assert f"<#{HR_TRIAGE}>" in hr_part and f"<#{HR_INTAKE}>" in hr_part
        assert "Agents: Hana" in hr_part and "Mon-Fri 13:00-16:00 (UTC)" in hr_part


async def test_an_hr_question_in_the_hr_intake_channel_reaches_the_hr_triage_card(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.channel_message("ann", HR_INTAKE, "How many vacation days do I have left?")
        await desk.dm("bob", "My laptop will not boot")
        assert [c.message.channel_id for c in desk.cards(1)] == [HR_TRIAGE]
        assert [c.message.channel_id for c in desk.cards(2)] == [TRIAGE]
        hr, it = await desk.ticket(1), await desk.ticket(2)
        assert hr.team_id != it.team_id and (hr.number, it.number) == (1, 2)


@pytest.mark.parametrize("it_first, hr_hours, hr_first, told, due", [
    # HR's plan from now (13:00 + 1h) is later than IT's 12:00: the later time, in HR hours.
    ("2h", "mon-fri 13:00-16:00 UTC", "1h", "today at 14:00",
     datetime(2030, 6, 3, 14, 0, tzinfo=timezone.utc)),
    # HR could answer by 11:30, but the requester holds 16:00: never sooner than that,
    # and HR is closed then, so its next opening.
    ("6h", "mon-fri 09:00-12:00 UTC", "1h", "tomorrow at 09:00",
     datetime(2030, 6, 4, 9, 0, tzinfo=timezone.utc)),
])
async def test_a_transfer_to_a_team_with_other_hours_never_shortens_the_promise(
        sqlite_url, it_first, hr_hours, hr_first, told, due):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk, hours=hr_hours, first=hr_first)
        await desk.command("boss", f"helpdesk sla P3 first={it_first}")
        await desk.dm("ann", "I think my payslip is wrong")
        (before,) = await desk.open_promises(1)
        await desk.advance(MONDAY.replace(minute=30) - desk.clock.now())
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket transfer 1 hr this is about payroll")

        (after,) = await desk.open_promises(1)
        assert after.kind is PromiseKind.FIRST_RESPONSE and after.id == before.id
        assert after.due_at == due and after.due_at >= before.due_at
        # Every time stays in the new team's hours.
        ticket = await desk.ticket(1)
        async with desk.db.unit_of_work() as uow:
            workspace = await uow.workspaces.get(ticket.workspace_id)
        hr = desk.desk.policy(workspace, workspace.team(ticket.team_id))
        assert hr.calendar.is_in_hours(after.due_at)
        assert after.warn_at is None or hr.calendar.is_in_hours(after.warn_at)

        told_requester = desk.requester_said(mark)
        later = (" That's later than the time we gave you before (today at "
                 f"{before.due_at:%H:%M} UTC); sorry for the longer wait."
                 if after.due_at > before.due_at else "")
        assert told_requester == [
            f"#1 is now with our hr team, who will get back to you by {told} UTC.{later}"]
        old = [s.text for s in desk.since(mark)
               if s.message.channel_id == TRIAGE and not s.message.title]
        assert old == ["#1 has moved to team hr (Sam moved it: this is about payroll); "
                       "it's no longer this team's."]
        old_card, moved, new_card = desk.cards(1)
        assert [old_card.message.channel_id, new_card.message.channel_id] == [TRIAGE, HR_TRIAGE]
        assert moved.message.edit_of == old_card.message_id
        # A first card in each channel: never taken by a platform for a retry of the other.
        assert not new_card.message.edit_of
        assert old_card.idempotency_key != new_card.idempotency_key
        assert desk.private_to("sam")[-1].text.startswith("Done: #1 is now with team hr")


async def test_the_old_card_is_edited_in_place_to_say_where_it_went_without_buttons(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.dm("ann", "Question about my parental leave")
        (old_card,) = desk.cards(1)
        assert desk.buttons(old_card)  # claim, reply, ... while it is IT's
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket transfer 1 hr @everyone not ours")
        edits = [s for s in desk.since(mark) if s.message.edit_of == old_card.message_id]
        assert len(edits) == 1, desk.adapter.transcript()
        (moved,) = edits
        assert moved.message.channel_id == TRIAGE and moved.message.buttons == ()
        assert moved.text.startswith("Moved to team hr by Sam: “")
        assert "not ours" in moved.text and "@everyone" not in moved.text
        assert dict(moved.message.fields)["Now with"] == "team hr"
        # The new team's card is a card of its own, with every action.
        new_card = desk.cards(1)[-1]
        assert new_card.message.channel_id == HR_TRIAGE and not new_card.message.edit_of
        assert "Claim" in desk.buttons(new_card)
        # Later changes redraw the new card only: the old one stays as it was left.
        mark = len(desk.adapter.sent)
        await desk.command("hana", "ticket claim 1")
        assert all(c.message.channel_id == HR_TRIAGE for c in desk.cards(1)
                   if c in desk.since(mark))


async def test_after_a_transfer_the_requester_reaches_only_the_new_team(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.dm("ann", "Question about my parental leave")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket transfer 1 hr")
        ticket = await desk.ticket(1)
        assert ticket.owner_id is None  # Sam is not HR's: it waits for someone there
        assert desk.requester_said(0)[-1].startswith("#1 is now with our hr team")
        # L10: both sides hear that Sam is no longer the owner.
        assert desk.requester_said(0)[-1].endswith(" Sam has handed it over to them.")
        assert desk.private_to("sam")[-1].text.endswith(
            "You don't work team hr, so you're no longer #1's owner: it waits for someone "
            "there to claim it.")
        mark = len(desk.adapter.sent)
        await desk.requester_says("ann", 1, "It starts in March")
        relayed = [s for s in desk.since(mark) if s.message.audience == "agents"
                   and not s.message.title]
        assert relayed and {s.message.channel_id for s in relayed} == {HR_TRIAGE}
        # An HR agent who takes it is named to the requester on the next transfer back.
        await desk.command("hana", "ticket claim 1")
        assert "Hana" in desk.requester_said(mark)[-1]


async def test_a_transfer_keeps_an_owner_who_works_the_new_team(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.command("boss", "helpdesk agents add <@sam|Sam> team hr")
        await desk.dm("ann", "Question about my contract")
        await desk.command("sam", "ticket claim 1")
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket transfer 1 hr")
        assert (await desk.ticket(1)).owner_id is not None
        (said,) = desk.requester_said(mark)
        assert said.startswith("#1 is now with our hr team, and Sam is looking after it; "
                               "you'll hear from them by ")


async def test_a_transfer_to_the_same_team_or_of_a_closed_ticket_changes_nothing(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.dm("ann", "Printer jam")
        team_before = (await desk.ticket(1)).team_id
        await desk.command("sam", "ticket transfer 1 it")
        assert desk.last().text == "#1 is already with team it, so nothing changed."
        await desk.command("sam", "ticket transfer 1 payroll")
        assert "isn't one of the desk's teams: they are it and hr" in desk.last().text
        await desk.command("sam", "ticket transfer 1")
        assert desk.last().text.startswith("I need the team to move it to.")
        await desk.command("ann", "ticket transfer 1 hr")
        assert "moving tickets between teams" in desk.last().text
        await desk.command("sam", "ticket resolve 1 cleared the jam")
        await desk.command("sam", "ticket transfer 1 hr")
        assert desk.last().text.startswith("#1 is resolved")
        assert (await desk.ticket(1)).team_id == team_before


async def test_each_team_keeps_its_own_hours(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk, hours="mon-fri 13:00-16:00 UTC")
        await desk.channel_message("ann", HR_INTAKE, "Can I change my pension plan?")
        # HR opens at 13:00 on Monday: the acknowledgement says so, in HR's hours.
        assert "13:00" in desk.ack(1).text
        await desk.dm("bob", "VPN again")
        assert "13:00" not in desk.ack(2).text


async def test_someone_working_the_desk_by_a_platform_role_keeps_it_when_joining_a_team(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk team add hr")
        await desk.dm("kim", "hello", platform_role="agent")  # an agent by a Discord role
        await desk.command("boss", "helpdesk agents add <@kim|Kim> team hr")
        await desk.command("boss", "helpdesk show")
        it_part, hr_part = desk.last().text.split("Team hr")
        assert "Agents: Kim" in it_part and "Agents: Kim" in hr_part


async def test_a_team_with_no_triage_channel_takes_no_transfer(sqlite_url):
    """Nobody there would see the ticket, while the requester heard it has it (review)."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk team add facilities")
        await desk.dm("ann", "The office is freezing")
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket transfer 1 facilities")
        assert desk.private_to("sam")[-1].text.startswith(
            "Team facilities has no triage channel yet, so nobody there would see #1")
        assert desk.requester_said(mark) == []
        ticket = await desk.ticket(1)
        async with desk.db.unit_of_work() as uow:
            workspace = await uow.workspaces.get(ticket.workspace_id)
        assert workspace.team(ticket.team_id).name == "it"
        assert [c.message.channel_id for c in desk.cards(1)] == [TRIAGE]


async def test_removing_a_team_names_who_now_works_the_default_team(sqlite_url):
    """Its people in no other team work the default one from then on (review)."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.command("boss", "helpdesk agents add @sam team hr")  # Sam works IT too
        await desk.command("boss", "helpdesk team remove hr")
        assert desk.last().text == (
            "Done: team hr is gone, with its triage channel. Hana worked only team hr, so "
            "they now work team it; `/helpdesk agents remove <person>` (or `leads remove`) "
            f"if they shouldn't. Its intake channels (<#{HR_INTAKE}>) now open tickets for "
            "team it, so nobody writing there goes unheard; `/helpdesk intake <channel> "
            "team <name>` gives one to another team.")
        await desk.command("boss", "helpdesk team add legal")
        await desk.command("boss", "helpdesk team remove legal")
        assert desk.last().text == ("Done: team legal is gone, with its triage channel and "
                                    "its list of people.")


async def test_a_removed_teams_intake_channel_still_opens_tickets(sqlite_url):
    """FINDINGS-20b M5: a request in #ask-hr after `team remove hr` was dropped silently."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.command("boss", "helpdesk team remove hr")
        await desk.channel_message("dan", HR_INTAKE, "Hi HR, after removal can you see me?")
        assert await desk.ticket_count() == 1
        (card,) = desk.cards(1)
        assert card.message.channel_id == TRIAGE
        assert desk.ack(1).message.channel_id == HR_INTAKE


@pytest.mark.parametrize("name, says", [
    ("team", "the desk already reads that word"),
    ("everyone", "the desk already reads that word"),
    ("123", "a name needs a letter"),
])
async def test_a_word_the_desk_reads_otherwise_is_no_team_name(sqlite_url, name, says):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", f"helpdesk team add {name}")
        assert f"“{name}” can't be a team's name: {says}" in desk.last().text
        async with desk.db.unit_of_work() as uow:
            names = set((await uow.session.execute(select(TeamRow.name))).scalars())
        assert name not in names


async def test_a_team_name_with_a_word_too_many_says_which(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk team add hr team")
        assert desk.last().text.startswith(
            "A team's name is one word, so I didn't know what to do with “team”.")
        await desk.command("boss", "helpdesk team add")
        assert desk.last().text.startswith("I need add, remove or rename, and a team's name.")


async def _one_ticket_each(desk: FlowDesk) -> None:
    """#1 Ann's VPN question for IT (a DM), #2 Bob's payslip question for HR (its intake
    channel); nobody has claimed either."""
    await with_hr(desk)
    await desk.dm("ann", "The VPN drops every few minutes")
    await desk.channel_message("bob", HR_INTAKE, "My payslip is wrong")
    assert [c.message.channel_id for c in desk.cards(2)][:1] == [HR_TRIAGE]


async def test_the_queue_is_per_team_and_shows_only_the_readers_teams(sqlite_url):
    """Another team's ticket titles are its own (FINDINGS-20c H2): an agent's queue
    lists the teams they work, the admin's every team, their own first."""
    async with FlowDesk(sqlite_url) as desk:
        await _one_ticket_each(desk)
        await desk.command("hana", "ticket queue")
        assert [line.partition(", next:")[0] for line in desk.last().text.splitlines()] == [
            "The queue:",
            "Team hr:", "Waiting for someone to claim them:",
            "• #2 P3 My payslip is wrong — Bob"]
        await desk.command("boss", "ticket queue")  # an admin reads every team's
        assert [line.partition(", next:")[0] for line in desk.last().text.splitlines()] == [
            "The queue:",
            "Team it:", "Waiting for someone to claim them:",
            "• #1 P3 The VPN drops every few minutes — Ann",
            "Team hr:", "Waiting for someone to claim them:",
            "• #2 P3 My payslip is wrong — Bob"]
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket queue")
        assert [line.partition(", next:")[0] for line in desk.last().text.splitlines()] == [
            "The queue:",
            "Team it:", "Yours:",
            "• #1 P3 The VPN drops every few minutes — Ann"]


async def test_the_home_view_shows_each_teams_queue_the_agents_own_first(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _one_ticket_each(desk)
        await desk.home("hana")
        assert desk.adapter.sent[-1].message.title == "Help desk"  # no one team's
        titles = [title for title, _ in desk.adapter.sent[-1].message.fields]
        assert titles[:3] == ["Yours", "Waiting to be claimed · team hr",
                              "Breaching soon · team hr"]
        sections = dict(desk.adapter.sent[-1].message.fields)
        assert sections["Waiting to be claimed · team hr"].startswith("#2 P3 My payslip")
        # Team it's queue is its own people's (FINDINGS-20c H2).
        assert "Waiting to be claimed · team it" not in sections
        assert "VPN" not in " ".join(sections.values())


async def test_the_promise_report_is_per_team_then_for_the_whole_desk(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _one_ticket_each(desk)
        await desk.command("hana", "ticket claim 2")  # HR's first response kept
        await desk.command("boss", "helpdesk promises")
        lines = desk.last().text.splitlines()
        assert lines[0] == "How the desk has kept its word:"
        hr, it = lines.index("Team hr:"), lines.index("Team it:")
        assert it < hr  # the boss works no team, so the default team comes first
        assert lines[hr + 1].startswith("• Hana: ")
        (it_total,) = [line for line in lines[it:hr] if line.startswith("• Whole team: ")]
        (hr_total,) = [line for line in lines[hr:] if line.startswith("• Whole team: ")]
        assert " 0 kept on time" in it_total and " 1 kept on time" in hr_total
        assert lines[-1].startswith("• Whole desk: ")
        assert all("Hana" not in line for line in lines[it:hr])


async def test_with_one_team_the_queue_says_no_team(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops every few minutes")
        await desk.command("sam", "ticket queue")
        assert "Team" not in desk.last().text
        await desk.home("sam")
        assert [t for t, _ in desk.adapter.sent[-1].message.fields] == [
            "Yours", "Waiting to be claimed", "Breaching soon"]
        assert desk.adapter.sent[-1].message.title == "IT help desk"


async def test_a_closed_team_speaks_of_itself_by_name(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:  # Monday 10:00; HR opens at 13:00
        await with_hr(desk, hours="mon-fri 13:00-16:00 UTC")
        await desk.channel_message("bob", HR_INTAKE, "My payslip is wrong")
        (said,) = [s.text for s in desk.requester_thread(1) if "closed" in s.text]
        assert ("Our hr team is closed right now and opens today at 13:00 UTC; "
                "someone from the team will reply by ") in said
        assert "desk" not in said
        await desk.dm("ann", "The VPN drops every few minutes")  # IT is open: no change
        assert not any("team" in s.text for s in desk.requester_thread(2))


async def test_a_ticket_back_in_a_teams_queue_is_waiting_for_that_team_by_name(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.dm("ann", "Question about my parental leave")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket transfer 1 hr")  # Sam isn't HR's: nobody owns it
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(days=1))  # the status update lapses
        lapsed = [t for t in desk.requester_said(mark) if "waiting for someone" in t]
        assert lapsed and all("waiting for someone on our hr team to pick it up" in t
                              for t in lapsed), desk.requester_said(mark)


async def test_after_a_transfer_nothing_written_under_either_card_is_lost(sqlite_url):
    """FINDINGS-20b H1: after a transfer, agents' messages under the old card (where
    they always answered) and under the new one reach the requester or the notes."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.dm("bob", "Need payroll help")
        await desk.command("sam", "ticket transfer 1 hr")
        new_card = desk.cards(1)[-1]
        assert new_card.message.channel_id == HR_TRIAGE
        # Sam, from IT, under the old card, before anyone claims it.
        mark = len(desk.adapter.sent)
        await desk.in_triage_thread("sam", 1, "Try the payroll portal first")
        assert any("Try the payroll portal first" in t for t in desk.requester_said(mark))
        copies = [s for s in desk.since(mark) if s.message.channel_id == HR_TRIAGE
                  and s.message.thread_id == new_card.message_id]
        assert any("Try the payroll portal first" in s.text for s in copies)
        told = [s.text for s in desk.since(mark) if s.message.ephemeral_to == "sam"]
        assert told and "team hr" in told[-1]
        # Hana claims it and answers under the old card, then under the new one.
        await desk.command("hana", "ticket claim 1")
        mark = len(desk.adapter.sent)
        await desk.in_triage_thread("hana", 1, "Hana under the old card")
        await desk.channel_message("hana", HR_TRIAGE, "Hana under the new card",
                                   thread_id=new_card.message_id)
        said = desk.requester_said(mark)
        assert any("Hana under the old card" in t for t in said), desk.adapter.transcript()
        assert any("Hana under the new card" in t for t in said), desk.adapter.transcript()
        # A note under the old card is kept, and shown under the new card.
        mark = len(desk.adapter.sent)
        await desk.in_triage_thread("hana", 1, "note: payroll closes on the 20th")
        assert not desk.requester_said(mark)
        assert any(e.kind == "note" and "payroll closes" in e.body
                   for e in await desk.timeline(1))


async def test_a_reply_by_someone_outside_the_new_team_does_not_take_the_ticket(sqlite_url):
    """FINDINGS-20b M3: the old team's reply reaches the requester, and the ticket still
    waits for someone in the new team."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.dm("bob", "Need payroll help")
        await desk.command("sam", "ticket claim 1")
        await desk.command("sam", "ticket transfer 1 hr")
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket reply 1 HR will take it from here")
        assert any("HR will take it from here" in t for t in desk.requester_said(mark))
        assert (await desk.ticket(1)).owner_id is None
        # Someone in HR who replies does take it.
        await desk.command("hana", "ticket reply 1 Hi, Hana from HR here")
        assert (await desk.ticket(1)).owner_id is not None


async def test_intake_for_a_team_with_no_triage_channel_goes_to_the_default_team(sqlite_url):
    """FINDINGS-20b H2 (input A): the admin forgets `team hr`, so IT takes #hr-triage and
    HR has no triage channel. The admin is told both; an HR request is then seen by IT,
    with a heads-up saying it was for hr, and its requester is given IT's time."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        mark = len(desk.adapter.sent)
        await desk.command("boss", f"helpdesk triage <#{HR_TRIAGE}|hr-triage>")
        (said,) = [s.text for s in desk.since(mark) if s.message.ephemeral_to == "boss"]
        assert f"It takes the place of <#{TRIAGE}>" in said, said
        assert "Team hr has no triage channel now" in said, said
        mark = len(desk.adapter.sent)
        await desk.channel_message("ann", HR_INTAKE, "I was underpaid this month")
        ticket = await desk.ticket(1)
        async with desk.db.unit_of_work() as uow:
            workspace = await uow.workspaces.get(ticket.workspace_id)
        assert workspace.team(ticket.team_id).name == "it"
        (card,) = desk.cards(1)
        assert card.message.channel_id == HR_TRIAGE  # IT's triage channel now
        heads_up = [s.text for s in desk.since(mark) if s.text.startswith("Heads-up: #1")]
        assert heads_up and "team hr's intake channel" in heads_up[0]
        assert "/ticket transfer 1 hr" in heads_up[0]


async def test_intake_for_a_team_nobody_works_goes_to_the_default_team(sqlite_url):
    """FINDINGS-20b H2 (input B) and M4: a team with a triage channel and nobody in it.
    Setting its intake channel warns; a request there is seen by the default team; a
    transfer to it is refused, and the requester is promised nothing by it."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk team add fac")
        await desk.command("boss", "helpdesk triage <#C-fac-triage|fac-triage> team fac")
        mark = len(desk.adapter.sent)
        await desk.command("boss", "helpdesk intake <#C-fac|facilities-help> team fac")
        answer = desk.private_to("boss")[-1].text
        assert "Nobody works team fac yet, so requests there go to team it" in answer
        await desk.channel_message("fay", "C-fac", "The heating is broken on floor 3")
        (card,) = desk.cards(1)
        assert card.message.channel_id == TRIAGE
        assert any(s.text.startswith("Heads-up: #1") and "nobody works team fac" in s.text
                   for s in desk.since(mark))
        await desk.dm("cid", "My door badge stopped working")
        mark = len(desk.adapter.sent)
        await desk.command("sam", "ticket transfer 2 fac door badges are facilities'")
        assert desk.private_to("sam")[-1].text.startswith(
            "Nobody works team fac yet, so nobody there would pick up #2")
        assert desk.requester_said(mark) == []
        assert [c.message.channel_id for c in desk.cards(2)] == [TRIAGE]


@pytest.mark.parametrize("command", [
    "helpdesk agents add <@hana|Hana> team",
    "helpdesk agents add <@pia|Pia> team hr team it",
    "helpdesk leads add <@kim|Kim> team",
    "helpdesk agents add hr",
    "helpdesk agents add @Team",
])
async def test_a_team_word_left_over_is_never_a_person(sqlite_url, command):
    """FINDINGS-20b M2: each of these made a phantom agent or lead (@Team, hr)."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.command("boss", "helpdesk team add hr")
        before = await _people(desk)
        await desk.command("boss", command)
        said = desk.last().text
        assert ("so I didn't take it for a person, and nothing changed" in said
                or said.startswith("“team” at the end needs the team's name")), said
        assert await _people(desk) == before


async def test_a_team_word_is_never_put_on_duty(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("kim",))
        await desk.command("boss", "helpdesk oncall it <@team|Team>")
        assert "so I didn't take it for a person" in desk.last().text
        await desk.command("boss", "helpdesk oncall it rota <@kim|Kim> team")
        assert "so I didn't take it for a person" in desk.last().text


CONSOLE_TEAM_WORDS = """\
/as admin
/helpdesk team add hr
/helpdesk agents add Hana team
/helpdesk agents add Pia team hr team it
/helpdesk leads add Kim team
/helpdesk agents add hr
/helpdesk show
"""


async def test_in_the_console_a_team_word_left_over_is_never_a_person(sqlite_url):
    printed = await play(sqlite_url, CONSOLE_TEAM_WORDS, start=MONDAY)
    refused = (printed.count("so I didn't take it for a person, and nothing changed")
               + printed.count("“team” at the end needs the team's name"))
    assert refused == 4, printed
    assert "@Team" not in printed and "Agents: nobody yet" in printed, printed


async def test_status_and_panel_say_they_take_no_team(sqlite_url):
    """FINDINGS-20b L5 and L6: `status ... team hr` blamed the channel and offered a
    team in its usage; `panel team hr` posted a panel that ignored the team."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.command("boss", "helpdesk status <#C-status|status> team hr")
        said = desk.last().text
        assert said.startswith("The status channel speaks for the whole desk's incidents, "
                               "so it takes no team."), said
        assert "[team <name>]" not in said
        mark = len(desk.adapter.sent)
        await desk.command("boss", "helpdesk panel team hr", channel="C-general")
        said = [s.text for s in desk.since(mark)]
        assert len(said) == 1 and said[0].startswith("A panel takes no team"), said
        assert "team hr's intake channels" in said[0]


@pytest.mark.parametrize("command", [
    "helpdesk hours mon-fri 08:00-16:00 Europe/Oslo team",
    "helpdesk holiday add 2026-12-28 team",
    f"helpdesk triage <#{HR_TRIAGE}|hr-triage> team",
    "helpdesk sla P2 first=2h team",
])
async def test_a_team_word_with_no_name_is_the_error_named(sqlite_url, command):
    """FINDINGS-20b L3: these blamed the hours, the date, the channel or the targets."""
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.command("boss", command)
        said = desk.last().text
        assert said.startswith("“team” at the end needs the team's name after it"), said
        assert "it and hr" in said


async def test_a_rename_without_the_new_name_says_so(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await with_hr(desk)
        await desk.command("boss", "helpdesk team rename hr")
        assert desk.last().text.startswith("I need the new name too, after “hr”.")


async def test_a_long_team_name_is_shown_cut_with_an_ellipsis(sqlite_url):
    """FINDINGS-20b L2 (old L10): the name shown was cut to 40 characters silently."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.command("boss", "helpdesk team add " + "h" * 500)
        said = desk.last().text
        assert "h" * 39 + "…" in said and "h" * 41 not in said, said
        await desk.dm("ann", "The printer is jammed")
        await desk.command("sam", "ticket transfer 1 " + "x" * 300)
        said = desk.private_to("sam")[-1].text
        assert "x" * 39 + "…” isn't one of the desk's teams" in said, said
