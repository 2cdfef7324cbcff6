"""Issue 18: PostgreSQL restarted (or its connections cut) while the desk works.

The desk's database sits behind a proxy the test can cut: every connection dropped,
nothing listening for a moment, then back, as a ``pg_ctlcluster ... restart`` looks to
the desk. An event being handled then is retried on a fresh connection and handled
once, where it used to be answered with an apology and lost.

The real restart, with traffic, is ``tests/web/test_pg_restart.py`` (only with
HELPDESK_TEST_PG_RESTART=1).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.engine import make_url

from bot.desk.features import intake
from tests.flows.story import FlowDesk
from tests.web.process import TcpProxy

pytestmark = pytest.mark.postgres


class CutOnce:
    """Cuts the database's connections the first time the desk opens a ticket's
    transaction, and lets it back ``away`` seconds later."""

    def __init__(self, proxy: TcpProxy, away: float) -> None:
        self.proxy, self.away, self.cut = proxy, away, False
        self.back: asyncio.Task | None = None

    async def __call__(self) -> None:
        if self.cut:
            return
        self.cut = True
        await self.proxy.close()

        async def reopen() -> None:
            await asyncio.sleep(self.away)
            await self.proxy.open()
        self.back = asyncio.create_task(reopen())


async def test_an_event_handled_while_the_database_restarts_is_handled_once(postgres_url):
    url = make_url(postgres_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).open()
    through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        async with FlowDesk(through) as desk:
            await desk.staffed()
            cut = CutOnce(proxy, away=0.5)

            real = intake.open_ticket

            async def cut_then_open(*args, **kwargs):
                await cut()
                return await real(*args, **kwargs)

            intake.open_ticket = cut_then_open
            try:
                await desk.dm("ann", "The VPN drops every hour")
            finally:
                intake.open_ticket = real
            if cut.back is not None:
                await cut.back
            assert cut.cut
            assert await desk.ticket_count() == 1
            assert not any("reference" in t.lower() for t in desk.texts())
            assert desk.ack(1).text.startswith("Thanks, Ann. I've opened ticket #1")
    finally:
        await proxy.close()
