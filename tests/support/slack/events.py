"""What Slack sends an app: payloads, and signed HTTP deliveries with Slack's retries.

Payload builders follow Slack's documented shapes (Events API ``event_callback``,
slash command forms, ``block_actions`` and ``view_submission`` interactions). Buttons
are pressed from the blocks the bot really posted, and modals submitted from the
views it really opened, so a test exercises the round trip.

:class:`SignedSender` signs with Slack's algorithm over the exact bytes it sends
(``v0=`` + HMAC-SHA256 of ``v0:{timestamp}:{body}``), waits at most 3 s like Slack, and
:meth:`SignedSender.deliver` re-delivers with ``X-Slack-Retry-Num`` when a request fails
or times out.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass
from urllib.parse import urlencode

import aiohttp

_ids = itertools.count(1)
SLACK_TIMEOUT = 3.0


def unique(prefix: str) -> str:
    """A fresh id (event ids, trigger ids)."""
    return f"{prefix}{next(_ids):06d}"


def event_callback(event: dict, *, team: str, event_id: str | None = None) -> dict:
    """An Events API envelope around ``event``."""
    return {"token": "legacy", "team_id": team, "api_app_id": "A0FAKE", "event": event,
            "type": "event_callback", "event_id": event_id or unique("Ev"),
            "event_time": int(time.time()), "authorizations": [
                {"team_id": team, "user_id": "UBOT", "is_bot": True}]}


def message_event(message: dict, *, channel_type: str = "channel", **extra) -> dict:
    """The ``message`` event for a stored message."""
    event = {"type": "message", "channel_type": channel_type, "event_ts": message["ts"],
             **{k: v for k, v in message.items() if k not in ("blocks", "metadata")}, **extra}
    return event


def slash_command(command: str, text: str, *, team: str, user: str, channel: str,
                  response_url: str, channel_name: str = "general") -> dict[str, str]:
    """A slash command's form fields."""
    return {"token": "legacy", "team_id": team, "team_domain": "fake", "channel_id": channel,
            "channel_name": channel_name, "user_id": user, "user_name": user.lower(),
            "command": command, "text": text, "api_app_id": "A0FAKE",
            "response_url": response_url, "trigger_id": unique("trig.")}


def find_button(message: dict, action: str, value_suffix: str = "") -> dict:
    """The button with neutral action ``action`` (and a value ending in ``value_suffix``)
    in a posted message's blocks."""
    for block in message.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if (element["action_id"] == action or element["action_id"].startswith(action + "~")) \
                    and element.get("value", "").endswith(value_suffix):
                return element
    raise AssertionError(f"no {action!r} button in {message.get('text', '')[:80]!r}")


def block_actions(message: dict, button: dict, *, team: str, user: str,
                  response_url: str) -> dict:
    """Pressing ``button`` of a message the bot posted (``message`` as the fake stores it)."""
    return {"type": "block_actions", "team": {"id": team, "domain": "fake"},
            "user": {"id": user, "team_id": team}, "api_app_id": "A0FAKE",
            "trigger_id": unique("trig."), "response_url": response_url,
            "container": {"type": "message", "message_ts": message["ts"],
                          "channel_id": message["channel"], "is_ephemeral": False},
            "channel": {"id": message["channel"]},
            "message": {k: v for k, v in message.items() if k != "channel"},
            "actions": [{"type": "button", "action_id": button["action_id"],
                         "block_id": "b1", "value": button.get("value", ""),
                         "text": button["text"], "action_ts": str(time.time())}]}


def view_submission(view: dict, answers: dict[str, str], *, team: str, user: str) -> dict:
    """Submitting a modal the bot opened, with ``answers`` by block id."""
    values = {block["block_id"]: {block["element"]["action_id"]: {
        "type": "plain_text_input", "value": answers.get(block["block_id"]) or None}}
        for block in view["blocks"] if block["type"] == "input"}
    return {"type": "view_submission", "team": {"id": team}, "user": {"id": user, "team_id": team},
            "api_app_id": "A0FAKE", "trigger_id": unique("trig."),
            "view": dict(view, state={"values": values}, hash="h1")}


def home_opened(*, team: str, user: str, channel: str) -> dict:
    """The ``app_home_opened`` event."""
    return {"type": "app_home_opened", "user": user, "channel": channel, "tab": "home",
            "event_ts": str(time.time())}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class HttpResult:
    """One HTTP delivery: status (None on timeout), body and seconds taken."""

    status: int | None
    body: str
    seconds: float
    retry_num: int | None = None


class SignedSender:
    """Sends signed requests to the app's Request URL as Slack does."""

    def __init__(self, url: str, secret: str, timeout: float = SLACK_TIMEOUT) -> None:
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.sent: list[HttpResult] = []
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def post(self, body: bytes, content_type: str, *, retry_num: int | None = None,
                   retry_reason: str = "http_timeout", timestamp: str | None = None,
                   secret: str | None = None, signature: str | None = None) -> HttpResult:
        """One signed POST (override ``timestamp``, ``secret`` or ``signature`` to forge)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        stamp = timestamp or str(int(time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": signature or sign(secret or self.secret, stamp, body)}
        if retry_num is not None:
            headers.update({"X-Slack-Retry-Num": str(retry_num),
                            "X-Slack-Retry-Reason": retry_reason})
        started = time.monotonic()
        try:
            async with self._session.post(self.url, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=self.timeout)) as r:
                result = HttpResult(r.status, await r.text(), time.monotonic() - started, retry_num)
        except (aiohttp.ClientError, TimeoutError):
            result = HttpResult(None, "", time.monotonic() - started, retry_num)
        self.sent.append(result)
        return result

    async def event(self, payload: dict, **kwargs) -> HttpResult:
        """An Events API request (JSON)."""
        return await self.post(json.dumps(payload).encode(), "application/json", **kwargs)

    async def command(self, fields: dict[str, str], **kwargs) -> HttpResult:
        """A slash command (form-encoded)."""
        return await self.post(urlencode(fields).encode(), "application/x-www-form-urlencoded",
                               **kwargs)

    async def interaction(self, payload: dict, **kwargs) -> HttpResult:
        """An interaction (form field ``payload`` holding JSON)."""
        return await self.command({"payload": json.dumps(payload)}, **kwargs)

    async def deliver(self, payload: dict, retries: int = 3) -> list[HttpResult]:
        """An event as Slack delivers it: again, with ``X-Slack-Retry-Num``, while the
        answer is not a 2xx within 3 s (Slack waits 1 and 5 minutes; we do not)."""
        results = [await self.event(payload)]
        for number in range(1, retries + 1):
            last = results[-1]
            if last.status is not None and 200 <= last.status < 300:
                break
            reason = "http_timeout" if last.status is None else "http_error"
            results.append(await self.event(payload, retry_num=number, retry_reason=reason))
        return results
