"""Neutral messages out, Discord API calls in: posts, threads, DMs, edits and errors.

- Every post carries ``allowed_mentions`` none, so relayed text pings nobody, and a
  ``nonce`` (with ``enforce_nonce``) made from the outbox key, so a re-attempt returns
  the message already posted instead of posting it twice.
- A forum post takes no nonce: it is made once per attempt (discord_once.py), and a
  re-attempt first looks for the post an earlier try may have started.
- A ticket's thread is the id of the message that opened it: in a text channel the
  thread is created from that message on first use; a forum post already is one; in a
  DM the "thread" is a reply to that message.
- Cards (a title or fields) are an embed; buttons are persistent components.
- Nothing is cut off: text over 2,000 characters (4,096 in an embed, whose message holds
  at most 6,000) is sent in several messages, in order, split at paragraphs, lines or
  words and never inside a mention or a link (bot/platforms/chunks.py). A card's title
  leads the first; its fields and buttons close the last. The first message's id is the
  delivery's, so replies thread under it. Each part has its own nonce, and when a part
  fails the parts already sent are recorded on the outbox row (``parts_sent``): the
  retry continues after them, however late it comes.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import re
from dataclasses import dataclass, replace

import aiohttp
import discord

from bot.core import Delivery, DeliveryError, OutboundMessage
from bot.core.text import excerpt
from bot.platforms import chunks
from bot.platforms.discord.inbound import Inbound, _Lru
from bot.platforms.discord.once import SendOnce
from bot.platforms.discord.replies import InteractionReplies, ReplyToken
from bot.platforms.discord.ui import FormBook, render_view
from bot.templates import Templates

logger = logging.getLogger(__name__)

CONTENT_LIMIT = 2000
NONCE_LIMIT = 25
NO_MENTIONS = discord.AllowedMentions.none()
THREAD_EXISTS = 160004
ARCHIVE_MINUTES = 10080
# What a call to Discord raises when it fails: Discord's answer, or the network's.
TRANSPORT_ERRORS = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, OSError,
                    asyncio.TimeoutError)


def nonce_for(key: str, part: int = 0) -> str:
    """A Discord nonce (at most 25 characters) for chunk ``part`` of outbox key ``key``."""
    raw = key if part == 0 else f"{key}/{part}"
    return raw if len(raw) <= NONCE_LIMIT else "hd" + hashlib.sha256(raw.encode()).hexdigest()[:23]


DESCRIPTION_LIMIT = 4096
EMBED_TOTAL = 6000
TITLE_LIMIT = 256
FIELD_NAME_LIMIT, FIELD_VALUE_LIMIT, FIELDS_PER_EMBED = 256, 1024, 25
# What Discord reads as one thing: mentions of people, roles and channels, custom emoji,
# timestamps, command mentions, masked and suppressed links, and bare links.
MARKUP = re.compile(
    r"<(?:@[!&]?\d+|#\d+|a?:\w+:\d+|t:-?\d+(?::[tTdDfFR])?|/[\w -]+:\d+)>"
    r"|\[[^\]\n]*\]\(<?https?://[^\s)]+>?\)|<https?://[^\s>]+>|https?://\S+")


def split_text(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, in order, cut at paragraphs,
    lines or words and never inside a mention or a link."""
    return chunks.split_text(text, limit, MARKUP)


@dataclass(frozen=True)
class Part:
    """One Discord message of an outbound message: content and/or one embed; the last
    part carries the buttons."""

    content: str | None
    embed: discord.Embed | None = None


def _fields(message: OutboundMessage) -> list[tuple[str, str]]:
    """The card's fields as Discord takes them: a value longer than a field holds goes
    on in the fields after it, so nothing is cut."""
    fields = []
    for name, value in message.fields:
        name = excerpt(name or "\u200b", FIELD_NAME_LIMIT)
        for index, piece in enumerate(split_text(value or "—", FIELD_VALUE_LIMIT)):
            fields.append((name if index == 0 else "\u200b", piece or "—"))
    return fields


def _embed_size(embed: discord.Embed) -> int:
    return (len(embed.title or "") + len(embed.description or "")
            + sum(len(f.name or "") + len(f.value or "") for f in embed.fields))


