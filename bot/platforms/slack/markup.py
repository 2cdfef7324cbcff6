"""Slack text rules: what comes in is unescaped once, what goes out is escaped once.

Slack escapes ``&``, ``<`` and ``>`` in message text as ``&amp;``, ``&lt;`` and ``&gt;``
and writes live references as ``<@U…>``, ``<#C…>``, ``<!here>`` and links as ``<url|label>``.
The neutral text the desk works with is plain: entities decoded, references kept.

On the way out every ``&``, ``<`` and ``>`` is escaped except person and channel
references (``<@U…>``, ``<#C…>``, optionally with ``|label``), the neutral markup the
templates share with Discord. So ``<!channel>``, ``<!here>``, ``<!subteam^…>``, links and
anything else a person typed reaches Slack as literal text and can never ping a group or
open a link, whatever the handlers did to it before (they also ``defang`` it).
"""

from __future__ import annotations

import re

ELLIPSIS = "…"

_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITY_TEXT = {"amp": "&", "lt": "<", "gt": ">"}
# A person or channel reference. The label may not hold <, > or &, so no markup can
# hide inside it; anything that fails this pattern is escaped as plain text.
_REFERENCE = re.compile(r"<(?:@[UW][A-Z0-9]{2,30}|#[CGD][A-Z0-9]{2,30})(?:\|[^<>&\n]{1,80})?>")
_BOT_MENTION = r"<@{user}(?:\|[^>]*)?>"


def unescape(text: str) -> str:
    """Slack's message or command text as plain text: ``&lt;`` becomes ``<`` in a single
    pass (``&amp;lt;`` becomes ``&lt;``, as the person typed it); references stay."""
    return _ENTITY.sub(lambda m: _ENTITY_TEXT[m.group(1)], text)


def strip_mention(text: str, user_id: str | None) -> str:
    """``text`` without mentions of ``user_id`` (the bot), tidied: "<@UBOT> help" is "help"."""
    if not user_id:
        return text.strip()
    text = re.sub(_BOT_MENTION.format(user=re.escape(user_id)), "", text)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def mentions(text: str, user_id: str | None) -> bool:
    """True when ``text`` mentions ``user_id``."""
    if not user_id:
        return False
    return re.search(_BOT_MENTION.format(user=re.escape(user_id)), text) is not None


def _escape_plain(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape(text: str) -> str:
    """Neutral text as Slack ``mrkdwn``: everything escaped but person and channel references."""
    out, position = [], 0
    for match in _REFERENCE.finditer(text):
        out.append(_escape_plain(text[position:match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_escape_plain(text[position:]))
    return "".join(out)


def truncate_escaped(text: str, limit: int) -> str:
    """Cut escaped ``mrkdwn`` to ``limit`` characters without splitting an entity
    (``&amp;``) or a reference (``<@U…>``), marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    # After escaping, every "&" starts an entity and every "<" a reference: if the last
    # one is still open at the cut, cut before it.
    amp = cut.rfind("&")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    angle = cut.rfind("<")
    if angle > cut.rfind(">"):
        cut = cut[:angle]
    return cut.rstrip() + ELLIPSIS


def mrkdwn(text: str, limit: int) -> str:
    """Escape, then fit into ``limit`` characters."""
    return truncate_escaped(escape(text), limit)


def plain(text: str, limit: int) -> str:
    """Text for a ``plain_text`` object (never parsed for markup), cut to ``limit``."""
    text = " ".join(text.split()) if "\n" in text else text
    return text if len(text) <= limit else text[: limit - len(ELLIPSIS)].rstrip() + ELLIPSIS
