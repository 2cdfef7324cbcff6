"""Who a team's escalations reach: the lead on duty first, privately; with nobody on
duty, every lead of the team. A team with no leads has nobody to ask: its escalations
and flags go to the admins (the callers tell them), never to another team's leads, as
a team's matters can be private (an HR matter). When a run of misses goes on after a
lead was asked, its one widening escalation also reaches the wider circle
(:func:`wider_circle`): the team's other leads, else the admins, never another
team's leads either."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.oncall import Rota, Shift, next_on_duty, on_duty
from bot.domain.people import Person, Role, Workspace
from bot.domain.teams import Team


@dataclass(frozen=True)
class Duty:
    """A team's lead on duty now (None: nobody), and the next change (who, when)."""

    now: Person | None
    next: tuple[Person | None, datetime] | None = None


async def team_people(uow, workspace: Workspace, team: Team, role: Role) -> list[Person]:
    """Who works ``team`` as ``role``: its members with that role and, for the default
    team, everyone with the role who works no team yet (a platform role, or a desk
    from before teams)."""
    everyone = await uow.people.with_role(workspace.id, role)
    members = set(await uow.workspaces.team_members(team.id, role.value))
    placed = await uow.workspaces.placed_people(workspace.id) if team.is_default else set()
    return [p for p in everyone if p.id in members or (team.is_default and p.id not in placed)]


async def staffing_gap(uow, workspace: Workspace, team: Team) -> str | None:
    """Why nobody would see a ticket ``team`` took: ``"triage"`` when it has no triage
    channel, ``"people"`` when nobody works it (no agent, no lead); None when it can take
    tickets. Intake into such a team goes to the default team instead, and a transfer to
    it is refused (docs/teams.md): nobody is promised a time no staff member can see."""
    if not (await uow.workspaces.team_channels(workspace, "triage")).get(team.id):
        return "triage"
    if not (await team_people(uow, workspace, team, Role.AGENT)
            or await team_people(uow, workspace, team, Role.LEAD)):
        return "people"
    return None


async def duty_of(uow, desk, workspace: Workspace, team: Team, now: datetime,
                  shifts: list[Shift] | None = None) -> Duty:
    """The team's lead on duty at ``now`` and the next change of duty."""
    if shifts is None:
        shifts = (await uow.workspaces.shifts({team.id}))[team.id]
    rota = Rota.from_dict(team.settings.get("rota"))
    calendar = desk.policy(workspace, team).calendar
    person_id = on_duty(shifts, rota, calendar, now)
    coming = next_on_duty(shifts, rota, calendar, now)
    ids = {person_id, coming[0] if coming else None} - {None}
    people = await uow.people.many(ids) if ids else {}
    return Duty(people.get(person_id) if person_id else None,
                (people.get(coming[0]) if coming[0] else None, coming[1]) if coming else None)


async def escalation_leads(uow, desk, workspace: Workspace, team: Team,
                           now: datetime, *, besides: int | None = None,
                           ) -> tuple[list[Person], bool]:
    """Who hears an escalation of one of ``team``'s tickets, and whether that is the
    lead on duty alone; empty when the team has no lead to ask. ``besides`` is who is
    asking (a lead escalating their own ticket asks someone else: the team's other
    leads)."""
    duty = await duty_of(uow, desk, workspace, team, now)
    if duty.now is not None and duty.now.id != besides:
        return [duty.now], True
    leads = [person for person in await team_people(uow, workspace, team, Role.LEAD)
             if person.id != besides]
    return leads, False


async def wider_circle(uow, desk, workspace: Workspace, team: Team | None,
                       asked: list[Person]) -> list[Person]:
    """Who else hears the one widening escalation of a run of misses, beyond ``asked``
    (who every escalation reaches): the team's other leads; when every one of them was
    asked already, or the team has no lead, the desk's admins. Never another team's
    leads (a team's matters can be private). ``team`` None is a workspace without
    teams, whose leads are all its own."""
    ids = {person.id for person in asked}
    leads = (await team_people(uow, workspace, team, Role.LEAD) if team is not None
             else await uow.people.with_role(workspace.id, Role.LEAD))
    others = [person for person in leads if person.id not in ids]
    if others:
        return others
    admins = (await uow.people.admins_in({workspace.id}, desk.admins)).get(workspace.id, [])
    return [person for person in admins if person.id not in ids]
