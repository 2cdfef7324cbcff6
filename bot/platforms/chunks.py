"""Long text in pieces a platform accepts: in order, nothing lost, nothing cut in two.

Platforms cap a message (Discord: 2,000 characters of content, 4,096 of an embed's
description; Slack: 3,000 of a section block). The desk says what it has to say, however
long; each adapter splits it here into pieces within its limit.

A piece ends at the last paragraph break before the limit, else the last line break,
else the last space, found in the second half of the room; only a single word longer
than half the room is cut inside. No cut falls inside a markup entity or link the
platform would read (``<@U123>``, ``&amp;``, a URL: each adapter says which), nor inside
a character a person sees as one (an accent after its letter, an emoji with its
modifiers or joiners, a flag). The whitespace at a cut separates the pieces and is
dropped; every other character arrives, in order.

Lengths are counted in UTF-16 code units (an emoji counts two), which is never less
than what the platforms count, so a piece is never over their limit.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Awaitable, Callable, Sequence

from bot.core import DeliveryError

_SEPARATORS = ("\n\n", "\n", " ")
_ZWJ = "\u200d"


def units(text: str) -> int:
    """The length of ``text`` in UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _extends(ch: str) -> bool:
    """True for a character that belongs to the one before it (a combining mark, a
    joiner, a variation selector, an emoji skin tone or tag)."""
    code = ord(ch)
    # Combining marks and variation selectors are all marks (Mn, Me, Mc); the joiner,
    # skin tones and tags are not, so they are named.
    return (unicodedata.category(ch) in ("Mn", "Me", "Mc") or ch == _ZWJ
            or 0x1F3FB <= code <= 0x1F3FF or 0xE0020 <= code <= 0xE007F)


def _regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _whole_character_at(text: str, index: int) -> bool:
    """Whether cutting ``text`` before ``index`` keeps every visible character whole."""
    if index <= 0 or index >= len(text):
        return True
    before, after = text[index - 1], text[index]
    if _extends(after) or before == _ZWJ:
        return False
    if _regional(before) and _regional(after):
        run = 0
        while index - run - 1 >= 0 and _regional(text[index - run - 1]):
            run += 1
        return run % 2 == 0  # flags are pairs: cut only between two of them
    return True


def _room(text: str, limit: int) -> int:
    """How many characters of ``text`` fit in ``limit`` UTF-16 units."""
    used = 0
    for index, ch in enumerate(text):
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > limit:
            return index
    return len(text)


def split_text(text: str, limit: int, atomic: re.Pattern[str] | None = None) -> list[str]:
    """``text`` in pieces of at most ``limit`` UTF-16 units (see the module doc);
    ``atomic`` matches the spans no cut may fall inside. Always at least one piece."""
    if limit < 2:
        raise ValueError("a piece must hold at least two units")
    pieces: list[str] = []
    rest = text
    while units(rest) > limit:
        cut, skip = _cut(rest, limit, atomic)
        piece = rest[:cut].rstrip()
        if not piece:  # only whitespace before the cut: cut inside it instead
            piece, skip = rest[:cut], 0
        pieces.append(piece)
        rest = rest[cut + skip:]
        if skip:
            rest = rest.lstrip("\n")
    if rest.strip() or not pieces:
        pieces.append(rest)
    return pieces


def _cut(text: str, limit: int, atomic: re.Pattern[str] | None) -> tuple[int, int]:
    """Where to end the first piece, and how many separator characters to drop there."""
    room = _room(text, limit)
    spans = [m.span() for m in atomic.finditer(text, 0, min(len(text), room * 2 + 1))] \
        if atomic is not None else []

    def inside(index: int) -> int | None:
        """The start of the span ``index`` falls strictly inside, if any."""
        for start, end in spans:
            if start < index < end:
                return start
        return None

    low = max(room // 2, 1)
    for separator in _SEPARATORS:
        position = text.rfind(separator, low, room)
        while position >= low and inside(position) is not None:
            position = text.rfind(separator, low, position)
        if position >= low:
            return position, len(separator)
    # No break in the second half of the room: one long word (or link). Cut before the
    # entity or link it is in, else where the characters stay whole.
    cut = room
    start = inside(cut)
    if start is not None and start > 0:
        cut = start
    while cut > 0 and not _whole_character_at(text, cut):
        cut -= 1
    if cut == 0:  # a single unbreakable run longer than the limit: it must be cut
        cut = room
        while cut > 1 and not _whole_character_at(text, cut):
            cut -= 1
    return cut, 0


async def send_parts(count: int, already: Sequence[str],
                     send_one: Callable[[int], Awaitable[str]]) -> list[str]:
    """Send parts ``len(already)`` to ``count - 1`` in order with ``send_one(index)``,
    which returns the id of the part it sent; returns the ids of all ``count`` parts.
    Parts already sent (by an earlier attempt) are not sent again. When a part fails
    after any went out, its DeliveryError records them (``parts_sent``), so the retry
    continues after them."""
    sent = list(already)
    for index in range(len(sent), count):
        try:
            sent.append(await send_one(index))
        except DeliveryError as error:
            if sent:
                # The same error goes on, with its platform details (a Slack error
                # code the caller reads), only told which parts did go out.
                error.parts_sent = tuple(sent)
            raise
    return sent
