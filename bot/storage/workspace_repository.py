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
from bot.storage.tables import ChannelConfigRow, WorkspaceRow


def insert_for(session: AsyncSession, table):
    """An INSERT that supports ON CONFLICT for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def workspace_from_row(row: WorkspaceRow) -> Workspace:
    """Domain value for a workspace row."""
    return Workspace(row.id, row.platform, row.external_id, row.name,
                     json.loads(row.settings_json), row.kb_revision,
                     row.next_incident_number - 1)


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
        return workspace_from_row(row)

    async def get(self, workspace_id: int) -> Workspace:
        """The workspace with this id."""
        return workspace_from_row(await self.session.get_one(WorkspaceRow, workspace_id))

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
        """Channel ids configured for ``purpose`` ("intake" or "triage")."""
        rows = await self.session.execute(
            select(ChannelConfigRow.channel_id).where(
                ChannelConfigRow.workspace_id == workspace_id, ChannelConfigRow.purpose == purpose
            ).order_by(ChannelConfigRow.id)
        )
        return list(rows.scalars())

    async def set_channel(self, workspace_id: int, purpose: str, channel_id: str,
                          now: datetime, *, only_one: bool) -> None:
        """Give ``channel_id`` a purpose; ``only_one`` replaces any earlier channel."""
        if only_one:
            await self.session.execute(delete(ChannelConfigRow).where(
                ChannelConfigRow.workspace_id == workspace_id, ChannelConfigRow.purpose == purpose))
        await self.session.execute(
            insert_for(self.session, ChannelConfigRow).values(
                workspace_id=workspace_id, purpose=purpose, channel_id=channel_id, created_at=now
            ).on_conflict_do_nothing(index_elements=["workspace_id", "purpose", "channel_id"])
        )

    async def many(self, workspace_ids: set[int]) -> dict[int, Workspace]:
        """Several workspaces by id, in one query."""
        if not workspace_ids:
            return {}
        rows = await self.session.execute(select(WorkspaceRow).where(
            WorkspaceRow.id.in_(workspace_ids)))
        return {row.id: workspace_from_row(row) for row in rows.scalars()}

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
