"""Choosing the desk's channels: a direct message or something that is no channel is
refused with the reason, and nothing changes."""

from __future__ import annotations

import pytest

from tests.flows.story import FlowDesk
from tests.support.harness import WORKSPACE


async def _channels(desk: FlowDesk) -> tuple:
    async with desk.db.unit_of_work() as uow:
        ws = await uow.workspaces.ensure(desk.platform, WORKSPACE, WORKSPACE, desk.clock.now())
        return (await uow.workspaces.channels(ws.id, "triage"),
                await uow.workspaces.channels(ws.id, "intake"))


@pytest.mark.parametrize("purpose", ["triage", "intake"])
async def test_run_in_a_direct_message_with_no_channel_named_is_refused(sqlite_url, purpose):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        before = await _channels(desk)
        await desk.command("boss", f"helpdesk {purpose}", is_direct=True)
        assert desk.last().message.ephemeral_to == "boss"
        assert desk.last().text == (
            "This is a direct message, not a channel, so I can't send the desk's work here. "
            f"Run `/helpdesk {purpose}` in the channel you mean, or name it: "
            f"`/helpdesk {purpose} #channel`.")
        assert await _channels(desk) == before
        # Naming the direct message itself is the same thing.
        await desk.command("boss", f"helpdesk {purpose} <#D-boss>", is_direct=True)
        assert desk.last().text.startswith("This is a direct message, not a channel")
        assert await _channels(desk) == before


@pytest.mark.parametrize("args", ["<@U123|bob>", "@bob", "the triage one", "<#C1> <#C2>"])
async def test_something_that_is_no_channel_is_refused(sqlite_url, args):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        before = await _channels(desk)
        await desk.command("boss", f"helpdesk triage {args}")
        assert desk.last().text == ("I couldn't tell which channel you meant. Usage: "
                                    "`/helpdesk triage <channel> [team <name>]` (or run it in the channel "
                                    "itself).")
        assert await _channels(desk) == before


async def test_run_in_a_channel_it_becomes_the_triage_channel(sqlite_url):
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed(triage=None)
        await desk.command("boss", "helpdesk triage", channel="C-it")
        assert desk.last().text == "<#C-it> is now the desk's triage channel."
        assert (await _channels(desk))[0] == ["C-it"]
