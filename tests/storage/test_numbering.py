"""Ticket numbers are sequential per workspace, with no gaps or duplicates under load."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.storage.tables import TicketRow
from tests.support.harness import DeskHarness


async def test_fifty_concurrent_openers_get_one_to_fifty(db_url):
    async with DeskHarness(db_url) as desk:
        await asyncio.gather(*(desk.router(
            desk_event(desk, f"user{i}", f"Problem number {i}")) for i in range(50)))
        async with desk.db.unit_of_work() as uow:
            numbers = sorted((await uow.session.execute(select(TicketRow.number))).scalars())
        assert numbers == list(range(1, 51))
        await desk.dispatcher.drain()
        acks = [s.text for s in desk.adapter.sent]
        assert len(acks) == 50
        assert sorted(int(t.split("ticket #")[1].split(" ")[0]) for t in acks) == list(range(1, 51))


async def test_numbers_are_per_workspace(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        await desk.dm("ann", "Printer is jammed")
        other = desk_event(desk, "bob", "Laptop will not boot", workspace="T-other")
        await desk.router(other)
        await desk.dm("cy", "Need a new mouse")
        await desk.dispatcher.drain()
        texts = [s.text for s in desk.adapter.sent]
        assert "Ann" in texts[0] and "ticket #1" in texts[0]
        assert "Bob" in texts[1] and "ticket #1" in texts[1]  # another workspace starts at 1
        assert "Cy" in texts[2] and "ticket #2" in texts[2]


async def test_a_rolled_back_opening_gives_its_number_back(sqlite_url):
    async with DeskHarness(sqlite_url) as desk:
        ws = None
        async with desk.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure("test", "T-test", "T", desk.clock.now())
        try:
            async with desk.db.unit_of_work() as uow:
                assert await uow.workspaces.take_ticket_number(ws.id) == 1
                raise RuntimeError("handler failed half-way")
        except RuntimeError:
            pass
        await desk.dm("ann", "Printer is jammed")
        assert "ticket #1" in desk.adapter.sent[0].text


def desk_event(desk: DeskHarness, user: str, text: str, workspace: str = "T-test"):
    """A direct message event, not yet delivered."""
    from bot.core import IncomingMessage
    message_id = desk.next_id("msg")
    return IncomingMessage(platform="test", workspace_id=workspace, event_id=message_id,
                           actor=desk.actor(user), channel_id=f"D-{user}", text=text,
                           message_id=message_id, is_direct=True)