def parts_of(message: OutboundMessage) -> list[Part]:
    """``message`` as the Discord messages that say all of it, in order."""
    if not (message.title or message.fields):
        return [Part(chunk) for chunk in split_text(message.text or "…")]
    title = excerpt(message.title or "", TITLE_LIMIT) or None
    pieces = split_text(message.text, DESCRIPTION_LIMIT) if message.text.strip() else []
    embeds = [discord.Embed(title=title if index == 0 else None, description=piece or None)
              for index, piece in enumerate(pieces)] or [discord.Embed(title=title)]
    last = embeds[-1]
    for name, value in _fields(message):
        if len(last.fields) >= FIELDS_PER_EMBED \
                or _embed_size(last) + len(name) + len(value) > EMBED_TOTAL:
            last = discord.Embed()
            embeds.append(last)
        last.add_field(name=name, value=value, inline=True)
    return [Part(None, embed) for embed in embeds]


def render_embed(message: OutboundMessage) -> discord.Embed | None:
    """A card as one embed (an edit replaces one message): title, the text as
    description, fields; None for plain text. A card too long for one message is
    shown in full when posted (:func:`parts_of`); an edit keeps its first message."""
    if not (message.title or message.fields):
        return None
    return parts_of(message)[0].embed


def delivery_error(error: Exception) -> DeliveryError:
    """What a failed call means to the outbox: retry later, retry after a rate limit,
    or give up (the channel is gone, access was removed, the request is invalid)."""
    if isinstance(error, discord.RateLimited):
        return DeliveryError(f"rate limited for {error.retry_after:.1f}s",
                             retry_after=error.retry_after)
    if isinstance(error, (discord.Forbidden, discord.NotFound)):
        return DeliveryError(f"{error.status} {error.text}", permanent=True)
    if isinstance(error, discord.DiscordServerError):
        return DeliveryError(f"Discord {error.status}")
    if isinstance(error, discord.HTTPException):
        if error.status == 429:  # no Via header: Cloudflare, not Discord, is limiting us
            retry = float(error.response.headers.get("Retry-After") or 60)
            return DeliveryError("rate limited by Cloudflare", retry_after=retry)
        return DeliveryError(f"{error.status} {error.text}", permanent=400 <= error.status < 500)
    return DeliveryError(f"{type(error).__name__}: {error}")


