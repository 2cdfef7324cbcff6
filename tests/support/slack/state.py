"""The fake workspace's state and the Web API methods that read or change it.

Messages keep what Slack keeps: channel, ``ts``, ``thread_ts``, text, blocks, author
(``user``, and ``bot_id`` for the bot) and message metadata, which history and replies
return only with ``include_all_metadata``. ``ts`` values grow strictly, as Slack's do.
"""

from __future__ import annotations

import itertools
import time
from typing import Any


# Slack keeps this much of a message's text and truncates the rest.
TEXT_KEPT = 40_000


def invalid_blocks(blocks: Any) -> str | None:
    """What Slack's ``invalid_blocks`` would name in ``blocks``, or None."""
    if not blocks:
        return None
    if len(blocks) > 50:
        return "no more than 50 items allowed [json-pointer:/blocks]"
    for index, block in enumerate(blocks):
        text = (block.get("text") or {}).get("text") or ""
        limit = {"section": 3000, "header": 150}.get(block.get("type"))
        if limit is not None and len(text) > limit:
            return f"must be less than {limit + 1} characters [json-pointer:/blocks/{index}/text]"
        fields = block.get("fields") or []
        if len(fields) > 10 or any(len(f.get("text") or "") > 2000 for f in fields):
            return f"fields too long [json-pointer:/blocks/{index}/fields]"
        if len(block.get("elements") or []) > 25:
            return f"too many elements [json-pointer:/blocks/{index}/elements]"
    return None


def _truthy(value: Any) -> bool:
    return value in (True, 1, "1", "true", "True")


