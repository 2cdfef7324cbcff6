"""Reading people and channels out of command text, whatever platform wrote them."""

from __future__ import annotations

import re

# Slack writes <@U123|name> and <#C123|name>; Discord <@123>, <@!123> and <#123>;
# the console and people typing by hand write @name or a bare id.
_PERSON = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|([^>]*))?>|@?([A-Za-z0-9_.-]+)")
_CHANNEL = re.compile(r"^<#([A-Za-z0-9_-]+)(?:\|[^>]*)?>$|^#?([A-Za-z0-9_-]+)$")


def person_refs(text: str) -> list[tuple[str, str]]:
    """Every person named in ``text`` as (platform id or name, display label), in order,
    without repeats. The label is the name a mention carries, else the reference itself."""
    found: list[tuple[str, str]] = []
    for match in _PERSON.finditer(text):
        ref = match.group(1) or match.group(3)
        if ref and ref not in [r for r, _ in found]:
            found.append((ref, (match.group(2) or ref).strip() or ref))
    return found


def channel_ref(text: str) -> str | None:
    """The one channel named in ``text``, or None when it names none or several."""
    match = _CHANNEL.match(text.strip())
    return (match.group(1) or match.group(2)) if match else None
