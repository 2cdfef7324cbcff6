"""Translate out: neutral messages as Slack Web API calls, sent at most once.

* Posts carry message metadata ``helpdesk_outbox`` with the idempotency key. On a
  re-attempt (``attempt`` > 1) the messages of the thread (``conversations.replies``)
  or channel (``conversations.history``) since the row's first attempt (``since``, with
  a minute's margin for clocks) are searched for that key first, page after page until
  they run out, and a message found there is returned instead of posting again (Slack
  has no idempotency key).
* ``edit_of`` is ``chat.update``; ``direct_to`` opens the DM with ``conversations.open``;
  audience "home" is ``views.publish``.
* A message with attachments (a transcript) goes only to ``direct_to``'s DM, through the
  files upload API: ``files.getUploadURLExternal`` per file, the bytes POSTed to the URL
  it gives, then one ``files.completeUploadExternal`` sharing them with the text as the
  comment (``files.upload`` is retired for new apps).
* ``ephemeral_to`` in the person's own DM with the bot is an ordinary post; elsewhere it
  is ``chat.postEphemeral``, and where the bot cannot post, the interaction's
  ``response_url`` (the event's ``reply_token``), else a DM. A private answer is never lost.
* Failures become ``DeliveryError``: 429s with ``retry_after``, hopeless ones permanent.
* Nothing is cut off: long text goes in several sections (blocks.py), and a message that
  one Slack message cannot hold goes as several, in order. Each part is tagged with its
  own key (``hd-7``, ``hd-7/1``, ...), so a re-attempt finds the parts already posted;
  and when a part fails, the parts sent are recorded on the outbox row (``parts_sent``)
  so the retry continues after them.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Delivery, DeliveryError, OutboundMessage
from bot.platforms.chunks import send_parts
from bot.platforms.slack.blocks import (
    MESSAGE_TEXT_CHARS, fallback_text, home_view, message_blocks, message_parts, needs_blocks,
)
from bot.platforms.slack.limits import MethodLimiter, SlackCallError, delivery_error
from bot.platforms.slack.markup import mrkdwn

logger = logging.getLogger(__name__)

METADATA_TYPE = "helpdesk_outbox"
LOOKUP_WINDOW = 6 * 3600.0  # how far back a re-attempt looks when it is not told
LOOKUP_MARGIN = 60.0  # our clock and Slack's may differ; look a little further back
LOOKUP_PAGES = 200  # a guard against a cursor that never ends, not a window
LOOKUP_LIMIT = 15  # conversations.* pages hold at most 15 for apps outside the Marketplace
# Where the bot cannot post an ephemeral message, another way is tried.
_NOT_HERE = frozenset({"channel_not_found", "not_in_channel", "user_not_in_channel",
                       "is_archived", "channel_is_archived", "restricted_action"})


def part_key(key: str, index: int) -> str:
    """The idempotency key of part ``index`` of the message sent under ``key``."""
    return key if index == 0 else f"{key}/{index}"


class SlackSender:
    """Sends neutral messages through one Web API client."""

    def __init__(self, client: AsyncWebClient, limiter: MethodLimiter,
                 lookup_window: float = LOOKUP_WINDOW) -> None:
        self.client = client
        self.limiter = limiter
        self.lookup_window = lookup_window
        self._dms: dict[str, str] = {}  # user id -> the bot's DM channel with them

    async def call(self, method: str, **arguments: Any) -> Any:
        """One Web API call, paced by method tier; failures raise SlackCallError."""
        # Slack limits posting per channel: a 429 there holds only that channel.
        scope = arguments.get("channel", "") if method == "chat.postMessage" else ""
        self.limiter.check(method, scope)
        # The SDK's typed methods know which calls take JSON and which take a form.
        function = getattr(self.client, method.replace(".", "_"))
        try:
            return await function(**{k: v for k, v in arguments.items() if v is not None})
        except Exception as error:
            raise delivery_error(method, error, self.limiter, scope) from error

    async def send(self, message: OutboundMessage, key: str, attempt: int,
                   since: timedelta | None = None) -> Delivery:
        """Deliver ``message`` (see the module doc); raises DeliveryError."""
        if message.audience == "home":
            return await self.publish_home(message)
        if message.attachments:
            return await self.upload(message)
        if message.ephemeral_to:
            return await self.send_private(message, key, attempt, since)
        channel = await self.dm_channel(message.direct_to) if message.direct_to \
            else message.channel_id
        if not channel:
            raise DeliveryError("the message has no channel", permanent=True)
        if message.edit_of:
            return await self.update(channel, message)
        return await self.post(channel, message, key, attempt, since)

    async def dm_channel(self, user_id: str) -> str:
        """The bot's DM with ``user_id``, opened once and remembered."""
        if user_id not in self._dms:
            response = await self.call("conversations.open", users=user_id)
            self._dms[user_id] = response["channel"]["id"]
        return self._dms[user_id]

    async def post(self, channel: str, message: OutboundMessage, key: str,
                   attempt: int, since: timedelta | None = None) -> Delivery:
        """``chat.postMessage`` of each part not yet sent, with its idempotency key as
        metadata, unless a re-attempt finds the earlier post of it."""
        parts = self._parts(message)
        keys = [part_key(key, index) for index in range(len(parts))]
        done = len(message.parts_sent)
        found: dict[str, str] = {}
        if attempt > 1 and done < len(parts):
            found = await self.find_posted_keys(channel, message.thread_id, keys[done:], since)
        posted_in = channel

        async def post_one(index: int) -> str:
            nonlocal posted_in
            if keys[index] in found:
                logger.info("outbox %s was already posted as %s; not posting again",
                            keys[index], found[keys[index]])
                return found[keys[index]]
            payload: dict[str, Any] = {"key": keys[index]}
            if message.ticket_number is not None:
                payload["ticket"] = message.ticket_number
            response = await self.call(
                "chat.postMessage", channel=channel, thread_ts=message.thread_id or None,
                metadata={"event_type": METADATA_TYPE, "event_payload": payload},
                unfurl_links=False, unfurl_media=False, **parts[index])
            posted_in = response.get("channel") or posted_in
            return response["ts"]

        sent = await send_parts(len(parts), message.parts_sent, post_one)
        return Delivery(sent[0], posted_in, message.thread_id)

    async def find_posted_keys(self, channel: str, thread_ts: str | None, keys: list[str],
                               since: timedelta | None = None) -> dict[str, str]:
        """The ts of each message in the thread (or channel) tagged with one of ``keys``,
        by key: every message since the first attempt (``since`` ago, else
        ``lookup_window``), page after page until the pages run out or every key is
        found. A busy thread must not hide the earlier post (issue 18)."""
        wanted, found = set(keys), {}
        back = since.total_seconds() if since is not None else self.lookup_window
        oldest = f"{time.time() - max(back, 0.0) - LOOKUP_MARGIN:.6f}"
        cursor = None
        for _ in range(LOOKUP_PAGES):
            if thread_ts:
                response = await self.call(
                    "conversations.replies", channel=channel, ts=thread_ts, oldest=oldest,
                    include_all_metadata=True, limit=LOOKUP_LIMIT, cursor=cursor)
            else:
                response = await self.call(
                    "conversations.history", channel=channel, oldest=oldest,
                    include_all_metadata=True, limit=LOOKUP_LIMIT, cursor=cursor)
            for item in response.get("messages") or []:
                metadata = item.get("metadata") or {}
                tagged = (metadata.get("event_payload") or {}).get("key")
                if metadata.get("event_type") == METADATA_TYPE and tagged in wanted:
                    found.setdefault(tagged, item["ts"])
            cursor = (response.get("response_metadata") or {}).get("next_cursor")
            if not cursor or len(found) == len(wanted):
                return found
        logger.warning("the look-up for an earlier post in %s stopped after %d pages",
                       channel, LOOKUP_PAGES)
        return found

    async def update(self, channel: str, message: OutboundMessage) -> Delivery:
        """``chat.update`` of the message ``edit_of``."""
        response = await self.call("chat.update", channel=channel, ts=message.edit_of,
                                   **self._content(message))
        return Delivery(response.get("ts") or message.edit_of, response.get("channel") or channel,
                        message.thread_id)

    async def upload(self, message: OutboundMessage) -> Delivery:
        """Share ``message``'s files in ``direct_to``'s DM with the bot, the text as
        their comment. Files never go to a channel: without ``direct_to`` it is refused."""
        if not message.direct_to:
            raise DeliveryError("files are sent only to one person's DM", permanent=True)
        channel = await self.dm_channel(message.direct_to)
        shared = []
        for attachment in message.attachments:
            data = attachment.text.encode("utf-8")
            ticket = await self.call("files.getUploadURLExternal",
                                     filename=attachment.filename, length=len(data))
            await self._upload_bytes(ticket["upload_url"], data, attachment.content_type)
            shared.append({"id": ticket["file_id"], "title": attachment.filename})
        await self.call("files.completeUploadExternal", files=shared, channel_id=channel,
                        initial_comment=mrkdwn(message.text, MESSAGE_TEXT_CHARS))
        return Delivery(shared[0]["id"], channel)

    async def _upload_bytes(self, url: str, data: bytes, content_type: str) -> None:
        """POST one file's bytes to the upload URL Slack gave (it needs no token)."""
        session = self.client.session
        try:
            if session is None or session.closed:
                async with aiohttp.ClientSession() as own:
                    await _post_bytes(own, url, data, content_type)
            else:
                await _post_bytes(session, url, data, content_type)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            raise DeliveryError(f"uploading a file failed ({type(error).__name__})") from None

    async def publish_home(self, message: OutboundMessage) -> Delivery:
        """``views.publish`` of ``message`` as ``direct_to``'s App Home."""
        if not message.direct_to:
            raise DeliveryError("a home view needs direct_to", permanent=True)
        response = await self.call("views.publish", user_id=message.direct_to,
                                   view=home_view(message))
        return Delivery((response.get("view") or {}).get("id") or f"home-{message.direct_to}", "")

    async def send_private(self, message: OutboundMessage, key: str, attempt: int,
                           since: timedelta | None = None) -> Delivery:
        """Show ``message`` to ``ephemeral_to`` only (see the module doc)."""
        user, channel = message.ephemeral_to or "", message.channel_id
        if channel.startswith("D") or not channel:
            if channel:
                try:
                    return await self.post(channel, message, key, attempt, since)
                except SlackCallError as error:
                    if error.code not in _NOT_HERE:
                        raise
            # Someone else's DM (or no channel at all): the interaction's own reply
            # path, else the person's DM with the bot.
            if message.reply_token and await self.respond(message.reply_token, message):
                return Delivery(f"response-{key}", channel)
            return await self.post(await self.dm_channel(user), message, key, attempt, since)
        parts = self._parts(message)

        async def show_one(index: int) -> str:
            response = await self.call("chat.postEphemeral", channel=channel, user=user,
                                       thread_ts=message.thread_id or None, **parts[index])
            return response.get("message_ts") or f"ephemeral-{key}"

        try:
            sent = await send_parts(len(parts), message.parts_sent, show_one)
            return Delivery(sent[0], channel, message.thread_id)
        except SlackCallError as error:
            if error.parts_sent:  # some parts are shown: the retry goes on after them, here
                raise
            if error.code not in _NOT_HERE:
                raise
            logger.info("cannot post privately in %s (%s); trying another way", channel, error.code)
        if message.reply_token and await self.respond(message.reply_token, message):
            return Delivery(f"response-{key}", channel)
        dm = await self.dm_channel(user)
        return await self.post(dm, message, key, attempt, since)

    async def respond(self, response_url: str, message: OutboundMessage) -> bool:
        """Post to an interaction's ``response_url`` (valid 5 times in 30 minutes). Only
        a message that fits one Slack message goes this way (a longer one would spend
        the URL's uses); False means: use another way."""
        parts = self._parts(message)
        if len(parts) > 1 or message.parts_sent:
            return False
        body = {"response_type": "ephemeral", "replace_original": False, **parts[0]}
        session = self.client.session
        try:
            if session is None or session.closed:
                async with aiohttp.ClientSession() as own:
                    return await _post_json(own, response_url, body)
            return await _post_json(session, response_url, body)
        except (aiohttp.ClientError, OSError, TimeoutError) as error:
            logger.warning("response_url failed: %s", type(error).__name__)
            return False

    @staticmethod
    def _content(message: OutboundMessage) -> dict[str, Any]:
        """``message`` as one Slack message (an edit replaces one)."""
        if needs_blocks(message):
            return {"text": fallback_text(message), "blocks": message_blocks(message)}
        return {"text": mrkdwn(message.text, MESSAGE_TEXT_CHARS)}

    @classmethod
    def _parts(cls, message: OutboundMessage) -> list[dict[str, Any]]:
        """``message`` as the Slack messages that say all of it, in order."""
        if needs_blocks(message):
            return [{"text": text, "blocks": blocks} for text, blocks in message_parts(message)]
        return [cls._content(message)]


async def _post_json(session: aiohttp.ClientSession, url: str, body: dict) -> bool:
    async with session.post(url, json=body, timeout=aiohttp.ClientTimeout(total=10)) as response:
        if response.status == 200:
            return True
        logger.warning("response_url answered %d: %s", response.status,
                       (await response.text())[:100])
        return False


async def _post_bytes(session: aiohttp.ClientSession, url: str, data: bytes,
                      content_type: str) -> None:
    async with session.post(url, data=data, headers={"Content-Type": content_type},
                            timeout=aiohttp.ClientTimeout(total=60)) as response:
        if response.status != 200:
            raise DeliveryError(f"the file upload was answered {response.status}",
                                permanent=400 <= response.status < 500)
