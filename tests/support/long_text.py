"""Long text to send through a platform, and the words to find again in what arrived."""

from __future__ import annotations

import re


def words(count: int, *, mention: str, link: str, odd: str | None = None) -> str:
    """``count`` numbered words (``w00000``, ...) in paragraphs, with the platform's
    ``mention`` and a ``link`` among them, and ``odd`` (text the platform must escape)
    when given."""
    out = []
    for i in range(count):
        out.append(f"w{i:05d}")
        if i % 97 == 50:
            out.append(mention)
        if i % 131 == 70:
            out.append(link)
        if odd is not None and i % 89 == 10:
            out.append(odd)
        if i % 60 == 59:
            out.append("\n\n")
    return " ".join(out)


def numbered(text: str) -> list[str]:
    """The numbered words of ``text``, in order."""
    return re.findall(r"w\d{5}", text)
