"""A desk with its dashboard served on a real local port: the FlowDesk (pinned clock,
recording adapter) plus the web server, so a test can ask for a link in chat and sign in
over HTTP (or in a browser) with it."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from bot.core import CommandInvoked
from bot.settings import Secret
from bot.web import WebServer
from bot.web.dashboard import mount_dashboard
from tests.flows.story import FlowDesk

KEY = "k" * 16 + "0123456789abcdefghijklmnop"
LINK = re.compile(r"(https?://\S+/dashboard/login\?token=[A-Za-z0-9_%-]+)")


class DashboardDesk(FlowDesk):
    """A FlowDesk whose dashboard listens on 127.0.0.1 (a free port)."""

    def __init__(self, url: str, *, public_url: str = "", **kw) -> None:
        super().__init__(url, **kw)
        self.desk.settings = replace(self.settings, secret_key=Secret(KEY), public_url=public_url)
        self.web = WebServer("127.0.0.1", 0, public_url)
        self.dashboard = mount_dashboard(self.web, self.db, self.desk.templates, KEY,
                                         public_url, self.clock, self.desk.policy,
                                         admins=frozenset(self.desk.admins))
        self.desk.web_url = self.web.url_for

    async def __aenter__(self) -> "DashboardDesk":
        await super().__aenter__()
        await self.web.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.web.stop()
        await super().__aexit__(*exc)

    async def link_for(self, user: str, *, workspace: str | None = None) -> str:
        """``user`` asks for a dashboard link a minute after what came before (the
        clock stands still otherwise, and a period ends, exclusive, at its "now")."""
        await self.advance(timedelta(minutes=1))
        if workspace is None:
            await self.command(user, "helpdesk dashboard")
        else:
            await self.deliver(CommandInvoked(
                platform=self.platform, workspace_id=workspace, event_id=self.next_id("cmd"),
                actor=self.actor(user), channel_id=f"D-{user}", name="helpdesk",
                text="dashboard", is_direct=True))
        answer = self.last()
        assert answer.message.ephemeral_to == user
        found = LINK.search(answer.text)
        assert found, answer.text
        return found.group(1)
