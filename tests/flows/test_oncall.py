"""The lead on duty: a shift or a weekly rota names who a team's escalations reach
first, privately; with nobody on duty, every lead of the team hears."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.flows.story import FlowDesk

PRINTER = "The printer on floor 2 is jammed"
FRIDAY = datetime(2030, 6, 7, 16, 0, tzinfo=timezone.utc)


async def test_an_escalation_reaches_only_the_lead_on_duty_then_the_triage_thread(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER, leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it <@kim|Kim>")
        assert desk.last().text.startswith("Done: Kim is the lead on duty for team it from ")
        await desk.command("sam", "ticket escalate 1 The CEO's printer")
        expected = "Sam escalated #1 from Ann: “The CEO's printer”. Priority P3, owner Sam."
        assert [s.text for s in desk.private_to("kim")] == [expected]
        assert desk.private_to("lee") == []
        assert desk.triage_thread(1)[-1].text == expected + " I've asked Kim."  # L7
        assert desk.private_to("sam")[-1].text == "Escalated #1 to Kim, the lead on duty."


async def test_with_nobody_on_duty_every_lead_of_the_team_hears(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER, leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it")
        assert desk.last().text == ("Nobody is team it's lead on duty now, so its escalations "
                                    "go to all of its leads.")
        await desk.command("sam", "ticket escalate 1")
        assert len(desk.private_to("kim")) == 1 and len(desk.private_to("lee")) == 1


async def test_a_shift_ends_when_it_says_and_duty_goes_back_to_everyone(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.claimed(PRINTER, leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it Kim until 12:00")
        assert desk.last().text.startswith("Done: Kim is the lead on duty for team it from ")
        assert desk.last().text.endswith("until today at 12:00 UTC. From today at 12:00 "
                                         "UTC, nobody is on duty.")
        await desk.command("boss", "helpdesk oncall it")
        assert desk.last().text == ("Kim is team it's lead on duty now. "
                                    "From today at 12:00 UTC, nobody is on duty.")
        await desk.advance(timedelta(hours=3))
        await desk.command("sam", "ticket escalate 1")
        assert desk.private_to("lee") != []


async def test_only_a_lead_can_be_on_duty(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("kim",))
        await desk.command("boss", "helpdesk oncall it <@sam|Sam>")
        assert desk.last().text.startswith("Sam isn't a lead of team it, so they can't be "
                                           "on duty for it")
        # FINDINGS-20c M5: a rota gives the same answer, naming the team and its leads.
        await desk.command("boss", "helpdesk oncall it rota Kim Sam")
        assert desk.last().text.startswith("Sam isn't a lead of team it")
        assert "`/helpdesk leads add Sam team it`" in desk.last().text and "(Kim)" in desk.last().text
        await desk.command("boss", "helpdesk oncall it Kim until yesterday")
        assert desk.last().text.startswith("I couldn't read “yesterday” as a time.")
        await desk.command("boss", "helpdesk oncall payroll Kim")
        assert "isn't one of the desk's teams" in desk.last().text


async def test_a_rota_set_on_friday_hands_over_at_monday_opening_not_over_the_weekend(
        sqlite_url):
    async with FlowDesk(sqlite_url, start=FRIDAY) as desk:
        await desk.staffed(leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it rota Kim Lee")
        assert desk.last().text.startswith(
            "Done: team it's leads take weekly turns on duty in this order: Kim and Lee. "
            "Kim is on duty until Monday at 09:00 UTC, when Lee takes over;")
        await desk.command("boss", "helpdesk oncall it")
        assert desk.last().text == ("Kim is team it's lead on duty now. "
                                    "Next: Lee, from Monday at 09:00 UTC.")
        # Saturday, Sunday and Monday before opening: still Kim's week.
        for hours in (20, 24, 20):
            await desk.advance(timedelta(hours=hours))
            await desk.command("boss", "helpdesk oncall it")
            assert desk.last().text.startswith("Kim is team it's lead on duty now."), \
                desk.clock.now()
        assert desk.clock.now() == datetime(2030, 6, 10, 8, 0, tzinfo=timezone.utc)
        await desk.advance(timedelta(hours=1))  # Monday 09:00, the desk opens
        await desk.command("boss", "helpdesk oncall it")
        said = desk.last().text
        assert said.startswith("Lee is team it's lead on duty now. Next: Kim, from ")
        assert said.endswith("at 09:00 UTC.") and "17" in said  # Monday 17 June
        await desk.dm("ann", PRINTER)
        await desk.command("sam", "ticket escalate 1")
        assert desk.private_to("kim") == [] and len(desk.private_to("lee")) == 1


async def test_a_p1_that_lapses_escalates_to_the_lead_on_duty_alone(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it Lee")
        await desk.dm("ann", "The whole office is offline")
        await desk.command("sam", "ticket priority 1 P1")
        await desk.advance(timedelta(hours=2))  # the 1h first reply lapses
        assert any("#1" in s.text for s in desk.private_to("lee"))
        assert desk.private_to("kim") == []


async def test_a_rota_of_one_says_every_week(sqlite_url):
    async with FlowDesk(sqlite_url, start=FRIDAY) as desk:
        await desk.staffed(leads=("kim",))
        await desk.command("boss", "helpdesk oncall it rota Kim")
        assert desk.last().text == "Done: Kim is team it's lead on duty every week."


async def test_an_automatic_escalation_reaches_the_lead_on_duty_first_then_the_triage_thread(
        sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(leads=("kim", "lee"))
        await desk.command("boss", "helpdesk oncall it Lee")
        await desk.dm("ann", "The whole office is offline")
        await desk.command("sam", "ticket priority 1 P1")
        mark = len(desk.adapter.sent)
        await desk.advance(timedelta(hours=2))  # the 1h first reply lapses: a P1 escalates
        after = desk.since(mark)
        to_lee = [i for i, s in enumerate(after) if s.message.direct_to == "lee"]
        noted = [i for i, s in enumerate(after)
                 if s in desk.triage_thread(1) and s.text.startswith("I've asked Lee to look")]
        assert to_lee and noted, desk.adapter.transcript()
        assert to_lee[0] < noted[0]  # privately first, then the team
        assert "#1 from Ann" in after[noted[0]].text and "priority P1" in after[noted[0]].text
        assert not any("Lee" in s.text for s in desk.requester_thread(1))
        assert desk.private_to("kim") == []


async def _hr_with_leads(desk: FlowDesk) -> None:
    """IT (Sam, lead Kim) and team hr (Hana, lead Lee)."""
    await desk.staffed(leads=("kim",))
    for command in ("helpdesk team add hr", "helpdesk agents add <@hana|Hana> team hr",
                    "helpdesk leads add <@lee|Lee> team hr",
                    "helpdesk triage <#C-hr-triage|hr-triage> team hr",
                    "helpdesk intake <#C-hr|ask-hr> team hr"):
        await desk.command("boss", command)


async def test_a_lead_removed_from_a_team_is_no_longer_on_duty_for_it(sqlite_url):
    """FINDINGS-20b H3: Lee stayed on duty after `leads remove`, and kept getting HR's
    private flags and escalations."""
    async with FlowDesk(sqlite_url) as desk:
        await _hr_with_leads(desk)
        await desk.command("boss", "helpdesk oncall hr <@lee|Lee>")
        await desk.command("boss", "helpdesk leads remove <@lee|Lee> team hr")
        said = desk.private_to("boss")[-1].text
        assert said.startswith("Done: Lee can no longer work team hr as a lead."), said
        assert "Lee is no longer on duty for team hr." in said
        # FINDINGS-20c H3: the answer says hr has no lead, and where its matters go.
        assert ("Team hr has no lead now, so its flags and escalations go to the admins "
                "until it has one: `/helpdesk leads add <person> team hr`.") in said
        await desk.command("boss", "helpdesk oncall hr")
        assert desk.last().text.startswith("Team hr has no lead, so nobody is on duty for "
                                           "it, and its flags and escalations go to the admins")
        await desk.channel_message("ann", "C-hr", "A question about my contract")
        await desk.command("hana", "ticket claim 1")
        mark = len(desk.adapter.sent)
        await desk.command("hana", "ticket escalate 1 please help")
        assert desk.private_to("lee") == []
        # hr has no leads: the admins hear, never another team's lead (an HR matter).
        assert desk.private_to("kim") == []
        assert desk.private_to("boss")[-1].text.startswith(
            "Hana asked for a lead on #1 from Ann (“please help”), but team hr has no lead "
            "yet, so I'm asking you instead.")
        assert desk.private_to("hana")[-1].text.startswith("Team hr has no lead yet, so no "
                                                           "lead was asked to look at #1.")
        assert desk.requester_said(mark) == []  # no "I've asked a lead": none was
        await desk.command("hana", "ticket flag 1 upset")
        assert desk.private_to("kim") == []
        assert "Ann" in desk.private_to("boss")[-1].text
        assert desk.private_to("hana")[-1].text.startswith(
            "Thank you for flagging it. Boss can see it now")


async def test_a_lead_leaves_the_rota_of_a_team_they_no_longer_lead(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await _hr_with_leads(desk)
        await desk.command("boss", "helpdesk leads add <@kay|Kay> team hr")
        await desk.command("boss", "helpdesk oncall hr rota Lee Kay")
        await desk.command("boss", "helpdesk leads remove <@lee|Lee> team hr")
        assert ("Lee is no longer on duty for team hr; Kay is its lead on duty now."
                in desk.private_to("boss")[-1].text)
        await desk.command("boss", "helpdesk oncall hr")
        assert desk.last().text.startswith("Kay is team hr's lead on duty now.")


async def test_another_teams_lead_cannot_be_put_on_duty(sqlite_url):
    """FINDINGS-20b M1: Kim, IT's lead, was put on duty for hr without a word, and got
    HR's escalations; and a rota's answer named Lee while Kim's shift won."""
    async with FlowDesk(sqlite_url) as desk:
        await _hr_with_leads(desk)
        await desk.command("boss", "helpdesk oncall hr <@kim|Kim>")
        said = desk.last().text
        assert said.startswith("Kim isn't a lead of team hr, so they can't be on duty"), said
        assert "/helpdesk leads add Kim team hr" in said and "Lee" in said
        await desk.command("boss", "helpdesk oncall hr rota Kim Lee")
        assert desk.last().text.startswith("Kim isn't a lead of team hr")
        # A shift of Lee's with an end wins over a rota starting with Kay until then:
        # the answer says so, and how to end it sooner.
        await desk.command("boss", "helpdesk leads add <@kay|Kay> team hr")
        await desk.command("boss", "helpdesk oncall hr Lee until 14:00")
        await desk.command("boss", "helpdesk oncall hr rota Kay Lee")
        assert desk.last().text.endswith(
            "For now Lee's shift wins over the rota, until today at 14:00 UTC; "
            "`/helpdesk oncall hr end` ends it sooner.")


