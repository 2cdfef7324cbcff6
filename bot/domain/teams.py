"""Teams: the desks behind one front door (IT, HR, Facilities...), as plain values.

A workspace has one or more teams; exactly one is its default, which takes direct
messages and mentions that no intake channel routes elsewhere. Admin commands name a
team with a trailing ``team <name>``, read here, so that no other parser ever takes
those two words for anything else (people, a channel, a time zone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.domain.errors import Unreadable

# The settings a team owns; what it leaves out comes from its workspace.
TEAM_KEYS = ("calendar", "sla", "templates")
DEFAULT_TEAM = "it"
# A team's name is one short word people can type: letters, digits, dashes.
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,29}")
_SUFFIX = re.compile(r"(?:^|\s)team\s+(\S+)\s*$", re.I)


@dataclass(frozen=True)
class Team:
    """One team of a workspace, with its own policy settings (calendar, SLA targets,
    wording overrides) as stored."""

    id: int
    workspace_id: int
    name: str
    is_default: bool = False
    settings: dict = field(default_factory=dict, compare=False, hash=False)


def team_name(text: str) -> str:
    """``text`` as a team's name (lower case), or Unreadable naming what was wrong."""
    name = text.strip().lower()
    if not _NAME.fullmatch(name):
        raise Unreadable("input.bad_team_name", name=text.strip()[:40])
    return name


def split_team(text: str) -> tuple[str, str | None]:
    """``text`` without a trailing ``team <name>``, and that name (lower case), or
    ``(text, None)`` when it names no team. ``team`` alone at the end names nothing and
    is left in place for the command to refuse."""
    match = _SUFFIX.search(text)
    if match is None:
        return text, None
    return text[:match.start()].rstrip(), team_name(match.group(1))
