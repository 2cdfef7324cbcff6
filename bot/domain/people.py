"""People and workspaces as the domain sees them: plain values, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    """What someone may do at the desk. Each role includes the ones before it."""

    REQUESTER = "requester"
    AGENT = "agent"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """Order for comparisons: requester < agent < lead < admin."""
        return _RANKS[self]

    def at_least(self, other: "Role") -> bool:
        """True when this role includes ``other``'s permissions."""
        return self.rank >= other.rank


_RANKS = {Role.REQUESTER: 0, Role.AGENT: 1, Role.LEAD: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Person:
    """Someone the desk knows in one workspace."""

    id: int
    workspace_id: int
    external_id: str
    display_name: str
    role: Role = Role.REQUESTER
    email: str | None = None
    tz: str | None = None
    # The zone the desk first told them a time in, when the platform gives no ``tz``
    # (Discord, the console): kept, so a ticket moving to a team in another zone, or an
    # incident of another team, never switches the zone they read times in.
    told_tz: str | None = None

    def reads_in(self, fallback: str) -> str:
        """The zone to tell this person times in: their own (from the platform), else
        the one the desk has been telling them times in, else ``fallback`` (the zone
        of the team speaking, which becomes theirs when it is first recorded)."""
        return self.tz or self.told_tz or fallback

    @property
    def name(self) -> str:
        """What to call them: their display name; until the desk has learnt it (someone
        added by a bare mention), a mention of them (``<@id>``), which Slack and Discord
        show by the person's name, never their platform id as a number."""
        if self.display_name and not (self.display_name == self.external_id
                                      and self.external_id.isdigit()):
            return self.display_name
        return f"<@{self.external_id}>"


@dataclass(frozen=True)
class Workspace:
    """A tenant: a Slack team, a Discord guild or the console."""

    id: int
    platform: str
    external_id: str
    name: str
    settings: dict
    # How many times its knowledge base has changed; 0: it has never held an article.
    kb_revision: int = 0
    # How many incidents it has declared (INC-1 ... INC-n); 0: never one.
    incidents_declared: int = 0
    # Its teams, the default first (bot/domain/teams.py); loaded with the workspace.
    teams: tuple = ()

    @property
    def default_team(self):
        """The team that takes what no intake channel routes elsewhere (None only for a
        workspace built without its teams, as some pure tests do)."""
        return next((t for t in self.teams if t.is_default), self.teams[0] if self.teams
                    else None)

    def team(self, team_id: int | None):
        """The team with this id; the default team for None (rows from before teams)
        or for a team since removed."""
        return next((t for t in self.teams if t.id == team_id), None) or self.default_team

    def team_named(self, name: str):
        """The team called ``name`` (any case), or None."""
        return next((t for t in self.teams if t.name == name.lower()), None)
