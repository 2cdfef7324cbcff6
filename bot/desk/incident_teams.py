"""Which teams an incident belongs to: it has no team of its own (it is declared for
the workspace), so it is the team of its linked tickets, the one with most first; with
none linked yet, the teams its lead works in; with none of those, the default team.

Two things read it: intake, which offers an open incident only to a new ticket of one
of its teams (an HR question is never asked about IT's VPN outage), and the ledger,
whose escalation of a lapsed incident update goes to the lead on duty of its first
team (bot/desk/duty.py)."""

from __future__ import annotations

from bot.domain.incidents import Incident
from bot.domain.people import Workspace
from bot.domain.teams import Team


async def incident_teams(uow, workspace: Workspace, incident: Incident) -> list[Team]:
    """The incident's teams, the one with most linked tickets first (never empty)."""
    ids = await uow.incidents.team_ids(incident.id)
    if not ids:
        ids = list(await uow.workspaces.teams_of(incident.owner_id))
    teams: list[Team] = []
    for team_id in ids or [None]:
        team = workspace.team(team_id)  # None and a removed team: the default team
        if team is not None and team not in teams:
            teams.append(team)
    return teams


async def offered_to(uow, workspace: Workspace, incident: Incident, team: Team | None) -> bool:
    """Whether a new ticket of ``team`` may be asked if it is ``incident``: always in a
    workspace of one team, else when the team is one of the incident's."""
    if len(workspace.teams) <= 1 or team is None:
        return True
    return any(t.id == team.id for t in await incident_teams(uow, workspace, incident))