class Outbound:
    """Delivers one outbound message; see the module docstring."""

    def __init__(self, client: discord.Client, inbound: Inbound, book: FormBook,
                 replies: InteractionReplies, once: SendOnce, templates: Templates) -> None:
        self.client = client
        self.templates = templates
        self.inbound = inbound
        self.book = book
        self.replies = replies
        self.once = once
        self._dms: _Lru = _Lru(10_000)  # user id -> DM channel id
        self._threads: _Lru = _Lru(10_000)  # thread ids known to exist

    async def send(self, message: OutboundMessage, key: str, attempt: int = 1) -> Delivery:
        """Post, edit or answer privately; raises DeliveryError. ``attempt`` > 1 means an
        earlier try may have reached Discord."""
        if message.audience == "home":
            # Discord has no home surface; the desk's home view is Slack's App Home.
            return Delivery("", message.channel_id, None)
        try:
            if message.attachments:
                return await self._send_files(message, key)
            if message.ephemeral_to:
                return await self._private(message, key, attempt)
            if message.edit_of:
                return await self._edit(message)
            return await self._post(message, key, attempt)
        except ValueError as error:  # an id that is not a snowflake: no retry will help
            raise DeliveryError(f"not a Discord id: {error}", permanent=True) from error
        except TRANSPORT_ERRORS as error:
            raise delivery_error(error) from error

    async def _send_files(self, message: OutboundMessage, key: str) -> Delivery:
        """A message with files (a transcript): only ever to ``direct_to``'s DM, the
        text (its first part: it is one short sentence) with the files attached. The
        nonce makes a re-attempt return the earlier message instead of a second one."""
        if not message.direct_to:
            raise DeliveryError("files are sent only to one person's DM", permanent=True)
        channel_id = await self.dm_channel(message.direct_to)
        files = [discord.File(io.BytesIO(a.text.encode("utf-8")), filename=a.filename)
                 for a in message.attachments]
        content = parts_of(message)[0].content or ""
        try:
            posted = await self.client.get_partial_messageable(int(channel_id)).send(
                content, files=files, nonce=nonce_for(key), allowed_mentions=NO_MENTIONS)
        except TRANSPORT_ERRORS as error:
            raise delivery_error(error) from error
        return Delivery(str(posted.id), channel_id)

    async def _private(self, message: OutboundMessage, key: str, attempt: int) -> Delivery:
        token = ReplyToken.parse(message.reply_token)
        if token is not None and token.usable():
            try:
                return await self.replies.send(token, message, self._payloads(message), key)
            except discord.NotFound:
                logger.info("interaction %s expired; answering by DM", token.interaction_id)
        # No interaction to answer (or it expired): a DM is the private place on Discord.
        return await self._post(replace(message, channel_id="", thread_id=None,
                                        direct_to=message.ephemeral_to, edit_of=None),
                                key, attempt)

    def _payloads(self, message: OutboundMessage) -> list[dict]:
        view = render_view(message.buttons, self.book)
        parts = parts_of(message)
        return [{"content": part.content or "", "allowed_mentions": NO_MENTIONS.to_dict(),
                 "embeds": [part.embed.to_dict()] if part.embed else [],
                 "components": view.to_components() if view and index == len(parts) - 1
                 else []}
                for index, part in enumerate(parts)]

    async def _post(self, message: OutboundMessage, key: str, attempt: int = 1) -> Delivery:
        channel_id = message.channel_id
        if message.direct_to:
            channel_id = await self.dm_channel(message.direct_to)
        if not channel_id:
            raise DeliveryError("the message has no channel to go to", permanent=True)
        kind = await self.channel_kind(channel_id)
        reference, target = None, channel_id
        if message.thread_id and not message.direct_to:
            if kind == discord.ChannelType.private:
                reference = discord.MessageReference(
                    message_id=int(message.thread_id), channel_id=int(channel_id),
                    fail_if_not_exists=False)
            else:
                await self._ensure_thread(channel_id, message.thread_id, message.ticket_number)
                target = message.thread_id
        elif kind == discord.ChannelType.forum:
            return await self._forum_post(channel_id, message, key, attempt)
        sent = await self._send_parts(target, message, key, reference=reference)
        thread = None if message.direct_to else message.thread_id
        return Delivery(sent[0], channel_id, thread)

    async def _send_parts(self, target: str, message: OutboundMessage, key: str, *,
                          reference: discord.MessageReference | None = None,
                          parts: list[Part] | None = None) -> list[str]:
        """Send the parts of ``message`` not yet sent (``parts_sent``) to ``target``, in
        order; returns the ids of all of them. A failure after some went out raises a
        DeliveryError that records them, so the retry starts after them."""
        parts = parts_of(message) if parts is None else parts
        view = render_view(message.buttons, self.book)
        messageable = self.client.get_partial_messageable(int(target))

        async def send_one(index: int) -> str:
            part, last = parts[index], index == len(parts) - 1
            try:
                posted = await messageable.send(
                    part.content, embed=part.embed, view=view if last else None,
                    nonce=nonce_for(key, index), allowed_mentions=NO_MENTIONS,
                    reference=reference if index == 0 else None, mention_author=False)
            except TRANSPORT_ERRORS as error:
                raise delivery_error(error) from error
            return str(posted.id)

        return await chunks.send_parts(len(parts), message.parts_sent, send_one)

    async def _forum_post(self, forum_id: str, message: OutboundMessage, key: str,
                          attempt: int) -> Delivery:
        """A message to a forum with no thread starts a post (a ticket opened by the
        panel in a forum); the post's id is its first message's. Discord takes no nonce
        here, so a re-attempt first looks for the post an earlier try may have started:
        the bot's own post named after the ticket."""
        forum = self.client.get_channel(int(forum_id))
        if not isinstance(forum, discord.ForumChannel):
            raise DeliveryError(f"channel {forum_id} is not a forum I can see", permanent=True)
        name = self.thread_name(message.ticket_number)
        parts = parts_of(message)
        thread_id = message.parts_sent[0] if message.parts_sent else None
        if thread_id is None and attempt > 1 and message.ticket_number is not None:
            thread_id = await self._started_post(forum, name)
            if thread_id is not None:
                logger.info("forum post %s was started by an earlier attempt", thread_id)
                message = replace(message, parts_sent=(thread_id,))
        if thread_id is None:
            created = await self.once.request("POST", f"/channels/{forum_id}/threads", {
                "name": name, "auto_archive_duration": ARCHIVE_MINUTES,
                "message": self._payloads(message)[0]})
            thread_id = str(created["id"])
            message = replace(message, parts_sent=(thread_id,))
        self._threads.put(thread_id, True)
        # The rest of a long first post goes on in the post's own thread.
        await self._send_parts(thread_id, message, key, parts=parts)
        return Delivery(thread_id, forum_id, thread_id)

    async def _started_post(self, forum: discord.ForumChannel, name: str) -> str | None:
        """The bot's post called ``name`` in ``forum``: from the cache (the gateway tells
        of every new thread), else from the guild's active threads (another process
        may have started it, or the gateway not told us yet)."""
        me = self.client.user.id if self.client.user else None
        for thread in forum.threads:
            if thread.owner_id == me and thread.name == name:
                return str(thread.id)
        for thread in await forum.guild.active_threads():
            if thread.parent_id == forum.id and thread.owner_id == me and thread.name == name:
                return str(thread.id)
        return None

    async def _edit(self, message: OutboundMessage) -> Delivery:
        target = message.channel_id
        if message.thread_id and message.thread_id != message.edit_of \
                and await self.channel_kind(message.channel_id) != discord.ChannelType.private:
            target = message.thread_id
        embed = render_embed(message)
        partial = self.client.get_partial_messageable(int(target)) \
            .get_partial_message(int(message.edit_of))
        # An edit replaces one message: a text too long for it keeps its first part,
        # marked as cut (the desk edits only cards, which it keeps short).
        text = split_text(message.text or "…")
        content = text[0] + ("…" if len(text) > 1 else "")
        await partial.edit(content=None if embed else content[:CONTENT_LIMIT],
                           embed=embed, view=render_view(message.buttons, self.book),
                           allowed_mentions=NO_MENTIONS)
        return Delivery(message.edit_of, message.channel_id, message.thread_id)

    def thread_name(self, ticket_number: int | None) -> str:
        """What a ticket's thread is called."""
        if ticket_number is None:
            return self.templates.render("discord.thread_unnumbered")
        return self.templates.render("discord.thread", number=ticket_number)

    async def _ensure_thread(self, parent_id: str, thread_id: str, number: int | None) -> None:
        if thread_id in self._threads or self.client.get_channel(int(thread_id)) is not None:
            return
        try:
            await self.client.http.start_thread_with_message(
                int(parent_id), int(thread_id), name=self.thread_name(number),
                auto_archive_duration=ARCHIVE_MINUTES)
        except discord.HTTPException as error:
            if error.code != THREAD_EXISTS:
                # Not a message of this channel: perhaps an older thread (say, an
                # archived forum post) that simply is not in the cache.
                try:
                    await self.client.fetch_channel(int(thread_id))
                except discord.NotFound:
                    raise error from None
        self._threads.put(thread_id, True)

    async def dm_channel(self, user_id: str) -> str:
        """The DM channel with ``user_id``, opened once and remembered."""
        if user_id not in self._dms:
            data = await self.client.http.start_private_message(int(user_id))
            self._dms.put(user_id, str(data["id"]))
            self.inbound.dm_channels.put(int(data["id"]), True)
        return self._dms[user_id]

    async def channel_kind(self, channel_id: str) -> discord.ChannelType | None:
        """The type of a channel (private for DMs), from what the bot has seen or Discord."""
        if int(channel_id) in self.inbound.dm_channels:
            return discord.ChannelType.private
        channel = self.client.get_channel(int(channel_id))
        if channel is None:
            await self.inbound.parent_of(int(channel_id))  # fetches and records the kind
            return self.inbound.kinds.get(int(channel_id))
        return getattr(channel, "type", None)
