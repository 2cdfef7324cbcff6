"""Reading people and channels out of command text, whatever platform wrote them."""

from __future__ import annotations

import re

# Slack writes <@U123|name> and <#C123|name>; Discord <@123>, <@!123> and <#123>;
# the console and people typing by hand write @name or a bare id.
_PERSON = re.compile(r"<@!?([A-Za-z0-9_.-]+)(?:\|[^>]*)?>|@?([A-Za-z0-9_.-]+)")
_CHANNEL = re.compile(r"^<#([A-Za-z0-9_-]+)(?:\|[^>]*)?>$|^#?([A-Za-z0-9_-]+)$")


def person_refs(text: str) -> list[str]:
    """Every person named in ``text``, as platform ids or names, in order, without repeats."""
    found: list[str] = []
    for match in _PERSON.finditer(text):
        ref = match.group(1) or match.group(2)
        if ref and ref not in found:
            found.append(ref)
    return found


def channel_ref(text: str) -> str | None:
    """The one channel named in ``text``, or None when it names none or several."""
    match = _CHANNEL.match(text.strip())
    return (match.group(1) or match.group(2)) if match else None
