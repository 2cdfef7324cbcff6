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
                         message: dict | None = None, at=None, focused_type: int | None = None):
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
                             message_id=message["id"] if message else None, kind=kind,
                             focused_type=focused_type, channel_id=channel_id)
        self.interactions[interaction_id] = record
        self.dispatch_soon("INTERACTION_CREATE", payload)
        return record

    # -- slash commands, as a Discord client sends them ------------------------------

    def synced_options(self, guild_id: str, name: str, word: str | None) -> list[dict]:
        """The options of ``/name word`` (or of ``/name``) as the bot registered them."""
        synced = {c["name"]: c for c in self.commands.get(guild_id, [])}
        assert name in synced, f"/{name} is not synced in guild {guild_id}"
        options = synced[name].get("options") or []
        if word is None:
            return options
        sub = next((o for o in options if o["type"] == 1 and o["name"] == word), None)
        assert sub is not None, f"/{name} has no sub-command {word!r}"
        return sub.get("options") or []

    def invoke(self, user_id: str, channel_id: str, name: str, word: str | None,
               options: list[dict], *, at=None, autocomplete: bool = False):
        """``user_id`` sends ``/name word`` with these option objects (``{"type", "name",
        "value"}``, one of them ``focused`` for autocomplete) exactly as given: the way
        to send what a Discord client would not (a missing option, a value out of range).
        User and channel options are resolved in ``data.resolved`` as Discord does."""
        guild_id = self.channels[channel_id]["guild_id"]
        synced = {c["name"]: c for c in self.commands.get(guild_id, [])}
        assert name in synced, f"/{name} is not synced in guild {guild_id}"
        data: dict[str, Any] = {
            "id": synced[name]["id"], "name": name, "type": 1, "guild_id": guild_id,
            "options": [{"type": 1, "name": word, "options": options}] if word else options}
        resolved = self._resolved(guild_id, options)
        if resolved:
            data["resolved"] = resolved
        focused = next((o for o in options if o.get("focused")), None)
        return self._new_interaction(user_id, channel_id, 4 if autocomplete else 2, data, at=at,
                                     focused_type=focused["type"] if focused else None)

    def _resolved(self, guild_id: str, options: list[dict]) -> dict:
        resolved: dict[str, dict] = {}
        for option in options:
            if option.get("focused"):
                continue
            value = str(option.get("value"))
            if option["type"] == 6 and value in self.users:
                resolved.setdefault("users", {})[value] = self.users[value]
                if value in self.guilds[guild_id]["members"]:
                    member = self.member_payload(guild_id, value, with_permissions=True)
                    resolved.setdefault("members", {})[value] = {
                        k: v for k, v in member.items() if k != "user"}
            elif option["type"] == 7 and value in self.channels:
                channel = self.channels[value]
                resolved.setdefault("channels", {})[value] = {
                    "id": value, "name": channel.get("name"), "type": channel["type"],
                    "permissions": str(p.EVERYONE_PERMISSIONS),
                    **({"parent_id": channel["parent_id"]} if channel.get("parent_id") else {})}
        return resolved

    def command(self, user_id: str, channel_id: str, line: str, *, at=None, **named):
        """``user_id`` runs a synced slash command, filled in as a person would in
        Discord's command picker: ``command(u, c, "/ticket claim 4")``. Words fill the
        sub-command's options in order (the last option takes the rest of the line),
        each as its registered type: ``4`` or ``#4`` an integer, ``<@id>`` a user,
        ``<#id>`` a channel; ``named`` sets options by name (``text="two words"``).
        ``at`` backdates the interaction (its token then expires sooner)."""
        name, _, rest = line.lstrip("/").partition(" ")
        guild_id = self.channels[channel_id]["guild_id"]
        top = self.synced_options(guild_id, name, None)
        word = None
        if any(o["type"] == 1 for o in top):
            word, _, rest = rest.strip().partition(" ")
        schema = self.synced_options(guild_id, name, word)
        options = self._fill(schema, rest, named)
        return self.invoke(user_id, channel_id, name, word, options, at=at)

    def autocomplete(self, user_id: str, channel_id: str, line: str, option: str, typed: str,
                     **named):
        """``user_id`` types ``typed`` into the ``option`` of ``line`` (``"/ticket claim"``)
        in Discord's command picker: an APPLICATION_COMMAND_AUTOCOMPLETE interaction with
        that option focused, its value the text typed so far."""
        name, _, word = line.lstrip("/").partition(" ")
        guild_id = self.channels[channel_id]["guild_id"]
        schema = self.synced_options(guild_id, name, word.strip() or None)
        spec = next(o for o in schema if o["name"] == option)
        assert spec.get("autocomplete"), f"{option} of {line} has no autocomplete"
        options = self._fill(schema, "", named)
        options.append({"type": spec["type"], "name": option, "value": typed, "focused": True})
        return self.invoke(user_id, channel_id, name, word.strip() or None, options,
                           autocomplete=True)

    @staticmethod
    def _fill(schema: list[dict], rest: str, named: dict) -> list[dict]:
        words = rest.split()
        positional = [o for o in schema if o["name"] not in named]
        filled = []
        for option in schema:
            if option["name"] in named:
                value = named[option["name"]]
                if value is not None:
                    filled.append({"type": option["type"], "name": option["name"],
                                   "value": value})
                continue
            if not words:
                continue
            last = option is positional[-1]
            text = " ".join(words) if last and option["type"] == 3 else words.pop(0)
            if last and option["type"] == 3:
                words = []
            filled.append({"type": option["type"], "name": option["name"],
                           "value": _typed(option["type"], text)})
        assert not words, f"words left over: {words}"
        return filled

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
        channel_id = source["channel_id"] if source else \
            (opened_by.channel_id or self.dm_channel_for(user_id))
        return self._new_interaction(user_id, channel_id, 5,
                                     {"custom_id": modal["custom_id"], "components": fields},
                                     source)


def _typed(kind: int, text: str):
    """A word as a Discord client would send it for an option of ``kind``."""
    if kind == 4:
        digits = text.lstrip("#")
        return int(digits) if digits.lstrip("-").isdigit() else text
    if kind in (6, 7):
        return text.strip("<@!#>")
    return text
