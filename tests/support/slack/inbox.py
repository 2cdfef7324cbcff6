"""What the inbox tests share: reading the inbox and tickets, and a router held back so an
event is acknowledged and not yet handled."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.storage.tables import InboxRow, TicketRow


async def inbox_rows(desk) -> list[InboxRow]:
    """Every inbox row, as the database has it."""
    async with desk.db.reading() as uow:
        return list((await uow.session.execute(select(InboxRow))).scalars())


async def tickets(desk) -> list[TicketRow]:
    """Every ticket row."""
    async with desk.db.reading() as uow:
        return list((await uow.session.execute(select(TicketRow))).scalars())


class Held:
    """The router, held until released: what Slack sent is acknowledged and not yet
    handled."""

    def __init__(self, desk) -> None:
        self.router, self.release, self.entered = desk.router, asyncio.Event(), asyncio.Event()
        desk.adapter._sink = self

    async def __call__(self, event) -> None:
        self.entered.set()
        await self.release.wait()
        await self.router(event)
