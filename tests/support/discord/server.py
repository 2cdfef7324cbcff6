"""A local fake of Discord for tests: REST at ``{url}/api/v10`` and a gateway at
``{ws_url}``, both served by aiohttp on 127.0.0.1.

It holds guilds, channels, threads, DMs and messages; records every REST call; honours
``nonce`` + ``enforce_nonce``; checks interaction tokens (3 s to acknowledge, 15 min of
follow-ups); and answers with injected faults (a 429 with or without ``Via``, a 403...).
Replies are JSON with ``Content-Type`` exactly ``application/json``, which discord.py needs.
User actions (messages, commands, button presses...) are in gateway.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.discord import payloads as p
from tests.support.discord.gateway import GatewayMixin
from tests.support.discord.rest import RestMixin


@dataclass
class Call:
    """One REST request the bot made, as the fake saw it."""

    method: str
    path: str
    body: Any
    query: dict[str, str]
    status: int = 0
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """An injected error: the next ``times`` requests matching answer ``status``."""

    method: str
    pattern: re.Pattern
    status: int
    code: int = 0
    retry_after: float | None = None
    via: bool = True
    times: int = 1
    applied: bool = False  # do the request, then answer with the error (a lost response)
    skip: int = 0  # let this many matching requests through first


@dataclass
class Interaction:
    """An interaction the fake dispatched, and how the bot answered it."""

    id: str
    token: str
    dispatched_at: float
    user_id: str
    message_id: str | None = None
    kind: int = 2  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    focused_type: int | None = None  # autocomplete: the type of the option being typed in
    acked_at: float | None = None
    response: dict | None = None
    original: dict | None = None
    followups: list[dict] = field(default_factory=list)
    channel_id: str | None = None  # where it happened (a modal a command opened is sent there)


class FakeDiscord(RestMixin, GatewayMixin):
    """One fake Discord: start it, point discord.py at ``api_url``/``gateway_url``."""

    def __init__(self, *, echo_bot_messages: bool = True) -> None:
        self.ids = p.Snowflakes()
        self.application_id = self.ids.next()
        self.bot = p.user(self.application_id, "Helpdesk", bot=True)
        # The application's flags: MESSAGE CONTENT switched on in the developer portal
        # (GATEWAY_MESSAGE_CONTENT_LIMITED, as for an app not yet verified); 0 means off.
        self.application_flags = 1 << 19
        self.echo_bot_messages = echo_bot_messages
        self.users: dict[str, dict] = {self.bot["id"]: self.bot}
        self.guilds: dict[str, dict] = {}  # id -> {"name", "owner", "admins", "members", ...}
        self.channels: dict[str, dict] = {}
        self.messages: dict[str, dict] = {}
        self.dm_channels: dict[str, str] = {}  # user id -> DM channel id
        self.nonces: dict[str, str] = {}  # nonce -> message id (the bot is the only author)
        self.uploads: dict[str, bytes] = {}  # attachment id -> the file's bytes
        self.commands: dict[str, list[dict]] = {}  # guild id -> synced commands
        self.rejected_commands: list[list[str]] = []  # problems of each refused sync
        self.interactions: dict[str, Interaction] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._init_gateway()

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> "FakeDiscord":
        """Serve REST and the gateway on a free loopback port."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        """Close every gateway session and stop serving."""
        await self.close_sessions()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """DISCORD_API_URL for the bot: the REST base including its version path."""
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        """DISCORD_GATEWAY_URL for the bot."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    # -- the world ---------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False) -> str:
        """A person (or, with ``bot``, another bot); returns their user id."""
        user_id = self.ids.next()
        self.users[user_id] = p.user(user_id, name, bot=bot)
        return user_id

    def add_guild(self, name: str, *, owner: str | None = None) -> str:
        """A guild the bot is in; returns its id. The owner is a member."""
        guild_id = self.ids.next()
        owner = owner or self.add_user(f"{name} owner")
        self.guilds[guild_id] = {"name": name, "owner": owner, "admins": set(),
                                 "members": {self.bot["id"], owner}, "channels": [],
                                 "roles": {}, "member_roles": {}}
        return guild_id

    def add_role(self, guild_id: str, name: str) -> str:
        """A role in ``guild_id`` (no permissions of its own); returns its id."""
        role_id = self.ids.next()
        self.guilds[guild_id]["roles"][role_id] = p.role(role_id, name, 0)
        self.dispatch_soon("GUILD_ROLE_CREATE", {"guild_id": guild_id,
                                                 "role": self.guilds[guild_id]["roles"][role_id]})
        return role_id

    def give_role(self, guild_id: str, user_id: str, role_id: str, *, given: bool = True) -> None:
        """Give ``user_id`` the role (or, with ``given=False``, take it away). Without the
        members intent the bot hears of it only in the member of their next event."""
        held = self.guilds[guild_id]["member_roles"].setdefault(user_id, [])
        if given and role_id not in held:
            held.append(role_id)
        elif not given and role_id in held:
            held.remove(role_id)

    def add_member(self, guild_id: str, user_id: str, *, admin: bool = False) -> None:
        """Make ``user_id`` a member; ``admin`` gives them Manage Server."""
        self.guilds[guild_id]["members"].add(user_id)
        if admin:
            self.guilds[guild_id]["admins"].add(user_id)

    def add_channel(self, guild_id: str, name: str, *, forum: bool = False) -> str:
        """A text (or forum) channel; returns its id."""
        channel_id = self.ids.next()
        self.channels[channel_id] = p.channel(channel_id, guild_id, name,
                                              p.FORUM if forum else p.TEXT)
        self.guilds[guild_id]["channels"].append(channel_id)
        return channel_id

    def member_payload(self, guild_id: str, user_id: str, *, with_permissions: bool = False):
        """The member object for ``user_id`` in ``guild_id``."""
        info = self.guilds[guild_id]
        perms = None
        if with_permissions:
            admin = user_id in info["admins"] or user_id == info["owner"]
            perms = p.EVERYONE_PERMISSIONS | (p.MANAGE_GUILD if admin else 0)
        roles = list(info["member_roles"].get(user_id, []))
        return p.member(self.users[user_id], roles=roles, permissions=perms)

    def guild_payload(self, guild_id: str) -> dict:
        """GUILD_CREATE for ``guild_id`` as it is now."""
        info = self.guilds[guild_id]
        channels = [self.channels[c] for c in info["channels"]
                    if self.channels[c]["type"] != p.PUBLIC_THREAD]
        threads = [c for c in self.channels.values()
                   if c.get("guild_id") == guild_id and c["type"] == p.PUBLIC_THREAD]
        return p.guild(guild_id, info["name"], info["owner"],
                       roles=[p.role(guild_id, "@everyone", p.EVERYONE_PERMISSIONS),
                              *info["roles"].values()],
                       channels=channels, threads=threads,
                       members=[self.member_payload(guild_id, self.bot["id"])])

    def dm_channel_for(self, user_id: str) -> str:
        """The DM channel between the bot and ``user_id`` (created on first use)."""
        if user_id not in self.dm_channels:
            channel_id = self.ids.next()
            self.channels[channel_id] = p.dm_channel(channel_id, self.users[user_id])
            self.dm_channels[user_id] = channel_id
        return self.dm_channels[user_id]

    # -- faults and observation -------------------------------------------------

    def fail(self, method: str, path: str, status: int, *, code: int = 0,
             retry_after: float | None = None, via: bool = True, times: int = 1,
             applied: bool = False, skip: int = 0) -> None:
        """Answer the next ``times`` requests whose path matches the regex ``path``
        with ``status`` (a 429 carries ``retry_after`` and, unless ``via`` is False,
        the ``Via`` header that tells discord.py it is Discord's own rate limit).
        ``applied`` carries the request out first, as when only the response is lost;
        ``skip`` lets that many matching requests through before the first fault."""
        self.faults.append(Fault(method, re.compile(path), status, code, retry_after, via, times,
                                 applied, skip))

    def calls_to(self, method: str, path: str = ".*") -> list[Call]:
        """Recorded calls with this method whose path matches the regex ``path``."""
        pattern = re.compile(path)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    def posts_in(self, channel_id: str) -> list[dict]:
        """Messages the bot created in ``channel_id`` (a channel, thread or DM), in order."""
        return [m for m in self.messages.values()
                if m["channel_id"] == channel_id and m["author"]["id"] == self.bot["id"]]

    async def wait_for(self, predicate, timeout: float = 10.0):
        """Wait until ``predicate()`` is truthy (re-checked on every change); return it."""
        async with self._changed:
            result = predicate()
            deadline = time.monotonic() + timeout
            while not result:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("the fake Discord never saw what the test waited for")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except asyncio.TimeoutError:
                    pass
                result = predicate()
            return result

    async def changed(self) -> None:
        """Wake every ``wait_for``."""
        async with self._changed:
            self._changed.notify_all()

    def _fault_for(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.pattern.fullmatch(path):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault
        return None

    @staticmethod
    def json_response(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
        """JSON exactly as discord.py wants it: no charset in the content type."""
        return web.Response(body=json.dumps(data).encode(), status=status,
                            headers={"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def error(cls, status: int, code: int, message: str) -> web.Response:
        """A Discord error body."""
        return cls.json_response({"code": code, "message": message}, status)

    def fault_response(self, fault: Fault) -> web.Response:
        """The response an injected fault produces."""
        if fault.status == 429:
            headers = {"Retry-After": str(fault.retry_after or 0),
                       "X-RateLimit-Scope": "user"}
            if fault.via:
                headers["Via"] = "1.1 google"
            return self.json_response({"message": "You are being rate limited.",
                                       "retry_after": fault.retry_after or 0, "global": False},
                                      429, headers)
        return self.error(fault.status, fault.code, f"injected {fault.status}")


def ephemeral_texts(interaction) -> list[str]:
    """What the bot told the person privately in answer to ``interaction``, in order:
    an immediate ephemeral answer (type 4) or the edited "thinking" state, then follow-ups."""
    texts: list[str] = []
    response = interaction.response or {}
    original = interaction.original
    immediate = response.get("type") == 4 and (response.get("data") or {}).get("flags", 0) & 64
    if original and (original.get("edited") or immediate) and not original["deleted"]:
        texts.append(original.get("content") or "")
    texts.extend(m["content"] for m in interaction.followups)
    return texts