async def test_an_open_ended_shift_ends_when_someone_else_is_put_on_duty(db_url):
    """FINDINGS-20c H6: Lee's open-ended shift outlived a rota and a later 2-hour
    shift, so Lee stayed on duty for good, with no "Next" and no way to end it."""
    async with FlowDesk(db_url) as desk:
        await _hr_with_leads(desk)
        await desk.command("boss", "helpdesk leads add <@lena|Lena> team hr")
        await desk.command("boss", "helpdesk oncall hr <@lee|Lee>")
        assert "until someone else is put on duty" in desk.last().text
        await desk.command("boss", "helpdesk oncall hr rota Lena Lee")
        said = desk.last().text
        assert "wins" not in said and said.startswith("Done: team hr's leads take weekly")
        await desk.command("boss", "helpdesk oncall hr")
        assert desk.last().text.startswith("Lena is team hr's lead on duty now. Next: Lee, ")
        await desk.command("boss", "helpdesk oncall hr <@lee|Lee> until 12:00")
        assert desk.last().text.endswith("Next: Lena, from today at 12:00 UTC.")
        desk.clock.offset += timedelta(hours=3)
        await desk.command("boss", "helpdesk oncall hr")
        assert desk.last().text.startswith("Lena is team hr's lead on duty now. Next: Lee, ")
        # A shift can be ended at once: the rota has duty again.
        await desk.command("boss", "helpdesk oncall hr <@lee|Lee>")
        await desk.command("boss", "helpdesk oncall hr end")
        assert desk.last().text.startswith(
            "Done: the shift running for team hr has ended. Lena is team hr's lead on "
            "duty now. Next: Lee, ")
        await desk.command("boss", "helpdesk oncall hr end")
        assert desk.last().text.startswith("No shift was running for team hr, so nothing")


