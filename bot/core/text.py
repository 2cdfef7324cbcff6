"""What people typed, made safe to keep and to show, in one place.

Every event is cleaned once where it enters the desk (``clean_event``, called by the
router), whatever platform it came from:

- terminal escape sequences (ANSI colours, cursor moves, window titles) and every other
  control character go; newlines and tabs stay, and ``\\r\\n``, a lone ``\\r`` and the
  Unicode line and paragraph separators are newlines;
- a NUL never reaches the database (PostgreSQL refuses it in a text column);
- a lone surrogate (what undecodable bytes become under ``surrogateescape``, or a bad
  ``\\ud800`` escape in JSON) becomes the replacement character ``\\ufffd``, which every
  database and platform can store and show;
- invisible characters at the ends (zero-width spaces, byte-order marks, fillers) are
  trimmed like spaces, and text with nothing visible in it at all is empty, so it opens
  no ticket;
- display names are the same, on one line, without direction overrides, and no longer
  than ``NAME_LIMIT``.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any

__all__ = ["NAME_LIMIT", "clean_event", "clean_name", "clean_text", "excerpt", "has_words"]

NAME_LIMIT = 80
_EMAIL_LIMIT = 254  # the longest address SMTP allows
_ZONE_LIMIT = 64

# ECMA-48: CSI (ESC [ or 8-bit 0x9b) parameters, intermediates, a final byte; OSC, DCS,
# SOS, PM and APC strings up to their terminator (BEL or ST; unterminated, only the
# introducer goes, so no words are lost); two- and three-character escapes (ESC 7,
# ESC c, ESC ( B).
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]{0,4096}(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]?"
)
_NEWLINES = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
# Control characters (C0, DEL, C1) but newline and tab.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")
# Letters and symbols that draw nothing: Hangul fillers, the braille blank.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
# Direction overrides and isolates, which reorder what follows them on the screen.
_BIDI = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# What may be trimmed from the ends like a space; combining marks count as invisible only
# when nothing else is there (an accent belongs to the letter before it).
_TRIMMED_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs"})
_INVISIBLE_CATEGORIES = _TRIMMED_CATEGORIES | {"Mn", "Me"}


def _invisible(char: str) -> bool:
    return char in _BLANKS or unicodedata.category(char) in _INVISIBLE_CATEGORIES


def _trimmed(char: str) -> bool:
    return char in _BLANKS or unicodedata.category(char) in _TRIMMED_CATEGORIES


def has_words(text: str) -> bool:
    """True when ``text`` has something a person can see in it: not only spaces,
    zero-width characters, fillers, control characters or replacement characters."""
    return any(not _invisible(c) and c != "\ufffd" for c in text)


def clean_text(text: str) -> str:
    """``text`` without escape sequences and control characters (newlines and tabs
    kept), with lone surrogates replaced and invisible characters trimmed at the ends;
    empty when nothing visible is left."""
    if not text:
        return ""
    text = _SURROGATES.sub("\ufffd", text)
    text = _NEWLINES.sub("\n", text)
    text = _ESCAPES.sub("", text)
    text = _CONTROLS.sub("", text)
    if not has_words(text):
        return ""
    start, end = 0, len(text)
    while _trimmed(text[start]):
        start += 1
    while _trimmed(text[end - 1]):
        end -= 1
    return text[start:end]


def excerpt(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, saying so when it was cut ("…")."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


def clean_name(name: str, limit: int = NAME_LIMIT) -> str:
    """A display name on one line: cleaned as :func:`clean_text`, without direction
    overrides, runs of spaces made one, and cut at ``limit`` characters with "…"."""
    name = " ".join(clean_text(_BIDI.sub("", name or "")).split())
    name = clean_text(name)  # what the cut leaves at the ends is trimmed too
    if len(name) > limit:
        name = name[:limit - 1].rstrip() + "…"
    return name


def _clean_id(value: str) -> str:
    """An identifier the platform gave: only NULs and surrogates, which no database
    stores, are taken out."""
    return _SURROGATES.sub("\ufffd", value.replace("\x00", ""))


def _clean_actor(actor: Any) -> Any:
    if actor is None:
        return None
    changes = {"display_name": clean_name(actor.display_name),
               "user_id": _clean_id(actor.user_id)}
    if actor.email:
        changes["email"] = clean_name(actor.email, _EMAIL_LIMIT) or None
    if actor.tz:
        changes["tz"] = clean_name(actor.tz, _ZONE_LIMIT) or None
    return dataclasses.replace(actor, **changes)


# Fields holding what a person wrote; every other text field is an identifier.
_WRITTEN = frozenset({"text", "message_text"})


def clean_event(event: Any) -> Any:
    """``event`` with what a person typed cleaned (:func:`clean_text`), their names
    made display names (:func:`clean_name`) and NULs taken out of every identifier."""
    if not dataclasses.is_dataclass(event):
        return event
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if field.name in ("actor", "message_author"):
            changes[field.name] = _clean_actor(value)
        elif field.name == "form" and isinstance(value, dict):
            changes[field.name] = {_clean_id(str(k)): clean_text(str(v))
                                   for k, v in value.items()}
        elif isinstance(value, str):
            changes[field.name] = clean_text(value) if field.name in _WRITTEN \
                else _clean_id(value)
    return dataclasses.replace(event, **changes)
