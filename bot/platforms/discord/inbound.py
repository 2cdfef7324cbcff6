"""Discord events in, neutral events out: messages, reactions, commands and buttons.

Where things are, in the desk's terms:

- A guild is a workspace. A DM has no guild: it belongs to the guild the person shares
  with the bot (the only one, or the first in which they are found as a member).
- A message inside a thread is ``channel_id`` = the thread's parent (a text or forum
  channel) and ``thread_id`` = the thread. A thread made from a message has that
  message's id, and a forum post's first message has the post's id, so a ticket's
  thread is always the id of the message that opened it.
- In a DM, replying to a message is the thread: replying to the bot's message lands in
  the thread that message was posted in.

Who people are: a member with Manage Server (or Administrator) is a platform admin, and
the member's roles give their desk role through :class:`RoleMap`
(HELPDESK_DISCORD_AGENT_ROLES, HELPDESK_DISCORD_LEAD_ROLES).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Iterable

import discord

from bot.core import Actor, CommandInvoked, IncomingMessage, ReactionAdded

logger = logging.getLogger(__name__)

PLATFORM = "discord"
# The unicode ticket, or a guild's own emoji named "ticket".
# The reactions the desk acts on: the ticket emoji opens a ticket, the flag marks a
# difficult conversation for the lead on duty.
TICKET_EMOJIS = ("🎫", "ticket", "🚩", "triangular_flag_on_post")
_USER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)
_THREADS = (discord.ChannelType.public_thread, discord.ChannelType.private_thread,
            discord.ChannelType.news_thread)


class _Lru(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key, value) -> None:
        """Remember ``value``, forgetting the least recently stored beyond ``size``."""
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


class RoleMap:
    """Which Discord roles make a member an agent or a lead of the desk (role ids)."""

    def __init__(self, agent_roles: Iterable[str] = (), lead_roles: Iterable[str] = ()) -> None:
        self.agents = frozenset(int(r) for r in agent_roles)
        self.leads = frozenset(int(r) for r in lead_roles)

    def desk_role(self, member: Any) -> str | None:
        """The desk role a guild member's roles give now: lead, agent or requester
        (as ``Role`` values); None when there is no member to ask (a DM from someone we
        could not look up), so the desk leaves their stored role alone."""
        if not isinstance(member, discord.Member):
            return None
        held = {role.id for role in member.roles}
        if held & self.leads:
            return "lead"
        if held & self.agents:
            return "agent"
        # Known to hold neither, even with nothing configured: a role the desk once took
        # from a Discord role is given back when that role (or the setting) is gone.
        return "requester"


class Inbound:
    """Translates what the gateway delivers into the desk's events."""

    def __init__(self, client: discord.Client, cache_size: int = 10_000,
                 roles: RoleMap | None = None) -> None:
        self.client = client
        self.roles = roles or RoleMap()
        self._home: _Lru = _Lru(cache_size)  # user id -> guild id (for DMs)
        self._parents: _Lru = _Lru(cache_size)  # channel id -> parent id, or None
        self.dm_channels: _Lru = _Lru(cache_size)  # DM channel ids seen, for outbound
        self.kinds: _Lru = _Lru(cache_size)  # channel id -> ChannelType, for uncached ones

    # -- where -------------------------------------------------------------------

    async def home_guild(self, user_id: int) -> discord.Guild | None:
        """The guild a DM from ``user_id`` belongs to, or None if they share none."""
        if user_id in self._home:
            return self.client.get_guild(self._home[user_id])
        guilds = sorted(self.client.guilds, key=lambda g: (g.me.joined_at is None, g.me.joined_at
                                                           or 0, g.id))
        found = None
        if len(guilds) == 1:
            found = guilds[0]
        for guild in guilds if found is None else ():
            if guild.get_member(user_id) is not None or await self._fetch_member(guild, user_id):
                found = guild
                break
        if found is not None:
            self._home.put(user_id, found.id)
        return found

    async def _fetch_member(self, guild: discord.Guild, user_id: int) -> discord.Member | None:
        try:
            return await guild.fetch_member(user_id)
        except discord.NotFound:
            return None
        except discord.HTTPException as error:
            logger.warning("could not look up member %s of guild %s: %s", user_id, guild.id, error)
            return None

    async def place(self, channel: Any) -> tuple[str, str | None]:
        """``(channel_id, thread_id)`` for a channel object or id: a thread becomes its
        parent plus itself."""
        channel_id = getattr(channel, "id", channel)
        if getattr(channel, "type", None) in _THREADS:
            return str(channel.parent_id), str(channel_id)
        if isinstance(channel, (discord.DMChannel, discord.TextChannel, discord.ForumChannel)):
            return str(channel_id), None
        parent = await self.parent_of(int(channel_id))
        return (str(parent), str(channel_id)) if parent else (str(channel_id), None)

    async def parent_of(self, channel_id: int) -> int | None:
        """The parent of a thread (None for anything else), from the cache or Discord."""
        if channel_id in self._parents:
            return self._parents[channel_id]
        channel = self.client.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.client.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden):
                channel = None
        parent = channel.parent_id if getattr(channel, "type", None) in _THREADS else None
        self.kinds.put(channel_id, getattr(channel, "type", None))
        if isinstance(channel, discord.DMChannel):
            self.dm_channels.put(channel_id, True)
        self._parents.put(channel_id, parent)
        return parent

    async def workspace_and_member(self, guild: discord.Guild | None, user: Any):
        """``(workspace id, member or None)``; the workspace is None for a DM from
        someone who shares no guild with the bot."""
        if guild is None:
            guild = await self.home_guild(user.id)
            if guild is None:
                return None, None
        if isinstance(user, discord.Member) and user.guild.id == guild.id:
            return str(guild.id), user
        member = guild.get_member(user.id) or await self._fetch_member(guild, user.id)
        return str(guild.id), member

    # -- who ---------------------------------------------------------------------

    def actor(self, user: Any, member: discord.Member | None = None,
              permissions: discord.Permissions | None = None) -> Actor:
        """The person, with ``is_platform_admin`` when they may manage the guild and
        ``platform_role`` from the member's roles."""
        admin = False
        if permissions is not None:
            admin = permissions.manage_guild or permissions.administrator
        elif member is not None and member.guild is not None:
            perms = member.guild_permissions
            admin = perms.manage_guild or perms.administrator
        return Actor(str(user.id), getattr(user, "display_name", "") or str(user),
                     is_platform_admin=admin, is_bot=bool(getattr(user, "bot", False)),
                     platform_role=self.roles.desk_role(member))

    # -- what --------------------------------------------------------------------

    async def interaction(self, interaction: discord.Interaction, kind, reply_token: str,
                          **fields) -> Any:
        """A command, button press or modal as the event ``kind``, or None for one from
        someone who shares no guild with the bot."""
        workspace, member = await self.workspace_and_member(interaction.guild, interaction.user)
        if workspace is None:
            return None
        permissions = None
        if interaction.guild is None:
            self.dm_channels.put(interaction.channel_id, True)
            channel_id, thread_id = str(interaction.channel_id), None
            reference = interaction.message.reference if interaction.message else None
            if reference is not None and reference.message_id is not None:
                thread_id = str(reference.message_id)
        else:
            channel_id, thread_id = await self.place(interaction.channel or interaction.channel_id)
            permissions = interaction.permissions
        if interaction.guild is None and kind is CommandInvoked:
            fields.setdefault("is_direct", True)  # a DM: "here" is no channel of the desk's
        return kind(platform=PLATFORM, workspace_id=workspace, event_id=str(interaction.id),
                    actor=self.actor(interaction.user, member, permissions),
                    channel_id=channel_id, thread_id=thread_id, reply_token=reply_token,
                    **fields)

    async def message(self, message: discord.Message) -> IncomingMessage | None:
        """A person's message, or None for the bot's own, system messages and DMs from
        people outside every guild the bot is in."""
        me = self.client.user
        if me is not None and message.author.id == me.id:
            return None
        if message.type not in _USER_MESSAGES:
            return None
        is_direct = message.guild is None
        workspace, member = await self.workspace_and_member(message.guild, message.author)
        if workspace is None:
            logger.info("ignoring a DM from %s, who shares no guild with the bot",
                        message.author.id)
            return None
        if is_direct:
            self.dm_channels.put(message.channel.id, True)
            channel_id, thread_id = str(message.channel.id), self._dm_thread(message)
        else:
            channel_id, thread_id = await self.place(message.channel)
        mentions_bot = me is not None and any(u.id == me.id for u in message.mentions)
        return IncomingMessage(
            platform=PLATFORM, workspace_id=workspace, event_id=str(message.id),
            actor=self.actor(message.author, member), channel_id=channel_id,
            text=self._text(message), message_id=str(message.id), thread_id=thread_id,
            is_direct=is_direct, mentions_bot=mentions_bot)

    def _dm_thread(self, message: discord.Message) -> str | None:
        reference = message.reference
        if reference is None or reference.message_id is None:
            return None
        replied = reference.resolved
        me = self.client.user
        # The bot replies to a ticket's first message; a reply to the bot's reply
        # belongs to that same ticket.
        if isinstance(replied, discord.Message) and me is not None and replied.author.id == me.id \
                and replied.reference is not None and replied.reference.message_id is not None:
            return str(replied.reference.message_id)
        return str(reference.message_id)

    def _text(self, message: discord.Message) -> str:
        text = message.content
        me = self.client.user
        if me is not None:
            text = text.replace(f"<@{me.id}>", "").replace(f"<@!{me.id}>", "").strip()
        channel = message.channel
        # A forum post's first message: its title says what the post is about.
        if getattr(channel, "id", None) == message.id and getattr(channel, "name", None) \
                and getattr(getattr(channel, "parent", None), "type", None) \
                == discord.ChannelType.forum:
            text = f"{channel.name}\n{text}".strip()
        for attachment in message.attachments:
            text += f"\n{attachment.url}"
        return text.strip()

    async def reaction(self, payload: discord.RawReactionActionEvent) -> ReactionAdded | None:
        """The ticket emoji on a message, with the message's author and text; other
        reactions mean nothing to the desk and are not passed on."""
        emoji = payload.emoji.name or ""
        me = self.client.user
        if emoji not in TICKET_EMOJIS or (me is not None and payload.user_id == me.id):
            return None
        guild = self.client.get_guild(payload.guild_id) if payload.guild_id else None
        user = payload.member or self.client.get_user(payload.user_id) \
            or await self.client.fetch_user(payload.user_id)
        workspace, member = await self.workspace_and_member(guild, user)
        if workspace is None:
            return None
        try:
            message = await self.client.get_partial_messageable(payload.channel_id) \
                .fetch_message(payload.message_id)
        except (discord.NotFound, discord.Forbidden):
            return None
        if guild is None:
            self.dm_channels.put(payload.channel_id, True)
            channel_id, thread_id = str(payload.channel_id), None
        else:
            channel_id, thread_id = await self.place(payload.channel_id)
        return ReactionAdded(
            platform=PLATFORM, workspace_id=workspace,
            event_id=f"rx:{payload.message_id}:{payload.user_id}:{emoji}",
            actor=self.actor(user, member), channel_id=channel_id, emoji=emoji.strip(":"),
            message_id=str(payload.message_id), thread_id=thread_id,
            message_author=self.actor(message.author),
            message_text=self._text(message))
