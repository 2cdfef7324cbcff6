"""Block Kit: neutral messages as Slack blocks, home views and the modals buttons open.

Limits honoured (Slack rejects the whole call otherwise): 50 blocks per message and 100
per view, 3000 characters of ``mrkdwn`` per section, 150 per header, 10 fields of 2000
per section, 25 elements per actions block, 75 characters per button label and 2000 per
button value, 24 per modal title.

Nothing is cut off: long text becomes several sections, split at paragraphs, lines or
words and never inside an entity, a reference or a link (bot/platforms/chunks.py); a
field too long for a field becomes sections of its own; and a message with more blocks
(or text) than one Slack message holds becomes several messages (:func:`message_parts`),
the header leading the first and the buttons closing the last. Button ``action_id``s are unique within a message
(five rating buttons share one action, so repeats get a ``~n`` suffix that
:func:`action_of` removes).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.core import Button, FormField, OutboundMessage
from bot.platforms.chunks import split_text, units
from bot.platforms.slack.markup import escape, mrkdwn, plain, truncate_escaped

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
# A plain_text_input holds at most 3,000 characters (its initial value too).
INPUT_CHARS = 3000
CALLBACK_PREFIX = "hd|"
# Text Slack keeps in one message (it truncates beyond 40,000), and the length beyond
# which plain text goes in sections (Slack advises at most 4,000 characters of ``text``).
MESSAGE_TEXT_CHARS = 39_000
PLAIN_TEXT_CHARS = 4_000
# In escaped mrkdwn every & starts an entity and every < a reference; links are bare.
MARKUP = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>|https?://[^\s<>]+")
_FORM_MARK = '{"v":'


def needs_blocks(message: OutboundMessage) -> bool:
    """Plain text is enough unless the message has a title, fields or buttons, or its
    text is too long for one ``text``."""
    return bool(message.title or message.fields or message.buttons) \
        or units(escape(message.text)) > PLAIN_TEXT_CHARS


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
    blocks.extend(sections(message.text))
    return blocks


def sections(text: str) -> list[dict]:
    """``text`` as mrkdwn sections of at most 3,000 characters each, in order."""
    pieces = split_text(escape(text), SECTION_CHARS, MARKUP)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}}
            for piece in pieces if piece.strip()]


def _field_blocks(message: OutboundMessage) -> list[dict]:
    """Fields ten to a section; one too long for a field becomes sections of its own,
    in its place."""
    blocks: list[dict] = []
    run: list[dict] = []

    def flush() -> None:
        for start in range(0, len(run), FIELDS_PER_SECTION):
            blocks.append({"type": "section", "fields": run[start:start + FIELDS_PER_SECTION]})
        run.clear()

    for label, value in message.fields:
        text = f"*{label}*\n{value}"
        escaped = escape(text)
        if units(escaped) <= FIELD_CHARS:
            run.append({"type": "mrkdwn", "text": escaped})
        else:
            flush()
            blocks.extend(sections(text))
    flush()
    return blocks


def _actions(message: OutboundMessage) -> list[dict]:
    elements = button_elements(message.buttons)
    return [{"type": "actions", "elements": elements[start:start + BUTTONS_PER_ACTIONS]}
            for start in range(0, len(elements), BUTTONS_PER_ACTIONS)]


def message_blocks(message: OutboundMessage, limit: int = MESSAGE_BLOCKS) -> list[dict]:
    """Header, text, fields and buttons of ``message`` as one message (an edit replaces
    one), within ``limit`` blocks: when they do not all fit, the buttons are kept and
    the last block says that the rest is cut. A post is never cut: see
    :func:`message_parts`."""
    blocks = _title_and_text(message) + _field_blocks(message)
    actions = _actions(message)[:limit]
    room = limit - len(actions)
    if len(blocks) > room:
        blocks = blocks[:max(room - 1, 0)] + [
            {"type": "section", "text": {"type": "mrkdwn", "text": "…"}}][:max(room, 0)]
    return blocks + actions


def message_parts(message: OutboundMessage) -> list[tuple[str, list[dict]]]:
    """``message`` as the Slack messages (fallback text, blocks) that say all of it, in
    order: each within 50 blocks and the text one message keeps; the buttons close
    the last."""
    blocks = _title_and_text(message) + _field_blocks(message)
    actions = _actions(message)[:MESSAGE_BLOCKS]
    parts: list[list[dict]] = []
    current: list[dict] = []
    size = 0
    for block in blocks:
        length = _text_length(block)
        if current and (len(current) >= MESSAGE_BLOCKS or size + length > MESSAGE_TEXT_CHARS):
            parts.append(current)
            current, size = [], 0
        current.append(block)
        size += length
    if actions and len(current) + len(actions) > MESSAGE_BLOCKS:
        parts.append(current)
        current = []
    parts.append(current + actions)
    return [(fallback_text(message) if index == 0 else _fallback_of(part), part)
            for index, part in enumerate(parts)]


def _text_length(block: dict) -> int:
    if "text" in block:
        return units(block["text"]["text"])
    return sum(units(field["text"]) for field in block.get("fields", ()))


def _fallback_of(blocks: list[dict]) -> str:
    """The notification text of a later part: the start of what it says."""
    texts = [b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b]
    texts += [f["text"] for b in blocks for f in b.get("fields", ())]
    return truncate_escaped("\n".join(texts), FALLBACK_CHARS) or "…"


def home_view(message: OutboundMessage) -> dict:
    """An App Home view: the title, the text, then each field as a titled section."""
    blocks = _title_and_text(message)
    for label, value in message.fields:
        blocks.append({"type": "divider"})
        blocks.extend(sections(f"*{label}*\n{value}"))
    blocks.extend(_actions(message))
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS]}


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
        limit = min(field.max_chars or INPUT_CHARS, INPUT_CHARS)
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": field.name,
                                   "multiline": field.multiline, "max_length": limit}
        if field.initial:
            element["initial_value"] = field.initial[:limit]
        blocks.append({
            "type": "input", "block_id": field.name, "optional": field.optional,
            "label": {"type": "plain_text", "text": plain(field.label, 2000), "emoji": True},
            "element": element,
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
