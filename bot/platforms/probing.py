"""What the online probes (bot/platforms/*/probe.py) share."""

from __future__ import annotations


def reason(error: BaseException) -> str:
    """Why a platform could not be asked, in one short line: the error's first line (at
    most 200 characters), or its type's name when it says nothing."""
    said = str(error).strip()
    return said.splitlines()[0][:200] if said else type(error).__name__
