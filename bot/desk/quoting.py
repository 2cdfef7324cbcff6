"""Text written by people, made safe to repeat: it must never ping a whole group."""

from __future__ import annotations

import re

from bot.core.text import excerpt as _excerpt

_ZWSP = "\u200b"
# Slack: <!channel>, <!here>, <!everyone>, <!subteam^ID>; Discord: <@&role>;
# both, typed by hand: @everyone, @here, @channel.
_GROUP_MARKUP = re.compile(r"<(!|@&)")
_GROUP_WORDS = re.compile(r"@(everyone|here|channel)\b", re.I)

# What people write is repeated whole: the adapters split long text into messages the
# platform takes (bot/platforms/chunks.py). This bound is only against absurd input;
# Slack keeps 40,000 characters of a message, Discord 4,000.
MAX_RELAY_CHARS = 40_000


def defang(text: str) -> str:
    """``text`` with every group mention broken by a zero-width space, so repeating it
    pings nobody. Adapters also turn platform mentions off when they post."""
    text = _GROUP_MARKUP.sub(lambda m: "<" + _ZWSP + m.group(1), text)
    return _GROUP_WORDS.sub(lambda m: "@" + _ZWSP + m.group(1), text)


def excerpt(text: str, limit: int = MAX_RELAY_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying so when it was cut
    (:func:`bot.core.text.excerpt`, bounded by the desk's relay limit by default)."""
    return _excerpt(text, limit)

