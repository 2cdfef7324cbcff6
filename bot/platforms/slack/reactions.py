"""The message someone reacted to: its text, author and thread.

``reaction_added`` names only the message (channel and ts) and its author. The text is
read with ``conversations.replies`` (``conversations.history`` allows new apps outside
the Marketplace one request a minute; since May 2025 replies does too for commercially
distributed apps, so a failure here is expected, not exceptional). When the text cannot
be read the request is still taken: the ticket opens with a note saying so and, when
Slack gives one, a link to the message, so no request is ever lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient

from bot.platforms.slack.markup import unescape

logger = logging.getLogger(__name__)



@dataclass(frozen=True)
class ReactedMessage:
    """What the desk needs of a reacted message."""

    text: str
    author_id: str | None
    thread_id: str | None = None
    bot_id: str | None = None
    read: bool = True
    link: str = ""  # a permalink, when the message itself could not be read


class ReactedMessages:
    """Reads reacted messages through the Web API."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client

    async def read(self, channel: str, ts: str, author_id: str | None) -> ReactedMessage:
        """The message at ``ts`` in ``channel``; never raises."""
        try:
            message = await self._find(channel, ts)
        except Exception as error:  # rate limits, missing scopes, deleted messages
            logger.warning("could not read the reacted message %s in %s: %s", ts, channel, error)
            message = None
        if message is None:
            return ReactedMessage("", author_id, read=False,
                                  link=await self._permalink(channel, ts))
        thread = message.get("thread_ts")
        return ReactedMessage(
            text=unescape(message.get("text") or ""),
            author_id=message.get("user") or author_id,
            thread_id=thread if thread and thread != ts else None,
            bot_id=message.get("bot_id"))

    async def _find(self, channel: str, ts: str) -> dict | None:
        response = await self.client.conversations_replies(channel=channel, ts=ts, inclusive=True,
                                                           limit=1)
        messages = response.get("messages") or []
        found = next((m for m in messages if m.get("ts") == ts), None)
        if found is None and messages and messages[0].get("ts") != ts:
            # ts is a reply: Slack answered with its thread's parent. Ask from ts on.
            parent = messages[0]["ts"]
            response = await self.client.conversations_replies(
                channel=channel, ts=parent, oldest=ts, inclusive=True, limit=2)
            found = next((m for m in response.get("messages") or [] if m.get("ts") == ts), None)
        return found

    async def _permalink(self, channel: str, ts: str) -> str:
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
            return str(response["permalink"])
        except Exception as error:
            logger.warning("no permalink for %s in %s either: %s", ts, channel, error)
            return ""
