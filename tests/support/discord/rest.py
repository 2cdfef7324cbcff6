"""The fake Discord's REST endpoints: the ones discord.py and the desk's adapter call.

Each handler takes the path's parameters and the JSON body and returns an aiohttp
response. Requests are validated the way Discord does where it matters to the
adapter: 2,000 characters of content, 100-character custom ids, 25-character nonces,
5 rows of 5 buttons, the 3-second first response and 15-minute tokens.
"""

from __future__ import annotations

import re
import time

from aiohttp import web

from tests.support.discord import payloads as p
from tests.support.discord import schema

TOKEN_LIFETIME = 15 * 60
FIRST_RESPONSE_LIMIT = 3.0


class RestMixin:
    """REST routes of :class:`tests.support.discord.server.FakeDiscord`."""

    def _routes(self):
        return [
            ("GET", r"/users/@me", self._me),
            ("GET", r"/oauth2/applications/@me", self._application),
            ("GET", r"/gateway(/bot)?", self._gateway_info),
            ("GET", r"/channels/(\d+)", self._get_channel),
            ("POST", r"/channels/(\d+)/messages", self._create_message),
            ("GET", r"/channels/(\d+)/messages/(\d+)", self._get_message),
            ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message),
            ("POST", r"/channels/(\d+)/messages/(\d+)/threads", self._thread_from_message),
            ("POST", r"/channels/(\d+)/threads", self._forum_post),
            ("POST", r"/users/@me/channels", self._open_dm),
            ("GET", r"/guilds/(\d+)/members/(\d+)", self._get_member),
            ("GET", r"/guilds/(\d+)/threads/active", self._active_threads),
            ("PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self._sync_commands),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", r"/webhooks/(\d+)/([^/]+)", self._followup),
            ("PATCH", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._edit_original),
            ("DELETE", r"/webhooks/(\d+)/([^/]+)/messages/@original", self._delete_original),
        ]

    async def _rest(self, request: web.Request) -> web.Response:
        from tests.support.discord.server import Call
        path = "/" + request.match_info["tail"]
        body = await request.json() if request.can_read_body and \
            request.content_type == "application/json" else None
        if request.can_read_body and request.content_type == "multipart/form-data":
            body = await _multipart(request)
        call = Call(request.method, path, body, dict(request.query))
        self.calls.append(call)
        fault = self._fault_for(request.method, path)
        if fault is not None:
            if fault.applied:
                self._route(request.method, path, body or {})
            response = self.fault_response(fault)
        elif request.headers.get("Authorization") != "Bot fake-token" \
                and not path.startswith(("/webhooks/", "/interactions/")):
            response = self.error(401, 0, "401: Unauthorized")
        else:
            response = self._route(request.method, path, body or {})
        call.status = response.status
        await self.changed()
        return response

    def _route(self, method: str, path: str, body: dict) -> web.Response:
        for verb, pattern, handler in self._routes():
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                return handler(*match.groups(), body=body)
        return self.error(404, 0, f"404: Not Found ({method} {path})")

    # -- identity ----------------------------------------------------------------

    def _me(self, *_, body) -> web.Response:
        return self.json_response(self.bot)

    def _application(self, *_, body) -> web.Response:
        return self.json_response({
            "id": self.application_id, "name": "Helpdesk", "icon": None, "description": "",
            "bot_public": True, "bot_require_code_grant": False, "owner": self.bot,
            "verify_key": "0" * 64, "flags": self.application_flags, "team": None})

    def _gateway_info(self, *_, body) -> web.Response:
        return self.json_response({"url": self.gateway_url, "shards": 1})

    # -- channels and messages ---------------------------------------------------

    def _get_channel(self, channel_id: str, *, body) -> web.Response:
        if channel_id not in self.channels:
            return self.error(404, 10003, "Unknown Channel")
        return self.json_response(self.channels[channel_id])

    def _get_message(self, channel_id: str, message_id: str, *, body) -> web.Response:
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            return self.error(404, 10008, "Unknown Message")
        return self.json_response(message)

    def _invalid(self, body: dict) -> str | None:
        if len(body.get("content") or "") > 2000:
            return "content: Must be 2000 or fewer in length."
        nonce = body.get("nonce")
        if isinstance(nonce, str) and len(nonce) > 25:
            return "nonce: Must be 25 or fewer in length."
        rows = body.get("components") or []
        if len(rows) > 5 or any(len(r.get("components", [])) > 5 for r in rows):
            return "components: Must be 5 or fewer in length."
        for row in rows:
            for item in row.get("components", []):
                if len(item.get("custom_id", "")) > 100:
                    return "custom_id: Must be 100 or fewer in length."
        total = 0
        for embed in body.get("embeds") or []:
            if len(embed.get("description") or "") > 4096 or len(embed.get("title") or "") > 256:
                return "embeds: too long."
            fields = embed.get("fields") or []
            if len(fields) > 25 or any(len(f.get("name") or "") > 256
                                       or len(f.get("value") or "") > 1024 for f in fields):
                return "embeds: fields too long."
            total += sum(len(embed.get(k) or "") for k in ("title", "description"))
            total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
        if total > 6000:
            return "embeds: Embed size exceeds maximum size of 6000."
        return None

    def _create_message(self, channel_id: str, *, body) -> web.Response:
        channel = self.channels.get(channel_id)
        if channel is None:
            return self.error(404, 10003, "Unknown Channel")
        if channel["type"] == p.FORUM:
            return self.error(400, 50008, "Cannot send messages in a non-text channel")
        problem = self._invalid(body)
        if problem:
            return self.error(400, 50035, f"Invalid Form Body: {problem}")
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce") and nonce in self.nonces:
            return self.json_response(self.messages[self.nonces[nonce]])
        attachments = []
        for index, (filename, data, content_type) in enumerate(body.get("_files", [])):
            attachment_id = self.ids.next()
            attachments.append({
                "id": attachment_id, "filename": filename, "size": len(data),
                "content_type": content_type,
                "url": f"https://cdn.discord.test/attachments/{channel_id}/{attachment_id}/{filename}",
                "proxy_url": f"https://media.discord.test/{attachment_id}/{filename}"})
            self.uploads[attachment_id] = data
        message = self.store_message(channel_id, self.bot, body.get("content") or "",
                                     attachments=attachments or None,
                                     embeds=body.get("embeds") or [],
                                     components=body.get("components") or [],
                                     nonce=nonce, allowed_mentions=body.get("allowed_mentions"),
                                     message_reference=_ids_as_text(body.get("message_reference")))
        if nonce is not None:
            self.nonces[nonce] = message["id"]
        if self.echo_bot_messages:
            self.dispatch_soon("MESSAGE_CREATE", message)
        return self.json_response(message)

    def store_message(self, channel_id: str, author: dict, content: str, **extra) -> dict:
        """Store a new message in ``channel_id`` (a channel, thread or DM); return it."""
        channel = self.channels[channel_id]
        guild_id = channel.get("guild_id")
        member = (self.member_payload(guild_id, author["id"])
                  if guild_id and author["id"] in self.guilds[guild_id]["members"] else None)
        message_id = extra.pop("id", None) or self.ids.next()
        message = p.message(message_id, channel_id, author, content, guild_id=guild_id,
                            member_payload=member, **extra)
        self.messages[message_id] = message
        return message

    def _edit_message(self, channel_id: str, message_id: str, *, body) -> web.Response:
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            return self.error(404, 10008, "Unknown Message")
        problem = self._invalid(body)
        if problem:
            return self.error(400, 50035, f"Invalid Form Body: {problem}")
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = body[key]
        message["edited_timestamp"] = p.iso()
        return self.json_response(message)

    def _thread_from_message(self, channel_id: str, message_id: str, *, body) -> web.Response:
        message = self.messages.get(message_id)
        if message is None or message["channel_id"] != channel_id:
            return self.error(404, 10008, "Unknown Message")
        if self.channels[channel_id]["type"] != p.TEXT:
            return self.error(400, 50024, "Cannot execute action on this channel type")
        if message_id in self.channels:
            return self.error(400, 160004, "A thread has already been created for this message")
        if not 1 <= len(body.get("name") or "") <= 100:
            return self.error(400, 50035, "Invalid Form Body: name")
        thread = self.create_thread(channel_id, message_id, body["name"], self.bot["id"])
        return self.json_response(thread, 201)

    def _forum_post(self, channel_id: str, *, body) -> web.Response:
        if self.channels.get(channel_id, {}).get("type") != p.FORUM:
            return self.error(400, 50024, "Cannot execute action on this channel type")
        first = body.get("message") or {}
        problem = self._invalid(first)
        if problem:
            return self.error(400, 50035, f"Invalid Form Body: {problem}")
        thread = self.create_thread(channel_id, self.ids.next(), body.get("name") or "post",
                                    self.bot["id"])
        message = self.store_message(thread["id"], self.bot, first.get("content") or "",
                                     id=thread["id"], embeds=first.get("embeds") or [],
                                     components=first.get("components") or [],
                                     allowed_mentions=first.get("allowed_mentions"))
        return self.json_response({**thread, "message": message}, 201)

    def create_thread(self, channel_id: str, thread_id: str, name: str, owner_id: str) -> dict:
        """A public thread in ``channel_id`` with id ``thread_id``; dispatches THREAD_CREATE."""
        guild_id = self.channels[channel_id]["guild_id"]
        thread = p.channel(thread_id, guild_id, name, p.PUBLIC_THREAD, parent_id=channel_id,
                           owner_id=owner_id)
        self.channels[thread_id] = thread
        self.guilds[guild_id]["channels"].append(thread_id)
        self.dispatch_soon("THREAD_CREATE", {**thread, "newly_created": True})
        return thread

    def _open_dm(self, *_, body) -> web.Response:
        recipient = str(body.get("recipient_id"))
        if recipient not in self.users:
            return self.error(400, 50035, "Invalid Form Body: recipient_id")
        return self.json_response(self.channels[self.dm_channel_for(recipient)])

    def _get_member(self, guild_id: str, user_id: str, *, body) -> web.Response:
        guild = self.guilds.get(guild_id)
        if guild is None or user_id not in guild["members"]:
            return self.error(404, 10007, "Unknown Member")
        return self.json_response(self.member_payload(guild_id, user_id))

    def _active_threads(self, guild_id: str, *, body) -> web.Response:
        threads = [c for c in self.channels.values() if c.get("guild_id") == guild_id
                   and c["type"] == p.PUBLIC_THREAD and not c["thread_metadata"]["archived"]]
        return self.json_response({"threads": threads, "members": []})

    def _sync_commands(self, application_id: str, guild_id: str, *, body) -> web.Response:
        problems = schema.problems(body)
        if problems:
            self.rejected_commands.append(problems)
            return self.error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        synced = [{**command, "id": self.ids.next(), "application_id": application_id,
                   "guild_id": guild_id, "version": self.ids.next(), "type": 1,
                   "default_member_permissions": None, "nsfw": False} for command in body]
        self.commands[guild_id] = synced
        return self.json_response(synced)

    # -- interactions ------------------------------------------------------------

    def _interaction(self, token: str):
        found = next((i for i in self.interactions.values() if i.token == token), None)
        if found is None or time.time() - _created(found.id) > TOKEN_LIFETIME:
            return None
        return found

    def _callback(self, interaction_id: str, token: str, *, body) -> web.Response:
        found = self.interactions.get(interaction_id)
        if found is None or found.token != token:
            return self.error(404, 10062, "Unknown interaction")
        if found.response is not None:
            return self.error(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - found.dispatched_at > FIRST_RESPONSE_LIMIT:
            return self.error(404, 10062, "Unknown interaction")
        problem = _wrong_callback(found, body)
        if problem:
            return self.error(400, 50035, f"Invalid Form Body: {problem}")
        found.acked_at, found.response = time.monotonic(), body
        data = body.get("data") or {}
        ephemeral = bool((data.get("flags") or 0) & 64)
        if body.get("type") in (4, 5):
            found.original = {"id": self.ids.next(), "content": data.get("content") or "",
                              "flags": data.get("flags") or 0, "deleted": False}
        return self.json_response({"interaction": {
            "id": interaction_id, "type": 2, "response_message_loading": body.get("type") == 5,
            "response_message_ephemeral": ephemeral}})

    def _followup(self, application_id: str, token: str, *, body) -> web.Response:
        found = self._interaction(token)
        if found is None or application_id != self.application_id:
            return self.error(404, 10015, "Unknown Webhook")
        problem = self._invalid(body)
        if problem:
            return self.error(400, 50035, f"Invalid Form Body: {problem}")
        message = {"id": self.ids.next(), "content": body.get("content") or "",
                   "embeds": body.get("embeds") or [], "components": body.get("components") or [],
                   "flags": body.get("flags") or 0, "allowed_mentions": body.get("allowed_mentions"),
                   "channel_id": "0", "author": self.bot}
        found.followups.append(message)
        return self.json_response(message)

    def _edit_original(self, application_id: str, token: str, *, body) -> web.Response:
        found = self._interaction(token)
        if found is None or found.original is None or found.original["deleted"]:
            return self.error(404, 10008, "Unknown Message")
        problem = self._invalid(body)
        if problem:
            return self.error(400, 50035, f"Invalid Form Body: {problem}")
        found.original.update({k: v for k, v in body.items() if k != "flags"}, edited=True)
        return self.json_response({**found.original, "channel_id": "0", "author": self.bot,
                                   "embeds": body.get("embeds") or []})

    def _delete_original(self, application_id: str, token: str, *, body) -> web.Response:
        found = self._interaction(token)
        if found is None or found.original is None:
            return self.error(404, 10008, "Unknown Message")
        found.original["deleted"] = True
        return web.Response(status=204)


def _wrong_callback(found, body: dict) -> str | None:
    """Why Discord would refuse this first response, if it would: autocomplete (type 4
    interactions) takes only a type 8 answer of at most 25 choices whose values have the
    focused option's type; everything else never takes type 8."""
    kind = body.get("type")
    if found.kind == 4:
        if kind != 8:
            return f"type: an autocomplete interaction cannot be answered with type {kind}"
        choices = (body.get("data") or {}).get("choices")
        if not isinstance(choices, list) or len(choices) > 25:
            return "choices: Must be 25 or fewer in length."
        for choice in choices:
            name, value = choice.get("name"), choice.get("value")
            if not isinstance(name, str) or not 1 <= len(name) <= 100:
                return "choices.name: Must be between 1 and 100 in length."
            integer = isinstance(value, int) and not isinstance(value, bool)
            if found.focused_type == schema.INTEGER and not integer:
                return "choices.value: Value must be a valid integer."
            if found.focused_type == schema.STRING and not isinstance(value, str):
                return "choices.value: Value must be a string."
        return None
    if kind == 8:
        return "type: only autocomplete interactions take choices"
    return None


def _ids_as_text(reference: dict | None) -> dict | None:
    """Discord writes snowflakes as strings, whatever the request used."""
    if not reference:
        return None
    return {k: str(v) if k.endswith("_id") else v for k, v in reference.items()}


def _created(snowflake: str) -> float:
    """Unix time a snowflake was made."""
    return ((int(snowflake) >> 22) + p.DISCORD_EPOCH_MS) / 1000


async def _multipart(request: web.Request) -> dict:
    """A message sent with files, as discord.py sends it: ``payload_json`` plus
    ``files[n]`` parts. The files come back under ``_files`` as (name, bytes, type)."""
    import json
    body: dict = {}
    files = []
    reader = await request.multipart()
    async for part in reader:
        if part.name == "payload_json":
            body.update(json.loads(await part.text()))
        elif part.name and part.name.startswith("files["):
            files.append((part.filename or "", bytes(await part.read()),
                          part.headers.get("Content-Type", "application/octet-stream")))
    body["_files"] = files
    return body
