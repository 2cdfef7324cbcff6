"""Permissions: requesters cannot use agent or admin commands, agents cannot use admin
commands, and a refused command changes nothing at all.

Each refusal is a short, private apology that names what was asked for and who may do
it; the ticket, its promises and timeline, the desk's settings and everyone's roles are
exactly as they were.
"""

from __future__ import annotations

import pytest

from bot.domain.people import Role
from tests.flows.story import FlowDesk
from tests.support.harness import WORKSPACE

AGENT_COMMANDS = {
    "ticket claim 1": "claiming tickets",
    "ticket assign 1 <@bob|Bob>": "assigning tickets",
    "ticket reply 1 All fixed!": "replying on tickets",
    "ticket note 1 nothing to see": "adding internal notes",
    "ticket followup 1 2h": "promising follow-ups",
    "ticket priority 1 P1": "changing priorities",
    "ticket wait 1 requester": "putting tickets on hold",
    "ticket escalate 1 because": "escalating tickets",
    "ticket resolve 1 done": "resolving tickets",
    "ticket queue": "the queue",
}
ADMIN_COMMANDS = {
    "helpdesk agents add <@bob|Bob>": "changing who the agents are",
    "helpdesk leads add <@bob|Bob>": "changing who the leads are",
    "helpdesk intake <#C-random|random>": "choosing intake channels",
    "helpdesk triage <#C-random|random>": "choosing the triage channel",
    "helpdesk show": "showing the desk's setup",
    "helpdesk promises": "the promise report",
    "helpdesk hours mon-sun 00:00-24:00 UTC": "changing business hours",
    "helpdesk holiday add 2030-06-04": "changing holidays",
    "helpdesk sla P3 first=1h": "changing SLA targets",
    "helpdesk panel": "posting the intake panel",
}


async def _state(desk: FlowDesk) -> tuple:
    """Everything a command could change: the ticket, its promises and timeline, the
    workspace's settings and channels, and everyone's roles."""
    ticket = await desk.ticket(1)
    promises = [(p.kind, p.status, p.due_at) for p in await desk.promises(1)]
    timeline = [(e.kind, e.body) for e in await desk.timeline(1)]
    async with desk.db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure(desk.platform, WORKSPACE, WORKSPACE, desk.clock.now())
        channels = (await uow.workspaces.channels(ws.id, "intake"),
                    await uow.workspaces.channels(ws.id, "triage"))
        # (Someone acting for the first time is recorded as a requester; that is no change.)
        roles = {r: [p.external_id for p in await uow.people.with_role(ws.id, r)]
                 for r in Role if r is not Role.REQUESTER}
    return ticket, promises, timeline, ws.settings, channels, roles


async def _refused(desk: FlowDesk, user: str, commands: dict[str, str], role: str) -> None:
    """``user`` runs each of ``commands``; each is refused privately and nothing changes."""
    before = await _state(desk)
    for line, action in commands.items():
        mark = len(desk.adapter.sent)
        await desk.command(user, line)
        [answer] = desk.since(mark)
        assert answer.message.ephemeral_to == user
        assert answer.text == (f"Sorry, {action} is for {role}s of the desk. If you need it, "
                               "ask an admin of the help desk."), line
    assert await _state(desk) == before


@pytest.fixture
async def desk(sqlite_url):
    """A staffed desk where Ann has ticket #1 open."""
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops")
        yield desk


async def test_a_requester_cannot_use_any_agent_command(desk):
    await _refused(desk, "ann", AGENT_COMMANDS, "agent")  # not even on her own ticket
    await _refused(desk, "bob", AGENT_COMMANDS, "agent")


async def test_a_requester_cannot_use_any_admin_command(desk):
    await _refused(desk, "ann", ADMIN_COMMANDS, "admin")


async def test_an_agent_cannot_use_any_admin_command(desk):
    await _refused(desk, "sam", ADMIN_COMMANDS, "admin")


async def test_an_agent_removed_from_the_desk_loses_agent_commands(desk):
    await desk.command("boss", "helpdesk agents remove <@sam|Sam>")
    assert desk.last().text == "Done: Sam can no longer work the desk as an agent."
    await _refused(desk, "sam", {"ticket claim 1": "claiming tickets"}, "agent")


async def test_a_platform_admin_may_configure_the_desk(desk):
    await desk.command("owner", "helpdesk leads add <@lee|Lee>", is_platform_admin=True)
    assert desk.last().text == "Done: Lee can now work the desk as a lead."


async def test_removing_one_agent_reads_as_good_english(desk):
    await desk.command("boss", "helpdesk agents remove <@sam|Sam>")
    assert desk.last().text == "Done: Sam can no longer work the desk as an agent."
