"""Workspaces (tenants, created on first contact), their settings and channels, and
the rows that turn a domain value into a stored one and back."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.people import Workspace
from bot.domain.teams import DEFAULT_TEAM, Team
from bot.domain.oncall import Shift
from bot.storage.tables import ChannelConfigRow, OnCallRow, TeamMemberRow, TeamRow, WorkspaceRow


def insert_for(session: AsyncSession, table):
    """An INSERT that supports ON CONFLICT for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def workspace_from_row(row: WorkspaceRow, teams: tuple[Team, ...] = ()) -> Workspace:
    """Domain value for a workspace row, with its teams."""
    return Workspace(row.id, row.platform, row.external_id, row.name,
                     json.loads(row.settings_json), kb_revision=row.kb_revision,
                     incidents_declared=row.next_incident_number - 1, teams=teams)


def team_from_row(row: TeamRow) -> Team:
    """Domain value for a team row."""
    return Team(row.id, row.workspace_id, row.name, bool(row.is_default),
                json.loads(row.settings_json or "{}"))


class WorkspaceRepository:
    """Tenants, created on first contact."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, platform: str, external_id: str, name: str, now: datetime) -> Workspace:
        """The workspace for (platform, id), created if this is its first event."""
        lookup = select(WorkspaceRow).where(WorkspaceRow.platform == platform,
                                            WorkspaceRow.external_id == external_id)
        # Read first: every event but the first finds it, and that saves a statement.
        row = (await self.session.execute(lookup)).scalar_one_or_none()
        if row is None:
            await self.session.execute(insert_for(self.session, WorkspaceRow).values(
                platform=platform, external_id=external_id, name=name, settings_json="{}",
                next_ticket_number=1, created_at=now,
            ).on_conflict_do_nothing(index_elements=["platform", "external_id"]))
            row = (await self.session.execute(lookup)).scalar_one()
        teams = (await self._teams({row.id})).get(row.id, ())
        if not teams:
            # Every workspace has its default team from its first event on.
            await self.session.execute(insert_for(self.session, TeamRow).values(
                workspace_id=row.id, name=DEFAULT_TEAM, is_default=True, settings_json="{}",
                created_at=now).on_conflict_do_nothing(index_elements=["workspace_id", "name"]))
            teams = (await self._teams({row.id})).get(row.id, ())
        return workspace_from_row(row, teams)

    async def find(self, platform: str, external_id: str) -> Workspace | None:
        """The workspace for (platform, id), or None if the desk has never seen it
        (reading only; :meth:`ensure` creates it)."""
        row = (await self.session.execute(select(WorkspaceRow).where(
            WorkspaceRow.platform == platform, WorkspaceRow.external_id == external_id
        ))).scalar_one_or_none()
        if row is None:
            return None
        return workspace_from_row(row, (await self._teams({row.id})).get(row.id, ()))

    async def get(self, workspace_id: int) -> Workspace:
        """The workspace with this id."""
        row = await self.session.get_one(WorkspaceRow, workspace_id)
        return workspace_from_row(row, (await self._teams({workspace_id})).get(workspace_id, ()))

    async def _teams(self, workspace_ids: set[int]) -> dict[int, tuple[Team, ...]]:
        """Each workspace's teams, the default first, then by age (one query)."""
        rows = await self.session.execute(select(TeamRow).where(
            TeamRow.workspace_id.in_(workspace_ids))
            .order_by(TeamRow.workspace_id, TeamRow.is_default.desc(), TeamRow.id))
        found: dict[int, list[Team]] = {}
        for row in rows.scalars():
            found.setdefault(row.workspace_id, []).append(team_from_row(row))
        return {w: tuple(teams) for w, teams in found.items()}

    async def add_team(self, workspace_id: int, name: str, now: datetime) -> bool:
        """Add a team called ``name``; False when the workspace has one by that name."""
        result = await self.session.execute(insert_for(self.session, TeamRow).values(
            workspace_id=workspace_id, name=name, is_default=False, settings_json="{}",
            created_at=now).on_conflict_do_nothing(index_elements=["workspace_id", "name"]))
        return bool(result.rowcount)

    async def rename_team(self, team_id: int, name: str) -> None:
        """Give the team a new name (the caller checked it is free)."""
        await self.session.execute(update(TeamRow).where(TeamRow.id == team_id)
                                   .values(name=name))

    async def remove_team(self, team_id: int, default_team_id: int) -> None:
        """Remove a team: its tickets and its intake channels go to the default team
        (people keep writing where they always did, and must not go unheard); its other
        channels and its memberships go with it."""
        from bot.storage.tables import TicketRow
        await self.session.execute(update(TicketRow).where(TicketRow.team_id == team_id)
                                   .values(team_id=default_team_id))
        await self.session.execute(update(ChannelConfigRow).where(
            ChannelConfigRow.team_id == team_id, ChannelConfigRow.purpose == "intake")
            .values(team_id=default_team_id))
        await self.session.execute(delete(TeamRow).where(TeamRow.id == team_id))

    async def save_team_settings(self, team_id: int, settings: dict[str, Any]) -> None:
        """Replace the team's stored settings (calendar, SLA targets, wording)."""
        await self.session.execute(update(TeamRow).where(TeamRow.id == team_id).values(
            settings_json=json.dumps(settings, sort_keys=True)))

    async def team_members(self, team_id: int, role: str) -> list[int]:
        """The ids of the people who work ``team_id`` as ``role`` ("agent" or "lead")."""
        rows = await self.session.execute(
            select(TeamMemberRow.person_id).where(TeamMemberRow.team_id == team_id,
                                                  TeamMemberRow.role == role)
            .order_by(TeamMemberRow.id))
        return list(rows.scalars())

    async def shifts(self, team_ids: set[int]) -> dict[int, list[Shift]]:
        """Every on-duty shift of these teams, by team id (one query)."""
        found: dict[int, list[Shift]] = {team_id: [] for team_id in team_ids}
        if team_ids:
            rows = await self.session.execute(select(OnCallRow).where(
                OnCallRow.team_id.in_(team_ids)).order_by(OnCallRow.id))
            for row in rows.scalars():
                found[row.team_id].append(Shift(row.id, row.person_id, row.starts_at,
                                                row.ends_at))
        return found

    async def add_shift(self, team_id: int, person_id: int, starts_at: datetime,
                        ends_at: datetime | None, now: datetime) -> None:
        """Put ``person_id`` on duty for the team from ``starts_at`` until ``ends_at``.
        Shifts that ended before ``now`` are pruned: they can never matter again."""
        await self.session.execute(delete(OnCallRow).where(
            OnCallRow.team_id == team_id, OnCallRow.ends_at.is_not(None),
            OnCallRow.ends_at <= now))
        await self.session.execute(insert_for(self.session, OnCallRow).values(
            team_id=team_id, person_id=person_id, starts_at=starts_at, ends_at=ends_at,
            created_at=now))

    async def end_shifts(self, team_id: int, at: datetime, *, open_ended_only: bool = False,
                         person_id: int | None = None) -> int:
        """End at ``at`` the team's shifts running then (only the open-ended ones, or
        only ``person_id``'s, when asked); how many ended. Shifts still to come stay."""
        query = update(OnCallRow).where(
            OnCallRow.team_id == team_id, OnCallRow.starts_at <= at,
            (OnCallRow.ends_at.is_(None) if open_ended_only
             else (OnCallRow.ends_at.is_(None) | (OnCallRow.ends_at > at))))
        if person_id is not None:
            query = query.where(OnCallRow.person_id == person_id)
        return (await self.session.execute(query.values(ends_at=at))).rowcount

    async def end_duty(self, team_ids: set[int], person_id: int) -> bool:
        """Take ``person_id`` off duty for these teams: their shifts go, and they leave
        the teams' rotas (someone who is no lead there may not be on duty). True when
        anything changed."""
        if not team_ids:
            return False
        gone = (await self.session.execute(delete(OnCallRow).where(
            OnCallRow.team_id.in_(team_ids), OnCallRow.person_id == person_id))).rowcount
        rows = (await self.session.execute(select(TeamRow).where(
            TeamRow.id.in_(team_ids)))).scalars().all()
        for row in rows:
            settings = json.loads(row.settings_json or "{}")
            rota = settings.get("rota") or {}
            people = [int(p) for p in rota.get("people", [])]
            if person_id in people:
                rota["people"] = [p for p in people if p != person_id]
                if rota["people"]:
                    settings["rota"] = rota
                else:
                    settings.pop("rota")
                await self.save_team_settings(row.id, settings)
                gone = (gone or 0) + 1
        return bool(gone)

    async def placed_people(self, workspace_id: int) -> set[int]:
        """The ids of everyone in this workspace who works at least one team."""
        rows = await self.session.execute(
            select(TeamMemberRow.person_id).join(TeamRow, TeamRow.id == TeamMemberRow.team_id)
            .where(TeamRow.workspace_id == workspace_id))
        return set(rows.scalars())

    async def teams_of(self, person_id: int) -> dict[int, str]:
        """The teams ``person_id`` works, with the role they have in each."""
        rows = await self.session.execute(
            select(TeamMemberRow.team_id, TeamMemberRow.role)
            .where(TeamMemberRow.person_id == person_id))
        return dict(rows.all())

    async def set_member(self, team_id: int, person_id: int, role: str | None,
                         now: datetime) -> None:
        """Make ``person_id`` a member of the team as ``role``, or (None) no member."""
        await self.session.execute(delete(TeamMemberRow).where(
            TeamMemberRow.team_id == team_id, TeamMemberRow.person_id == person_id))
        if role is not None:
            await self.session.execute(insert_for(self.session, TeamMemberRow).values(
                team_id=team_id, person_id=person_id, role=role, created_at=now))

    async def save_settings(self, workspace_id: int, settings: dict[str, Any]) -> None:
        """Replace the workspace's stored settings (calendar, SLA, template overrides)."""
        await self.session.execute(
            update(WorkspaceRow).where(WorkspaceRow.id == workspace_id)
            .values(settings_json=json.dumps(settings, sort_keys=True))
        )

    async def take_ticket_number(self, workspace_id: int) -> int:
        """The next ticket number. The row lock it takes serialises concurrent openers,
        and a rolled-back transaction gives its number back, so there are no gaps."""
        result = await self.session.execute(
            update(WorkspaceRow).where(WorkspaceRow.id == workspace_id)
            .values(next_ticket_number=WorkspaceRow.next_ticket_number + 1)
            .returning(WorkspaceRow.next_ticket_number)
        )
        return result.scalar_one() - 1

    async def channels(self, workspace_id: int, purpose: str) -> list[str]:
        """Channel ids configured for ``purpose`` ("intake" or "triage"), any team."""
        rows = await self.session.execute(
            select(ChannelConfigRow.channel_id).where(
                ChannelConfigRow.workspace_id == workspace_id, ChannelConfigRow.purpose == purpose
            ).order_by(ChannelConfigRow.id)
        )
        return list(rows.scalars())

    async def team_channels(self, workspace: Workspace, purpose: str) -> dict[int, list[str]]:
        """Channel ids configured for ``purpose`` by team id (a row from before teams
        is the default team's)."""
        rows = await self.session.execute(
            select(ChannelConfigRow.team_id, ChannelConfigRow.channel_id).where(
                ChannelConfigRow.workspace_id == workspace.id,
                ChannelConfigRow.purpose == purpose).order_by(ChannelConfigRow.id))
        found: dict[int, list[str]] = {}
        for team_id, channel_id in rows.all():
            found.setdefault(workspace.team(team_id).id, []).append(channel_id)
        return found

    async def channel_team(self, workspace: Workspace, purpose: str,
                           channel_id: str) -> Team | None:
        """The team ``channel_id`` serves for ``purpose``, or None when it has no such job."""
        row = (await self.session.execute(
            select(ChannelConfigRow.team_id).where(
                ChannelConfigRow.workspace_id == workspace.id,
                ChannelConfigRow.purpose == purpose,
                ChannelConfigRow.channel_id == channel_id).limit(1))).first()
        return None if row is None else workspace.team(row[0])

    async def set_channel(self, workspace_id: int, purpose: str, channel_id: str,
                          now: datetime, *, only_one: bool, team: Team | None = None) -> None:
        """Give ``channel_id`` a purpose for ``team``; ``only_one`` replaces the team's
        earlier channel. A channel has one job per purpose: naming it again for another
        team moves it there."""
        team_id = team.id if team is not None else None
        if only_one:
            mine = ChannelConfigRow.team_id == team_id
            if team is not None and team.is_default:
                mine = mine | ChannelConfigRow.team_id.is_(None)
            await self.session.execute(delete(ChannelConfigRow).where(
                ChannelConfigRow.workspace_id == workspace_id,
                ChannelConfigRow.purpose == purpose, mine))
        await self.session.execute(delete(ChannelConfigRow).where(
            ChannelConfigRow.workspace_id == workspace_id, ChannelConfigRow.purpose == purpose,
            ChannelConfigRow.channel_id == channel_id))
        await self.session.execute(
            insert_for(self.session, ChannelConfigRow).values(
                workspace_id=workspace_id, purpose=purpose, channel_id=channel_id,
                created_at=now, team_id=team_id,
            ).on_conflict_do_nothing(index_elements=["workspace_id", "purpose", "channel_id"])
        )

    async def many(self, workspace_ids: set[int]) -> dict[int, Workspace]:
        """Several workspaces by id, in one query."""
        if not workspace_ids:
            return {}
        rows = await self.session.execute(select(WorkspaceRow).where(
            WorkspaceRow.id.in_(workspace_ids)))
        teams = await self._teams(set(workspace_ids))
        return {row.id: workspace_from_row(row, teams.get(row.id, ())) for row in rows.scalars()}

    async def triage_of_teams(self, teams: set[int | None],
                              workspaces: dict[int, Workspace]) -> dict[int, str]:
        """For each of these teams that has one, its triage channel (one query)."""
        if not workspaces:
            return {}
        rows = await self.session.execute(
            select(ChannelConfigRow.workspace_id, ChannelConfigRow.team_id,
                   ChannelConfigRow.channel_id)
            .where(ChannelConfigRow.workspace_id.in_(set(workspaces)),
                   ChannelConfigRow.purpose == "triage").order_by(ChannelConfigRow.id))
        found: dict[int, str] = {}
        for workspace_id, team_id, channel_id in rows.all():
            team = workspaces[workspace_id].team(team_id)
            if team is not None:
                found.setdefault(team.id, channel_id)
        return {t: c for t, c in found.items() if t in teams}

    async def first_channels(self, workspace_ids: set[int], purpose: str) -> dict[int, str]:
        """For each of these workspaces that has one, its first channel for ``purpose``
        (one query: the ledger builds many tickets' cards at once)."""
        if not workspace_ids:
            return {}
        rows = await self.session.execute(
            select(ChannelConfigRow.workspace_id, ChannelConfigRow.channel_id)
            .where(ChannelConfigRow.workspace_id.in_(workspace_ids),
                   ChannelConfigRow.purpose == purpose)
            .order_by(ChannelConfigRow.id))
        first: dict[int, str] = {}
        for workspace_id, channel_id in rows.all():
            first.setdefault(workspace_id, channel_id)
        return first
