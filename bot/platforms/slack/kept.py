"""What of a Slack request the inbox keeps, and under which key, for every kind Slack
acknowledges: Events API events, slash commands and interactivity payloads (button
presses, modal submissions), over HTTP or a Socket Mode envelope.

Slack sends none of them again once acknowledged (a 200, or an ack over the socket), so
each is written to the inbox (bot/storage/inbox.py) before that acknowledgement. The key
is the id the desk's router deduplicates on: an event's ``event_id``, a command's or
interaction's ``trigger_id`` (a modal submission without one: its view's id and hash),
exactly as bot/platforms/slack/inbound.py names the neutral event, so a replay of a
request whose handling committed is dropped by the router's dedupe.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

# Interactivity payloads the desk listens to; others (shortcuts, block suggestions,
# view_closed) are not kept.
_INTERACTIONS = ("block_actions", "view_submission")


def inbox_key(body: Any) -> str | None:
    """The inbox key of a parsed request body (Bolt's ``body``, a Socket Mode
    envelope's payload), or None for a request the desk does not keep."""
    if not isinstance(body, dict):
        return None
    kind = body.get("type")
    key: Any = None
    if kind == "event_callback":
        key = body.get("event_id")
    elif kind in _INTERACTIONS:
        key = body.get("trigger_id")
        if not key and kind == "view_submission":
            view = body.get("view") or {}
            key = f"{view.get('id')}-{view.get('hash')}" if view.get("id") else None
    elif kind is None and body.get("command") and body.get("trigger_id"):
        key = body.get("trigger_id")  # a slash command: form fields, no type
    return key if isinstance(key, str) and key else None


def parse_request(body: str) -> dict | None:
    """An HTTP request's body as Bolt reads it: JSON (events), form fields (slash
    commands), or the JSON in the form field ``payload`` (interactivity); None when it
    is none of those."""
    try:
        if body.startswith(("{", "[")):  # JSON (Bolt reads a list as JSON too, then fails)
            parsed = json.loads(body)
            return parsed if isinstance(parsed, dict) else None
        fields = parse_qs(body, keep_blank_values=True)
        if "payload" in fields:
            parsed = json.loads(fields["payload"][0])
            return parsed if isinstance(parsed, dict) else None
        return {name: values[0] for name, values in fields.items()} or None
    except ValueError:
        return None


def stored_http(body: str, content_type: str) -> str:
    """What the inbox keeps of an HTTP request: its body, as signed, and content type."""
    return json.dumps({"body": body, "content_type": content_type})


def stored_envelope(kind: str, payload: dict) -> str:
    """What the inbox keeps of a Socket Mode envelope: its type and payload."""
    return json.dumps({"socket": payload, "type": kind})


def replayed_body(stored: str) -> dict | None:
    """The parsed body of a kept request, whichever way it came (for an instance that
    replays it without its signature: Socket Mode, or HTTP mode for an envelope)."""
    saved = json.loads(stored)
    if "socket" in saved:
        return saved["socket"] if isinstance(saved["socket"], dict) else None
    return parse_request(saved.get("body") or "")
