"""The fake Discord's gateway, and what people do there.

The gateway speaks the real protocol over a websocket: HELLO (op 10), IDENTIFY (op 2)
answered by READY (with ``resume_gateway_url`` pointing back here) and a GUILD_CREATE per
guild, heartbeats (op 1) answered by op 11, RESUME answered by RESUMED. Events go out as
op 0 with a sequence number, in the order they were made.

The user actions below (``say``, ``dm``, ``forum_post``, ``react``, ``command``,
``press``, ``submit``) store what a person did and dispatch it as Discord would.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.discord import payloads as p

HEARTBEAT_MS = 41250
MESSAGE_CONTENT = 1 << 15


class _Session:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.seq = 0
        self.ready = False
        self.outgoing: asyncio.Queue = asyncio.Queue()


class GatewayMixin:
    """Gateway and user actions of :class:`tests.support.discord.server.FakeDiscord`."""

    def _init_gateway(self) -> None:
        self.sessions: list[_Session] = []
        self.identified: list[dict] = []  # every IDENTIFY payload received
        self.resumed: list[dict] = []  # every RESUME payload received
        self.heartbeats = 0
        self.privileged_intents_allowed = True  # False: close with 4014 like Discord
        # Event names not sent to the bot, as when another process made the change and
        # this one's gateway has not told it yet.
        self.muted: set[str] = set()

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        session = _Session(ws)
        self.sessions.append(session)
        writer = asyncio.create_task(self._write(session))
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}}))
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                message = json.loads(frame.data)
                if message["op"] == 1:
                    self.heartbeats += 1
                    session.outgoing.put_nowait({"op": 11})
                elif message["op"] == 2:
                    self.identified.append(message["d"])
                    if not self.privileged_intents_allowed and \
                            message["d"]["intents"] & MESSAGE_CONTENT:
                        await ws.close(code=4014, message=b"Disallowed intent(s).")
                        break
                    self._ready(session)
                    await self.changed()
                elif message["op"] == 6:
                    self.resumed.append(message["d"])
                    session.ready = True
                    self._event(session, "RESUMED", {})
                    await self.changed()
        finally:
            writer.cancel()
            self.sessions.remove(session)
        return ws

    def _ready(self, session: _Session) -> None:
        self._event(session, "READY", {
            "v": 10, "user": self.bot, "session_id": self.ids.next(),
            "resume_gateway_url": self.gateway_url, "shard": [0, 1],
            "guilds": [{"id": g, "unavailable": True} for g in self.guilds],
            "application": {"id": self.application_id, "flags": 0},
            "private_channels": [], "relationships": []})
        for guild_id in self.guilds:
            self._event(session, "GUILD_CREATE", self.guild_payload(guild_id))
        session.ready = True

    def _event(self, session: _Session, name: str, data: dict) -> None:
        session.seq += 1
        session.outgoing.put_nowait({"op": 0, "t": name, "s": session.seq, "d": data})

    async def _write(self, session: _Session) -> None:
        while True:
            frame = await session.outgoing.get()
            await session.ws.send_str(json.dumps(frame))

    def dispatch_soon(self, name: str, data: dict) -> None:
        """Send an event to every identified session, after what is already queued."""
        if name in self.muted:
            return
        for session in self.sessions:
            if session.ready:
                self._event(session, name, data)

    async def close_sessions(self) -> None:
        """Drop every gateway connection."""
        for session in list(self.sessions):
            await session.ws.close()

    # -- what people do ----------------------------------------------------------

    def say(self, user_id: str, channel_id: str, text: str, *, mention_bot: bool = False,
            reply_to: str | None = None) -> dict:
        """``user_id`` writes ``text`` in a channel, thread or DM channel."""
        mentions = [self.bot] if mention_bot else []
        if mention_bot:
            text = f"<@{self.bot['id']}> {text}"
        extra: dict[str, Any] = {"mentions": mentions}
        if reply_to is not None:
            extra["message_reference"] = {"message_id": reply_to, "channel_id": channel_id}
            extra["referenced_message"] = self.messages.get(reply_to)
            extra["type"] = 19
        message = self.store_message(channel_id, self.users[user_id], text, **extra)
        self.dispatch_soon("MESSAGE_CREATE", message)
        return message

    def dm(self, user_id: str, text: str, *, reply_to: str | None = None) -> dict:
        """``user_id`` writes ``text`` to the bot directly."""
        return self.say(user_id, self.dm_channel_for(user_id), text, reply_to=reply_to)

    def forum_post(self, user_id: str, forum_id: str, title: str, text: str) -> dict:
        """``user_id`` opens a post in a forum channel: a thread whose first message has
        the thread's id."""
        thread_id = self.ids.next()
        self.create_thread(forum_id, thread_id, title, user_id)
        message = self.store_message(thread_id, self.users[user_id], text, id=thread_id)
        self.dispatch_soon("MESSAGE_CREATE", message)
        return message

    def react(self, user_id: str, message_id: str, emoji: str = "🎫") -> None:
        """``user_id`` adds a reaction to a message."""
        message = self.messages[message_id]
        channel = self.channels[message["channel_id"]]
        data = {"user_id": user_id, "channel_id": channel["id"], "message_id": message_id,
                "emoji": {"id": None, "name": emoji}, "burst": False, "type": 0,
                "message_author_id": message["author"]["id"]}
        if channel.get("guild_id"):
            data["guild_id"] = channel["guild_id"]
            data["member"] = self.member_payload(channel["guild_id"], user_id)
        self.dispatch_soon("MESSAGE_REACTION_ADD", data)

    def _new_interaction(self, user_id: str, channel_id: str, kind: int, data: dict,
                         message: dict | None = None, at=None):
        from tests.support.discord.server import Interaction
        channel = self.channels[channel_id]
        guild_id = channel.get("guild_id")
        interaction_id = self.ids.next(at)  # ``at``: an interaction made long ago
        token = f"tok-{interaction_id}"
        member = self.member_payload(guild_id, user_id, with_permissions=True) if guild_id else None
        payload = p.interaction(interaction_id, self.application_id, kind, data, token=token,
                                channel_payload=channel, guild_id=guild_id, member_payload=member,
                                user_payload=self.users[user_id], message_payload=message)
        record = Interaction(interaction_id, token, time.monotonic(), user_id,
                             message_id=message["id"] if message else None)
        self.interactions[interaction_id] = record
        self.dispatch_soon("INTERACTION_CREATE", payload)
        return record

    def command(self, user_id: str, channel_id: str, line: str, *, at=None):
        """``user_id`` runs a synced slash command: ``command(u, c, "/ticket claim 4")``;
        ``at`` backdates the interaction (its token then expires sooner)."""
        name, _, rest = line.lstrip("/").partition(" ")
        word, _, args = rest.strip().partition(" ")
        guild_id = self.channels[channel_id]["guild_id"]
        synced = {c["name"]: c for c in self.commands.get(guild_id, [])}
        assert name in synced, f"/{name} is not synced in guild {guild_id}"
        subs = {o["name"] for o in synced[name].get("options", []) if o["type"] == 1}
        if subs:
            assert word in subs, f"/{name} has no sub-command {word!r}"
            inner = [{"type": 3, "name": "args", "value": args.strip()}] if args.strip() else []
            options = [{"type": 1, "name": word, "options": inner}]
        else:
            options = [{"type": 3, "name": "args", "value": rest.strip()}] if rest.strip() else []
        data = {"id": synced[name]["id"], "name": name, "type": 1, "options": options,
                "guild_id": guild_id}
        return self._new_interaction(user_id, channel_id, 2, data, at=at)

    def buttons(self, message_id: str) -> list[dict]:
        """The buttons under a message, in order."""
        message = self.messages[message_id]
        return [b for row in message.get("components", []) for b in row.get("components", [])]

    def press(self, user_id: str, message_id: str, label: str):
        """``user_id`` presses the button labelled ``label`` (or with that custom id)."""
        button = next(b for b in self.buttons(message_id)
                      if label in (b.get("label"), b.get("custom_id")))
        message = self.messages[message_id]
        return self._new_interaction(user_id, message["channel_id"], 3,
                                     {"custom_id": button["custom_id"], "component_type": 2},
                                     message)

    def submit(self, user_id: str, opened_by, values: dict[str, str]):
        """``user_id`` fills in and submits the modal the bot answered ``opened_by`` with."""
        assert opened_by.response and opened_by.response["type"] == 9, "no modal was opened"
        modal = opened_by.response["data"]
        fields = []
        for row in modal["components"]:
            inner = row.get("component") or row["components"][0]
            value = {"type": 4, "custom_id": inner["custom_id"],
                     "value": values.get(inner["custom_id"], "")}
            fields.append({"type": 18, "component": value} if row["type"] == 18
                          else {"type": 1, "components": [value]})
        source = self.messages.get(opened_by.message_id or "")
        channel_id = source["channel_id"] if source else self.dm_channel_for(user_id)
        return self._new_interaction(user_id, channel_id, 5,
                                     {"custom_id": modal["custom_id"], "components": fields},
                                     source)