async def test_a_lead_escalating_their_own_ticket_asks_another_lead(db_url):
    """FINDINGS-20c H5: Lee, on duty, escalated his own ticket and asked only himself,
    while the requester was told a lead had been asked."""
    async with FlowDesk(db_url) as desk:
        await _hr_with_leads(desk)
        await desk.command("boss", "helpdesk oncall hr <@lee|Lee>")
        await desk.channel_message("ann", "C-hr", "My manager is difficult")
        await desk.command("lee", "ticket claim 1")
        mark = len(desk.adapter.sent)
        await desk.command("lee", "ticket escalate 1 I need help")
        # Lee is hr's only lead: nobody else to ask, so the admins are, and Ann is told
        # nothing untrue.
        assert not [s for s in desk.since(mark) if s.message.direct_to == "lee"]
        assert desk.private_to("kim") == []
        assert desk.private_to("boss")[-1].text.startswith(
            "Lee, team hr's only lead, asked for another lead on #1 from Ann")
        assert desk.private_to("lee")[-1].text.startswith(
            "You're team hr's only lead, so there was no other lead to ask about #1.")
        assert desk.requester_said(mark) == []
        # With a second lead in hr, she is the one asked, and Ann hears it.
        await desk.command("boss", "helpdesk leads add <@lena|Lena> team hr")
        mark = len(desk.adapter.sent)
        await desk.command("lee", "ticket escalate 1 I need help")
        assert [s.text for s in desk.since(mark) if s.message.direct_to == "lena"] == [
            "Lee escalated #1 from Ann: “I need help”. Priority P3, owner Lee."]
        assert not [s for s in desk.since(mark) if s.message.direct_to == "lee"]
        assert desk.private_to("lee")[-1].text == "Escalated #1 to Lena."
        assert any("I've asked a lead" in said for said in desk.requester_said(mark))


