"""A team's name is never a person's, and a person is never taken for a team: names
that are mentions, pronouns or what the desk calls someone are refused when a team is
made or renamed, and every command that reads a team (``team <name>`` at the end,
``/ticket transfer``, ``/helpdesk oncall``) says so when it is given a person."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.tables import PersonRow, TeamRow
from tests.flows.story import FlowDesk
from tests.flows.test_teams import with_hr


async def _team_id(desk: FlowDesk, name: str) -> int:
    async with desk.db.unit_of_work() as uow:
        return (await uow.session.execute(select(TeamRow.id).where(TeamRow.name == name))
                ).scalar_one()


async def _people(desk: FlowDesk) -> set[str]:
    async with desk.db.unit_of_work() as uow:
        return set((await uow.session.execute(select(PersonRow.external_id))).scalars())


async def _team_names(desk: FlowDesk) -> set[str]:
    async with desk.db.unit_of_work() as uow:
        return set((await uow.session.execute(select(TeamRow.name))).scalars())


@pytest.mark.parametrize("name, says", [
    ("@hana", "“@hana” is a mention, of a person or a channel, so it can't be a team's "
              "name: commands would read it as that person or channel."),
    ("<@U7|hana>", "is a mention, of a person or a channel"),
    ("#hr", "“#hr” is a mention, of a person or a channel"),
    ("me", "“me” can't be a team's name: in a command it reads as a person, not a team."),
    ("You", "“you” can't be a team's name: in a command it reads as a person"),
    ("rota", "the desk already reads that word as something else in commands"),
])
async def test_a_mention_a_pronoun_or_a_command_word_is_no_teams_name(db_url, name, says):
    async with FlowDesk(db_url) as desk:
        await desk.command("boss", f"helpdesk team add {name}")
        said = desk.last().text
        assert says in said and "like hr or facilities" in said, said
        assert await _team_names(desk) == {"it"}


async def test_what_the_desk_calls_a_person_is_no_teams_name(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed(agents=("sam", "hana"))
        await desk.command("boss", "helpdesk team add Hana")
        assert desk.last().text.startswith(
            "“hana” can't be a team's name: it's also what the desk calls Hana, so `hana` "
            "in a command could mean either. Name the team for what it does, like hr or "
            "facilities, or hana-team.")
        await desk.command("boss", "helpdesk team add hr")
        await desk.command("boss", "helpdesk team rename hr sam")
        assert "it's also what the desk calls Sam" in desk.last().text
        assert await _team_names(desk) == {"it", "hr"}
        # Someone the desk does not know yet is no one's name: that team is made.
        await desk.command("boss", "helpdesk team add facilities")
        assert desk.last().text.startswith("Done: team facilities is set up.")


@pytest.mark.parametrize("line", [
    "helpdesk agents add <@omar|Omar> team <@hana|Hana>",
    "helpdesk agents add <@omar|Omar> team me",
    "helpdesk agents add <@omar|Omar> team hana",
    "helpdesk hours mon-fri 08:00-16:00 UTC team @hana",
])
async def test_a_person_after_team_is_said_to_be_a_person(db_url, line):
    async with FlowDesk(db_url) as desk:
        await with_hr(desk)
        await desk.command("boss", line)
        said = desk.last().text
        assert " is a person, not one of the desk's teams (it and hr), so nothing changed." \
            in said, said
        assert "omar" not in await _people(desk)


async def test_a_transfer_to_a_person_points_to_assign_and_moves_nothing(db_url):
    async with FlowDesk(db_url) as desk:
        await with_hr(desk)
        await desk.dm("ann", "Question about my parental leave")
        for word in ("<@hana|Hana>", "me", "hana"):
            await desk.command("sam", f"ticket transfer 1 {word} she knows this")
            said = desk.last().text
            assert said.startswith(f"“{word}” is a person, not a team, so #1 stays where it "
                                   f"is: to give it to someone, use `/ticket assign 1 {word}`;"
                                   " to move it to another team, name one of it and hr."), said
        ticket = await desk.ticket(1)
        assert ticket.team_id == (await _team_id(desk, "it"))
        # "team hr" reads as people say it.
        await desk.command("sam", "ticket transfer 1 team hr this is about leave")
        assert desk.last().text.startswith("Done: #1 is now with team hr")
        assert (await desk.ticket(1)).team_id == (await _team_id(desk, "hr"))


async def test_oncall_given_a_lead_first_says_the_team_comes_first(db_url):
    async with FlowDesk(db_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.command("boss", "helpdesk oncall <@lee|Lee>")
        said = desk.last().text
        assert said.startswith("“<@lee|Lee>” is a person, not a team: the team comes first, "
                               "then the lead (`/helpdesk oncall it <@lee|Lee>`)."), said
        await desk.command("boss", "helpdesk oncall lee")
        assert desk.last().text.startswith("“lee” is a person, not a team")
        await desk.command("boss", "helpdesk oncall it lee")
        assert desk.last().text.startswith("Done")


async def test_assigning_to_a_team_points_to_transfer(db_url):
    async with FlowDesk(db_url) as desk:
        await with_hr(desk)
        await desk.dm("ann", "Question about my parental leave")
        for words in ("hr", "team hr"):
            await desk.command("sam", f"ticket assign 1 {words}")
            assert desk.last().text.startswith(
                "“hr” is one of the desk's teams, not a person, so #1 stays with whoever has "
                "it: to move it to team hr, use `/ticket transfer 1 hr`."), desk.last().text
        assert (await desk.ticket(1)).team_id == await _team_id(desk, "it")
        assert "hr" not in await _people(desk)
