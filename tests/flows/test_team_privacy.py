"""Whose tickets: a team's tickets, notes, flags and targets are its own people's
(FINDINGS-20c H1, H2, H7). Someone who does not work a ticket's team (an admin
excepted) neither acts on it nor reads its private parts, and the requester is never
told someone is "from our hr team" who is not."""

from __future__ import annotations

from tests.flows.story import FlowDesk
from tests.flows.test_teams import HR_INTAKE, HR_TRIAGE, TRIAGE, with_hr

FAC_TRIAGE = "C-fac-triage"


async def _three_teams(desk: FlowDesk) -> None:
    """IT (Sam; Kim its lead), HR (Hana; Lee its lead) and facilities (Fred)."""
    await with_hr(desk)
    for command in ("helpdesk leads add <@kim|Kim>",
                    "helpdesk leads add <@lee|Lee> team hr",
                    "helpdesk team add facilities",
                    "helpdesk agents add <@fred|Fred> team facilities",
                    f"helpdesk triage <#{FAC_TRIAGE}|fac-triage> team facilities"):
        await desk.command("boss", command)
    await desk.channel_message("pat", HR_INTAKE, "My manager keeps shouting at me")
    await desk.command("hana", "ticket claim 1")
    await desk.command("hana", "ticket note 1 manager is Jordan from finance; confidential")
    await desk.command("hana", "ticket flag 1 Pat very distressed")


