"""Discord wire payloads for the fake: users, guilds, channels, members, messages and
interactions, shaped the way discord.py 2.7 parses them.

Only the fields discord.py reads (or that the desk's adapter reads) are filled in;
where discord.py insists on a field (a member's ``flags``, an interaction's
``attachment_size_limit``) it is always present.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

DISCORD_EPOCH_MS = 1420070400000
TEXT, DM, FORUM, PUBLIC_THREAD = 0, 1, 15, 11
# Permission bits the fake hands out.
MANAGE_GUILD = 1 << 5
EVERYONE_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 6) | (1 << 16) | (1 << 38)


class Snowflakes:
    """Unique ids carrying their creation time, like Discord's."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self, at: datetime | None = None) -> str:
        """A fresh snowflake for ``at`` (default: now)."""
        moment = at or datetime.now(timezone.utc)
        ms = int(moment.timestamp() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._counter) & 0x3FFFFF))


def iso(moment: datetime | None = None) -> str:
    """An ISO-8601 timestamp as Discord writes it."""
    return (moment or datetime.now(timezone.utc)).isoformat()


def user(user_id: str, name: str, *, bot: bool = False) -> dict[str, Any]:
    """A user object."""
    return {"id": user_id, "username": name.lower(), "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0}


def member(user_payload: dict, *, roles: list[str] | None = None,
           permissions: int | None = None) -> dict[str, Any]:
    """A guild member; ``permissions`` is added as interactions carry it."""
    data = {"user": user_payload, "roles": roles or [], "joined_at": iso(), "deaf": False,
            "mute": False, "flags": 0, "nick": None, "avatar": None, "premium_since": None,
            "pending": False, "communication_disabled_until": None}
    if permissions is not None:
        data["permissions"] = str(permissions)
    return data


def role(role_id: str, name: str, permissions: int) -> dict[str, Any]:
    """A guild role."""
    return {"id": role_id, "name": name, "permissions": str(permissions), "position": 0,
            "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}


def channel(channel_id: str, guild_id: str, name: str, kind: int = TEXT, *,
            parent_id: str | None = None, owner_id: str | None = None) -> dict[str, Any]:
    """A guild text channel, forum channel or public thread."""
    data: dict[str, Any] = {"id": channel_id, "type": kind, "guild_id": guild_id, "name": name,
                            "position": 0, "permission_overwrites": [], "nsfw": False,
                            "parent_id": parent_id, "topic": None, "last_message_id": None,
                            "rate_limit_per_user": 0, "flags": 0}
    if kind == FORUM:
        data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None,
                    default_forum_layout=0, default_thread_rate_limit_per_user=0)
    if kind == PUBLIC_THREAD:
        data.update(owner_id=owner_id, message_count=0, member_count=1, applied_tags=[],
                    thread_metadata={"archived": False, "auto_archive_duration": 10080,
                                     "archive_timestamp": iso(), "locked": False})
    return data


def dm_channel(channel_id: str, recipient: dict) -> dict[str, Any]:
    """A direct-message channel with one recipient."""
    return {"id": channel_id, "type": DM, "last_message_id": None, "recipients": [recipient],
            "flags": 0}


def guild(guild_id: str, name: str, owner_id: str, *, roles: list[dict], channels: list[dict],
          threads: list[dict], members: list[dict]) -> dict[str, Any]:
    """A full GUILD_CREATE payload."""
    return {"id": guild_id, "name": name, "icon": None, "owner_id": owner_id, "roles": roles,
            "emojis": [], "stickers": [], "features": [], "channels": channels,
            "threads": threads, "members": members, "member_count": len(members),
            "unavailable": False, "large": False, "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "preferred_locale": "en-US", "system_channel_flags": 0, "joined_at": iso(),
            "afk_timeout": 300, "application_id": None, "description": None}


def message(message_id: str, channel_id: str, author: dict, content: str, *,
            guild_id: str | None = None, member_payload: dict | None = None,
            mentions: list[dict] | None = None, **extra: Any) -> dict[str, Any]:
    """A message object (MESSAGE_CREATE adds ``guild_id`` and ``member`` in guilds)."""
    data = {"id": message_id, "channel_id": channel_id, "author": author, "content": content,
            "timestamp": iso(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": mentions or [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": False, "type": 0, "flags": 0,
            "components": []}
    if guild_id is not None:
        data["guild_id"] = guild_id
    if member_payload is not None:
        data["member"] = {k: v for k, v in member_payload.items() if k != "user"}
    data.update({k: v for k, v in extra.items() if v is not None})
    return data


def interaction(interaction_id: str, application_id: str, kind: int, data: dict, *,
                token: str, channel_payload: dict, guild_id: str | None,
                member_payload: dict | None, user_payload: dict,
                message_payload: dict | None = None) -> dict[str, Any]:
    """An INTERACTION_CREATE payload (command 2, component 3, modal submit 5)."""
    payload: dict[str, Any] = {
        "id": interaction_id, "application_id": application_id, "type": kind, "data": data,
        "channel_id": channel_payload["id"], "channel": channel_payload, "token": token,
        "version": 1, "locale": "en-US", "app_permissions": str((1 << 41) - 1),
        "entitlements": [], "authorizing_integration_owners": {"0": guild_id or "0"},
        "context": 0 if guild_id else 1, "attachment_size_limit": 8 * 1024 * 1024,
    }
    if guild_id is not None:
        payload.update(guild_id=guild_id, guild_locale="en-US", member=member_payload)
    else:
        payload["user"] = user_payload
    if message_payload is not None:
        payload["message"] = message_payload
    return payload
