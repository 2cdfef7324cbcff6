"""Block Kit: neutral messages as Slack blocks, home views and the modals buttons open.

Limits honoured (Slack rejects the whole call otherwise): 50 blocks per message and 100
per view, 3000 characters of ``mrkdwn`` per section, 150 per header, 10 fields of 2000
per section, 25 elements per actions block, 75 characters per button label and 2000 per
button value, 24 per modal title. Button ``action_id``s are unique within a message
(five rating buttons share one action, so repeats get a ``~n`` suffix that
:func:`action_of` removes).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.core import Button, FormField, OutboundMessage
from bot.platforms.slack.markup import mrkdwn, plain

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_CHARS = 3000
HEADER_CHARS = 150
FIELD_CHARS = 2000
FIELDS_PER_SECTION = 10
BUTTONS_PER_ACTIONS = 25
BUTTON_LABEL_CHARS = 75
FALLBACK_CHARS = 3000
MODAL_TITLE_CHARS = 24
CALLBACK_PREFIX = "hd|"
_FORM_MARK = '{"v":'


def needs_blocks(message: OutboundMessage) -> bool:
    """Plain text is enough unless the message has a title, fields or buttons."""
    return bool(message.title or message.fields or message.buttons)


def fallback_text(message: OutboundMessage) -> str:
    """The top-level ``text``: notifications and screen readers use it."""
    text = f"{message.title}\n{message.text}" if message.title else message.text
    return mrkdwn(text, FALLBACK_CHARS)


def _title_and_text(message: OutboundMessage) -> list[dict]:
    """The header (when the message has a title) and the text section (when it has
    text) that every rendering of a message starts with."""
    blocks: list[dict] = []
    if message.title:
        blocks.append({"type": "header", "text": {
            "type": "plain_text", "text": plain(message.title, HEADER_CHARS), "emoji": True}})
    if message.text.strip():
        blocks.append(_section(message.text))
    return blocks


def message_blocks(message: OutboundMessage, limit: int = MESSAGE_BLOCKS) -> list[dict]:
    """Header, text, fields and buttons of ``message``, within ``limit`` blocks."""
    blocks = _title_and_text(message)
    fields = [{"type": "mrkdwn", "text": mrkdwn(f"*{label}*\n{value}", FIELD_CHARS)}
              for label, value in message.fields]
    for start in range(0, len(fields), FIELDS_PER_SECTION):
        blocks.append({"type": "section", "fields": fields[start:start + FIELDS_PER_SECTION]})
    elements = button_elements(message.buttons)
    actions = [{"type": "actions", "elements": elements[start:start + BUTTONS_PER_ACTIONS]}
               for start in range(0, len(elements), BUTTONS_PER_ACTIONS)]
    # Buttons matter more than trailing text: keep them when something must go.
    room = limit - len(actions)
    return blocks[:max(room, 0)] + actions[:limit]


def home_view(message: OutboundMessage) -> dict:
    """An App Home view: the title, the text, then each field as a titled section."""
    blocks = _title_and_text(message)
    for label, value in message.fields:
        blocks.append({"type": "divider"})
        blocks.append(_section(f"*{label}*\n{value}"))
    elements = button_elements(message.buttons)
    blocks.extend({"type": "actions", "elements": elements[start:start + BUTTONS_PER_ACTIONS]}
                  for start in range(0, len(elements), BUTTONS_PER_ACTIONS))
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(text, SECTION_CHARS)}}


def button_elements(buttons: tuple[Button, ...]) -> list[dict]:
    """Button elements with unique ``action_id``s; a button with a form carries it in its
    value, so the click alone says which modal to open (even after a restart)."""
    seen: dict[str, int] = {}
    elements = []
    for button in buttons:
        count = seen.get(button.action, 0)
        seen[button.action] = count + 1
        element: dict[str, Any] = {
            "type": "button",
            "action_id": button.action if not count else f"{button.action}~{count}",
            "text": {"type": "plain_text", "text": plain(button.label, BUTTON_LABEL_CHARS),
                     "emoji": True},
            "value": encode_value(button),
        }
        if button.style in ("primary", "danger"):
            element["style"] = button.style
        elements.append(element)
    return elements


def action_of(action_id: str) -> str:
    """The neutral action of a button's ``action_id`` (without a ``~n`` suffix)."""
    base, _, suffix = action_id.rpartition("~")
    return base if base and suffix.isdigit() else action_id


def encode_value(button: Button) -> str:
    """The button's value, with its form fields when it has any."""
    if not button.form:
        return button.value
    # A button value holds 2000 characters: labels are cut so the form always fits.
    return json.dumps({"v": button.value, "f": [[f.name, f.label[:200], f.multiline, f.optional]
                                               for f in button.form[:5]]}, separators=(",", ":"))


def decode_value(value: str | None) -> tuple[str, tuple[FormField, ...]]:
    """The inverse of :func:`encode_value`: the neutral value and the form, if any."""
    value = value or ""
    if not value.startswith(_FORM_MARK):
        return value, ()
    try:
        data = json.loads(value)
        return str(data["v"]), tuple(FormField(str(n), str(lbl), bool(m), bool(o))
                                     for n, lbl, m, o in data["f"])
    except (ValueError, KeyError, TypeError):
        return value, ()


@dataclass(frozen=True)
class FormOrigin:
    """Where a modal's button was pressed, kept in the modal's ``private_metadata`` so
    the submission can be answered there."""

    action: str
    value: str
    label: str
    channel_id: str
    message_id: str | None
    thread_id: str | None
    response_url: str | None

    def dump(self) -> str:
        """As ``private_metadata`` (at most 3000 characters)."""
        return json.dumps(self.__dict__, separators=(",", ":"))[:3000]

    @classmethod
    def load(cls, text: str) -> "FormOrigin":
        """From ``private_metadata``."""
        return cls(**json.loads(text))


def modal(origin: FormOrigin, form: tuple[FormField, ...]) -> dict:
    """The modal a form button opens: one input per field."""
    blocks = []
    for field in form:
        blocks.append({
            "type": "input", "block_id": field.name, "optional": field.optional,
            "label": {"type": "plain_text", "text": plain(field.label, 2000), "emoji": True},
            "element": {"type": "plain_text_input", "action_id": field.name,
                        "multiline": field.multiline, "max_length": 3000},
        })
    title = plain(origin.label, MODAL_TITLE_CHARS)
    callback = f"{CALLBACK_PREFIX}{origin.action}|{origin.value}"
    return {
        "type": "modal", "callback_id": callback[:255], "private_metadata": origin.dump(),
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "submit": {"type": "plain_text", "text": title, "emoji": True},
        "blocks": blocks[:VIEW_BLOCKS],
    }


def form_values(view: dict) -> dict[str, str]:
    """A submitted modal's answers by field name (empty optional fields as "")."""
    answers: dict[str, str] = {}
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        for element in inputs.values():
            answers[block_id] = (element.get("value") or "").strip()
    return answers