async def test_another_teams_agent_cannot_act_on_a_teams_ticket(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        before = (await desk.ticket(1)).owner_id
        mark = len(desk.adapter.sent)
        for line in ("ticket claim 1", "ticket assign 1 <@fred|Fred>",
                     "ticket followup 1 1h checking", "ticket priority 1 P1",
                     "ticket wait 1 third-party payroll", "ticket escalate 1 help",
                     "ticket flag 1 upset", "ticket note 1 hello",
                     "ticket resolve 1 fixed", "ticket transfer 1 it misrouted",
                     "ticket reply 1 Hi from facilities"):
            await desk.command("fred", line)
            said = desk.last().text
            assert said.startswith("#1 is with team hr, and you don't work team hr, "
                                   "so nothing changed"), (line, said)
        assert desk.requester_said(mark) == []
        assert not any("from our" in s.text for s in desk.since(mark))
        ticket = await desk.ticket(1)
        assert ticket.owner_id == before and ticket.priority.value == "P3"
        assert ticket.status.value == "in_progress"


async def test_a_teams_ticket_cannot_be_assigned_to_someone_outside_it(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        mark = len(desk.adapter.sent)
        await desk.command("hana", "ticket assign 1 <@sam|Sam>")
        assert desk.last().text.startswith("Sam doesn't work team hr, so #1 can't be theirs")
        assert desk.requester_said(mark) == []


async def test_another_teams_agent_reads_neither_notes_nor_flags(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        mark = len(desk.adapter.sent)
        await desk.command("fred", "ticket show 1")
        shown = desk.last().text
        assert shown.startswith("#1 is with team hr. Its details and notes are for")
        await desk.command("fred", "ticket transcript 1 with-notes")
        assert desk.last().text.startswith("#1 is with team hr. Its details")
        await desk.command("fred", "ticket queue")
        assert "shouting" not in desk.last().text
        assert desk.last().text != "The queue:"  # the empty queue's words, not a bare title
        said = " ".join(s.text + " ".join(a.text for a in s.message.attachments)
                        for s in desk.since(mark))
        assert "Jordan" not in said and "distressed" not in said and "shouting" not in said
        # Hana, who works team hr, and an admin still read it whole.
        await desk.command("hana", "ticket show 1")
        assert "Jordan" in desk.last().text and "distressed" in desk.last().text
        await desk.command("boss", "ticket show 1")
        assert "Jordan" in desk.last().text


async def test_an_agent_reads_their_own_ticket_with_another_team_as_its_requester(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        await desk.channel_message("fred", HR_INTAKE, "A question about my own contract")
        await desk.command("hana", "ticket note 2 check his probation")
        await desk.command("fred", "ticket show 2")
        shown = desk.last().text
        assert shown.startswith("#2") and "contract" in shown and "probation" not in shown


async def test_the_card_lists_only_the_teams_own_earlier_tickets(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        await desk.command("pat", "ticket new My laptop will not start")
        card = desk.cards(2)[-1]
        history = dict(card.message.fields)["Their recent tickets"]
        assert "#1" not in history, history


async def test_only_the_teams_own_leads_grant_exceptions(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        mark = len(desk.adapter.sent)
        await desk.command("kim", "ticket exception 1 first=30m update=30m it lead")
        assert desk.last().text == (
            "#1 is with team hr, and you don't work team hr, so nothing changed: its "
            "people look after it. If it belongs elsewhere, someone in team hr can move it "
            "with `/ticket transfer 1 <team>`; if you should work team hr, an admin can add "
            "you to it.")
        # Kim working team hr as an agent is still not one of its leads.
        await desk.command("boss", "helpdesk agents add <@kim|Kim> team hr")
        await desk.command("kim", "ticket exception 1 update=30m it lead")
        assert desk.last().text == ("#1 is with team hr, so its targets are for team hr's "
                                    "leads to change (Lee), and nothing changed.")
        assert desk.requester_said(mark) == []
        await desk.command("lee", "ticket exception 1 update=30m Pat is anxious")
        assert desk.last().text.startswith("Done: #1's targets are now")


async def test_another_teams_agent_cannot_flag_by_reaction(db_url):
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        channel, thread = desk.thread_of(1)
        told = len(desk.private_to("lee"))
        await desk.react("fred", "🚩", author="pat", text="My manager keeps shouting at me",
                         channel=channel, message_id=thread)
        assert len(desk.private_to("lee")) == told
        assert desk.private_to("fred")[-1].text.startswith("#1 is with team hr, and you "
                                                           "don't work team hr")
        await desk.react("hana", "🚩", author="pat", text="My manager keeps shouting at me",
                         channel=channel, message_id=thread)
        assert len(desk.private_to("lee")) == told + 1


async def test_another_teams_agent_cannot_link_a_teams_ticket_to_an_incident(db_url):
    """RECHECK-20 N2: an incident is the whole desk's, but a ticket in it is still its
    team's: Fred (facilities) neither declares one from HR's #1 nor links #1 to his
    own, and Pat hears nothing; Hana (HR) and an admin still can."""
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        mark = len(desk.adapter.sent)
        await desk.command("fred", "incident declare building outage from 1")
        said = desk.last().text
        assert said.startswith("#1 is with team hr, and you don't work team hr, so nothing "
                               "was linked"), said
        assert await desk.incident_of(1) is None
        await desk.command("fred", "incident declare building outage")
        await desk.command("fred", "incident link INC-1 1")
        assert desk.last().text.startswith("#1 is with team hr, and you don't work team hr")
        assert await desk.incident_of(1) is None
        assert desk.requester_said(mark) == []
        await desk.command("hana", "incident link INC-1 1")
        assert await desk.incident_of(1) is not None
        await desk.command("fred", "incident unlink INC-1 1")
        assert desk.last().text.startswith("#1 is with team hr, and you don't work team hr")
        assert await desk.incident_of(1) is not None
        await desk.command("boss", "incident unlink INC-1 1")
        assert await desk.incident_of(1) is None


async def test_an_agent_taken_off_a_team_hands_its_tickets_back_to_the_team(db_url):
    """RECHECK-20 N1: Hana, taken off team hr, can no longer act on #1, so it is no
    longer hers: it waits in HR's queue, HR's triage thread asks for someone to claim
    it, Pat is told it is no longer with Hana, and the admin hears which tickets went
    back."""
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        mark = len(desk.adapter.sent)
        await desk.command("boss", "helpdesk agents remove <@hana|Hana> team hr")
        answer = desk.last().text
        assert "no longer owns #1 (back in team hr's queue)" in answer, answer
        ticket = await desk.ticket(1)
        assert ticket.owner_id is None and ticket.status.value == "open"
        heard = desk.requester_said(mark)
        assert len(heard) == 1 and "#1: Hana is no longer looking after it" in heard[0], heard
        assert "distressed" not in heard[0] and "Jordan" not in heard[0]
        assert any("Could someone in team hr claim it?" in s.text
                   for s in desk.triage_thread(1)), [s.text for s in desk.triage_thread(1)]
        # Nobody's "still with Hana" any more: the card has no owner.
        assert "Hana" not in dict(desk.cards(1)[-1].message.fields).get("Owner", "")
        await desk.command("lee", "ticket show 1")
        assert "Boss took Hana off team hr, so it went back to the team's queue" \
            in desk.last().text, desk.last().text


async def test_a_lead_taken_off_the_desk_hands_its_tickets_back_to_the_team(db_url):
    """RECHECK-20 N1, the whole desk: Lee, team hr's only lead, removed as a lead works
    no team; the HR ticket he owned waits for Hana's team again."""
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        await desk.command("lee", "ticket assign 1 <@lee|Lee>")
        assert (await desk.ticket(1)).owner_id is not None
        mark = len(desk.adapter.sent)
        await desk.command("boss", "helpdesk leads remove <@lee|Lee> team hr")
        answer = desk.last().text
        assert "no longer owns #1 (back in team hr's queue)" in answer, answer
        assert (await desk.ticket(1)).owner_id is None
        heard = desk.requester_said(mark)
        assert len(heard) == 1 and "#1: Lee is no longer looking after it" in heard[0], heard


async def test_a_teams_only_triage_channel_is_not_taken_while_it_promises_times(db_url):
    """RECHECK-20 N3: giving IT's #it-triage to HR left the default team with no triage
    channel while it went on promising times for DMs, and HR's #hr-triage taken by
    facilities while #1 is open would put #1's thread where HR does not look."""
    async with FlowDesk(db_url) as desk:
        await _three_teams(desk)
        await desk.command("boss", f"helpdesk triage <#{TRIAGE}|it-triage> team hr")
        said = desk.last().text
        assert said.startswith(f"Nothing changed: <#{TRIAGE}> is team it's only triage "
                               "channel"), said
        await desk.command("boss", f"helpdesk triage <#{HR_TRIAGE}|hr-triage> team facilities")
        said = desk.last().text
        assert said.startswith(f"Nothing changed: <#{HR_TRIAGE}> is team hr's only triage "
                               "channel, and it has open tickets (#1)"), said
        async with desk.db.unit_of_work() as uow:
            workspace = await uow.workspaces.get((await desk.ticket(1)).workspace_id)
            channels = await uow.workspaces.team_channels(workspace, "triage")
        by_name = {team.name: channels.get(team.id) for team in workspace.teams}
        assert by_name["it"] == [TRIAGE] and by_name["hr"] == [HR_TRIAGE], by_name
        # Once #1 is done, HR may give its channel up (its intake goes to IT meanwhile).
        await desk.command("hana", "ticket resolve 1 sorted with Pat")
        await desk.command("boss", f"helpdesk triage <#{HR_TRIAGE}|hr-triage> team facilities")
        assert "Team hr has no triage channel now" in desk.last().text, desk.last().text
