"""Reading people and channels out of command text, whatever platform wrote them."""

from __future__ import annotations

import re
from typing import NamedTuple

# Slack writes <@U123|name> and <#C123|name>; Discord <@123>, <@!123> and <#123>;
# the console and people typing by hand write @name or a bare id.
_PERSON = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|([^>]*))?>|@?([A-Za-z0-9_.-]+)")
_CHANNEL = re.compile(r"^<#([A-Za-z0-9_-]+)(?:\|[^>]*)?>$|^#?([A-Za-z0-9_-]+)$")


class PersonRef(NamedTuple):
    """One person named in command text."""

    ref: str  # their platform id, or the name as typed
    label: str  # the name a mention carries, else ``ref``
    bare_mention: bool  # a mention that carries no name (Discord's ``<@id>``)


def person_refs(text: str) -> list[PersonRef]:
    """Every person named in ``text``, in order, without repeats."""
    found: list[PersonRef] = []
    for match in _PERSON.finditer(text):
        ref = match.group(1) or match.group(3)
        if ref and ref not in [r.ref for r in found]:
            name = (match.group(2) or "").strip()
            # A mention labelled with its own id carries no name either.
            found.append(PersonRef(ref, name or ref, bool(match.group(1)) and name in ("", ref)))
    return found


def one_person(text: str) -> tuple[PersonRef | None, str]:
    """The first person named in ``text`` and whatever follows them (stripped of the
    commas and spaces between names): a command that takes one person can refuse the
    rest by name instead of ignoring it."""
    match = _PERSON.search(text)
    if match is None:
        return None, text.strip()
    ref = match.group(1) or match.group(3)
    name = (match.group(2) or "").strip()
    person = PersonRef(ref, name or ref, bool(match.group(1)) and name in ("", ref))
    return person, text[match.end():].strip(" ,;")


def channel_ref(text: str) -> str | None:
    """The one channel named in ``text``, or None when it names none or several."""
    match = _CHANNEL.match(text.strip())
    return (match.group(1) or match.group(2)) if match else None