class SlackState:
    """Users, DMs, messages, ephemerals, modals and home views of one fake workspace."""

    def __init__(self, team_id: str, bot_user: str, bot_id: str) -> None:
        self.team_id = team_id
        self.bot_user = bot_user
        self.bot_id = bot_id
        self.users: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.ephemerals: list[dict] = []
        self.modals: list[dict] = []  # views.open: {"trigger_id", "view"}
        self.home_views: dict[str, dict] = {}  # user id -> last published view
        self.auto_users = False  # answer users.info for anyone, inventing a profile
        self._ts = itertools.count(1)
        self._views = itertools.count(1)

    # -- setting the scene ------------------------------------------------------

    def add_user(self, user_id: str, name: str, *, email: str | None = None,
                 tz: str = "Europe/London", is_admin: bool = False, is_owner: bool = False,
                 is_bot: bool = False, team_id: str | None = None) -> dict:
        """A member of the workspace, as ``users.info`` describes them."""
        user = {"id": user_id, "team_id": team_id or self.team_id, "name": name.lower(),
                "real_name": name, "tz": tz, "is_admin": is_admin, "is_owner": is_owner,
                "is_primary_owner": False, "is_bot": is_bot, "deleted": False,
                "profile": {"display_name": name, "real_name": name,
                            "email": email or f"{name.lower()}@example.com"}}
        self.users[user_id] = user
        return user

    def next_ts(self) -> str:
        """A fresh message ts, later than every earlier one."""
        return f"{int(time.time())}.{next(self._ts):06d}"

    def add_message(self, channel: str, user: str, text: str, *,
                    thread_ts: str | None = None, bot_id: str | None = None) -> dict:
        """A message someone wrote (tests build the matching event from it)."""
        message = {"type": "message", "channel": channel, "ts": self.next_ts(), "user": user,
                   "text": text}
        if thread_ts:
            message["thread_ts"] = thread_ts
        if bot_id:
            message["bot_id"] = bot_id
        self.messages.append(message)
        return message

    # -- what tests read ------------------------------------------------------------

    def bot_messages(self, channel: str | None = None, thread_ts: str | None = None, *,
                     top_level: bool = False) -> list[dict]:
        """Messages the bot posted, optionally in one channel (and one thread, or only
        outside threads)."""
        return [m for m in self.messages if m.get("bot_id") == self.bot_id
                and (channel is None or m["channel"] == channel)
                and (thread_ts is None or m.get("thread_ts") == thread_ts)
                and not (top_level and m.get("thread_ts"))]

    def find(self, channel: str, ts: str) -> dict | None:
        """The message at ``ts`` in ``channel``."""
        return next((m for m in self.messages if m["channel"] == channel and m["ts"] == ts), None)

    def dm_of(self, user_id: str) -> str:
        """The bot's DM channel with ``user_id``."""
        return f"D{user_id}"

    # -- Web API methods ----------------------------------------------------------------

    def api_auth_test(self, args: dict) -> dict:
        """Who the token belongs to: Bolt needs ``user_id`` and ``bot_id``."""
        return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake team",
                "user": "helpdesk", "team_id": self.team_id, "user_id": self.bot_user,
                "bot_id": self.bot_id, "is_enterprise_install": False}

    def api_users_info(self, args: dict) -> dict:
        """A member's profile."""
        user = self.users.get(args.get("user", ""))
        if user is None and self.auto_users and args.get("user"):
            user = self.add_user(args["user"], f"Person {args['user'][-5:]}")
        return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}

    def api_conversations_open(self, args: dict) -> dict:
        """The bot's DM with one person."""
        users = str(args.get("users", ""))
        if "," in users or not users:
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "channel": {"id": self.dm_of(users)}}

    def api_chat_postMessage(self, args: dict) -> dict:
        """Store a bot message (Block Kit limits enforced, text kept up to 40,000)."""
        problem = invalid_blocks(args.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        message = {"type": "message", "channel": args["channel"], "ts": self.next_ts(),
                   "user": self.bot_user, "bot_id": self.bot_id,
                   "text": args.get("text", "")[:TEXT_KEPT],
                   "blocks": args.get("blocks") or []}
        if args.get("thread_ts"):
            message["thread_ts"] = args["thread_ts"]
        if args.get("metadata"):
            message["metadata"] = args["metadata"]
        self.messages.append(message)
        return {"ok": True, "channel": message["channel"], "ts": message["ts"],
                "message": {k: v for k, v in message.items() if k != "channel"}}

    def api_chat_update(self, args: dict) -> dict:
        """Replace a bot message's text and blocks."""
        message = self.find(args.get("channel", ""), args.get("ts", ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        problem = invalid_blocks(args.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        message["text"] = args.get("text", "")
        message["blocks"] = args.get("blocks") or []
        message["edits"] = message.get("edits", 0) + 1
        return {"ok": True, "channel": message["channel"], "ts": message["ts"],
                "text": message["text"]}

    def api_chat_postEphemeral(self, args: dict) -> dict:
        """Store a message only ``user`` sees."""
        problem = invalid_blocks(args.get("blocks"))
        if problem:
            return {"ok": False, "error": "invalid_blocks", "errors": [problem]}
        message = {"channel": args["channel"], "user": args["user"], "text": args.get("text", ""),
                   "blocks": args.get("blocks") or [], "thread_ts": args.get("thread_ts"),
                   "message_ts": self.next_ts()}
        self.ephemerals.append(message)
        return {"ok": True, "message_ts": message["message_ts"]}

    def api_chat_getPermalink(self, args: dict) -> dict:
        """A link to a message."""
        ts = str(args.get("message_ts", ""))
        return {"ok": True, "channel": args.get("channel"),
                "permalink": f"https://fake.slack.test/archives/{args.get('channel')}/"
                             f"p{ts.replace('.', '')}"}

    def api_conversations_replies(self, args: dict) -> dict:
        """A thread, parent first, oldest to newest (paged by ``limit`` and ``cursor``)."""
        channel, ts = args.get("channel", ""), str(args.get("ts", ""))
        anchor = self.find(channel, ts)
        if anchor is None:
            return {"ok": False, "error": "thread_not_found"}
        root_ts = anchor.get("thread_ts") or anchor["ts"]
        root = self.find(channel, root_ts) or anchor
        replies = [m for m in self.messages if m["channel"] == channel
                   and m.get("thread_ts") == root_ts and m["ts"] != root_ts]
        return self._page([root] + self._window(replies, args), args)

    def api_conversations_history(self, args: dict) -> dict:
        """A channel's top-level messages, newest first."""
        channel = args.get("channel", "")
        top = [m for m in self.messages if m["channel"] == channel
               and m.get("thread_ts") in (None, m["ts"])]
        return self._page(list(reversed(self._window(top, args))), args)

    def _window(self, messages: list[dict], args: dict) -> list[dict]:
        inclusive = _truthy(args.get("inclusive"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or 9e12)
        return [m for m in messages
                if (oldest <= float(m["ts"]) if inclusive else oldest < float(m["ts"]))
                and (float(m["ts"]) <= latest if inclusive else float(m["ts"]) < latest)]

    def _page(self, messages: list[dict], args: dict) -> dict:
        start = int(args.get("cursor") or 0)
        limit = min(int(args.get("limit") or 100), 1000)
        page = messages[start:start + limit]
        with_metadata = _truthy(args.get("include_all_metadata"))
        shown = [{k: v for k, v in m.items() if k != "metadata" or with_metadata} for m in page]
        more = start + limit < len(messages)
        return {"ok": True, "messages": shown, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def api_views_open(self, args: dict) -> dict:
        """Open a modal (needs a trigger id)."""
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = dict(args["view"], id=f"V{next(self._views):05d}")
        self.modals.append({"trigger_id": args["trigger_id"], "view": view})
        return {"ok": True, "view": view}

    def api_views_publish(self, args: dict) -> dict:
        """Publish a user's App Home."""
        view = dict(args["view"], id=f"VH{args['user_id']}")
        self.home_views[args["user_id"]] = view
        return {"ok": True, "view": view}
