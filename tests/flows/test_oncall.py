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
        assert desk.last().text.endswith("until today at 12:00 UTC.")
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
        assert desk.last().text.startswith("Sam isn't a lead of the desk")
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
        assert "Lee is no longer on duty for team hr, and nobody else is now" in said
        await desk.command("boss", "helpdesk oncall hr")
        assert desk.last().text.startswith("Nobody is team hr's lead on duty now")
        await desk.channel_message("ann", "C-hr", "A question about my contract")
        await desk.command("hana", "ticket claim 1")
        await desk.command("hana", "ticket escalate 1 please help")
        assert desk.private_to("lee") == []
        assert desk.private_to("kim") != []  # hr has no leads: the desk's leads hear


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
        # A shift of Lee's wins over a rota starting with Kay: the answer says so.
        await desk.command("boss", "helpdesk leads add <@kay|Kay> team hr")
        await desk.command("boss", "helpdesk oncall hr Lee")
        await desk.command("boss", "helpdesk oncall hr rota Kay Lee")
        assert desk.last().text.endswith(
            "For now a shift wins over the rota: Lee is on duty until it ends.")