async def test_removing_a_teams_last_people_with_open_tickets_is_refused(db_url):
    """FINDINGS-20c H4: emptying team hr left #1 where nobody worked, with promises made
    in its name."""
    async with FlowDesk(db_url) as desk:
        await _hr_with_leads(desk)
        await desk.channel_message("ann", "C-hr", "My contract question")
        await desk.command("boss", "helpdesk agents remove <@hana|Hana> team hr")
        assert desk.last().text.startswith("Done: Hana can no longer work team hr")
        await desk.command("boss", "helpdesk leads remove <@lee|Lee> team hr")
        assert desk.last().text == (
            "Nothing changed: without Lee, nobody would work team hr, and it has open "
            "tickets (#1). Nobody would see them or their requesters' messages, while we'd "
            "keep promising times in team hr's name. Move them first (`/ticket transfer 1 "
            "it`, say), or add someone to team hr first (`/helpdesk agents add <person> "
            "team hr`).")
        await desk.command("boss", "helpdesk oncall hr <@lee|Lee>")  # still hr's lead
        assert desk.last().text.startswith("Done: Lee is the lead on duty for team hr")
        await desk.command("boss", "ticket transfer 1 it not HR after all")
        await desk.command("boss", "helpdesk leads remove <@lee|Lee> team hr")
        assert desk.last().text.startswith("Done: Lee can no longer work team hr as a lead.")
