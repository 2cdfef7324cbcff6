"""Private answers to interactions: the follow-up webhook, shown only to the person.

An interaction's ``reply_token`` is ``{application id}:{interaction id}:{token}``; the
token works for 15 minutes. A command is deferred with Discord's "thinking" state: its
first answer replaces that state, later ones are ephemeral follow-ups, and if no answer
comes within a few seconds (``/ticket new`` answers in public instead) the thinking
message is deleted. Button presses are deferred silently and answered by follow-ups.

Discord takes no nonce on a follow-up, so re-attempts are made safe where they can be:
replacing the thinking state is an edit, repeated until it succeeds; each chunk of an
answer is remembered once delivered, so a re-attempt sends only what is missing; and
follow-ups go through :class:`SendOnce`, which discord.py cannot repeat on a 5xx. A
follow-up whose response was lost (Discord made it, we never heard) may still be shown
twice, to that one person: nothing on Discord's side can tell us it exists.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import discord
from discord.http import Route

from bot.core import Delivery, OutboundMessage
from bot.core.tasks import BackgroundTasks
from bot.platforms.discord.inbound import _Lru
from bot.platforms.discord.once import SendOnce

logger = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 15 * 60
# Leave a margin: a follow-up that starts at 14:59 may land after the token died.
TOKEN_USABLE_S = TOKEN_LIFETIME_S - 60
EPHEMERAL = 64


@dataclass(frozen=True)
class ReplyToken:
    """What answering one interaction privately needs."""

    application_id: str
    interaction_id: str
    token: str

    def __str__(self) -> str:
        return f"{self.application_id}:{self.interaction_id}:{self.token}"

    @classmethod
    def parse(cls, text: str | None) -> "ReplyToken | None":
        """The token in ``text``, or None if there is none or it is not Discord's."""
        parts = (text or "").split(":", 2)
        if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
            return None
        return cls(*parts)

    def usable(self, now: datetime | None = None) -> bool:
        """True while follow-ups with this token can still be sent."""
        created = discord.utils.snowflake_time(int(self.interaction_id))
        age = ((now or datetime.now(timezone.utc)) - created).total_seconds()
        return age < TOKEN_USABLE_S


class InteractionReplies:
    """Sends ephemeral answers through interaction webhooks."""

    def __init__(self, client: discord.Client, once: SendOnce, *,
                 thinking_grace: float = 5.0) -> None:
        self.client = client
        self.once = once
        self.thinking_grace = thinking_grace
        self._thinking: dict[str, float] = {}  # token -> when the thinking state was shown
        self._replacing: set[str] = set()  # tokens whose thinking state an answer is replacing
        self._delivered: _Lru = _Lru(10_000)  # (outbox key, chunk) -> message id
        self._tasks = BackgroundTasks(logger)

    def thinking(self, token: ReplyToken) -> None:
        """A command was deferred with the thinking state: its first answer replaces it."""
        self._thinking[token.token] = time.monotonic()

    def clear_later(self, token: ReplyToken) -> None:
        """The desk has handled the command; clear the thinking state if no answer
        replaced it within ``thinking_grace`` seconds."""
        if token.token not in self._thinking:
            return
        self._tasks.start(self._clear_later(token), name="discord-clear-thinking")

    async def _clear_later(self, token: ReplyToken) -> None:
        await asyncio.sleep(self.thinking_grace)
        if token.token in self._replacing or self._thinking.pop(token.token, None) is None:
            return
        try:
            await self.client.http.request(self._route("DELETE", token, original=True))
        except discord.HTTPException as error:
            logger.debug("could not clear the thinking state of %s: %s", token.interaction_id,
                         error)

    async def close(self) -> None:
        """Stop waiting to clear thinking states."""
        await self._tasks.cancel()
        self._thinking.clear()

    async def send(self, token: ReplyToken, message: OutboundMessage,
                   payloads: list[dict[str, Any]], key: str) -> Delivery:
        """Post ``payloads`` (one per chunk of the message) privately; the first replaces
        the thinking state when there is one. A chunk already delivered under the outbox
        key ``key`` is not sent again. Raises NotFound once the token died."""
        first_id = None
        for index, payload in enumerate(payloads):
            message_id = self._delivered.get((key, index))
            if message_id is None:
                message_id = await self._send_one(token, payload)
                self._delivered.put((key, index), message_id)
            first_id = first_id or message_id
        return Delivery(first_id or "", message.channel_id, message.thread_id)

    async def _send_one(self, token: ReplyToken, payload: dict[str, Any]) -> str:
        if token.token in self._thinking and token.token not in self._replacing:
            # The thinking state is forgotten only once replaced: after a failure the
            # re-attempt edits it again, which cannot show the answer twice.
            self._replacing.add(token.token)
            try:
                data = await self.client.http.request(
                    self._route("PATCH", token, original=True), json=payload)
            except discord.NotFound:
                data = None  # cleared meanwhile: fall back to a follow-up
            finally:
                self._replacing.discard(token.token)
            self._thinking.pop(token.token, None)
            if data is not None:
                return str(data["id"])
        data = await self.once.request(
            "POST", f"/webhooks/{token.application_id}/{token.token}",
            {**payload, "flags": EPHEMERAL}, params={"wait": "true"}, auth=False)
        return str(data["id"])

    async def apologise(self, token: ReplyToken, text: str) -> None:
        """Tell the person, privately, that their command or press was not taken (it
        replaces the thinking state when there is one). Best effort: the desk has
        nothing else to say it with."""
        try:
            await self._send_one(token, {"content": text[:2000],
                                         "allowed_mentions": {"parse": []}})
        except discord.HTTPException as error:
            logger.warning("could not tell the person interaction %s was not taken: %s",
                           token.interaction_id, error)

    @staticmethod
    def _route(method: str, token: ReplyToken, *, original: bool = False) -> Route:
        path = "/webhooks/{webhook_id}/{webhook_token}"
        if original:
            path += "/messages/@original"
        return Route(method, path, webhook_id=int(token.application_id),
                     webhook_token=token.token)
