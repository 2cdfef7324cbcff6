"""Queries that return domain objects. Each repository works inside one session,
owned by the unit of work that created it; none of them commits."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.people import Person, Role, Workspace
from bot.domain.priority import Priority
from bot.domain.tickets import Ticket, TicketStatus, TimelineEntry
from bot.storage.tables import (
    ChannelConfigRow, PersonRow, TicketEventRow, TicketRow, WorkspaceRow,
)


def insert_for(session: AsyncSession, table):
    """An INSERT that supports ON CONFLICT for the session's dialect."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def workspace_from_row(row: WorkspaceRow) -> Workspace:
    """Domain value for a workspace row."""
    return Workspace(row.id, row.platform, row.external_id, row.name, json.loads(row.settings_json))


def person_from_row(row: PersonRow) -> Person:
    """Domain value for a person row."""
    return Person(row.id, row.workspace_id, row.external_id, row.display_name, Role(row.role),
                  row.email, row.tz)


def ticket_from_row(row: TicketRow) -> Ticket:
    """Domain value for a ticket row."""
    return Ticket(
        id=row.id, workspace_id=row.workspace_id, number=row.number,
        requester_id=row.requester_id, status=TicketStatus(row.status),
        priority=Priority(row.priority), subject=row.subject, first_message=row.first_message,
        created_at=row.created_at, owner_id=row.owner_id, channel_id=row.channel_id,
        thread_id=row.thread_id, triage_channel_id=row.triage_channel_id,
        triage_message_id=row.triage_message_id, first_response_at=row.first_response_at,
        resolved_at=row.resolved_at, closed_at=row.closed_at, in_a_hurry=row.in_a_hurry,
    )


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

    async def having_channel(self, workspace_ids: set[int], purpose: str) -> set[int]:
        """Which of ``workspace_ids`` have a channel configured for ``purpose``."""
        if not workspace_ids:
            return set()
        rows = await self.session.execute(
            select(ChannelConfigRow.workspace_id).distinct().where(
                ChannelConfigRow.workspace_id.in_(workspace_ids),
                ChannelConfigRow.purpose == purpose))
        return set(rows.scalars())

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


class PeopleRepository:
    """People per workspace, refreshed from what the platform tells us."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure(self, workspace_id: int, external_id: str, display_name: str, now: datetime,
                     *, email: str | None = None, tz: str | None = None) -> Person:
        """The person, created on first sight; a newer display name, email or time zone
        from the platform replaces the stored one. Roles are never changed here."""
        row = await self._row(workspace_id, external_id)  # read first: most are known
        if row is None:
            # RETURNING gives the new row in the same statement; None means another
            # transaction created the person in between, so read theirs.
            row = (await self.session.execute(
                insert_for(self.session, PersonRow).values(
                    workspace_id=workspace_id, external_id=external_id,
                    display_name=display_name, email=email, tz=tz, role=Role.REQUESTER.value,
                    created_at=now,
                ).on_conflict_do_nothing(index_elements=["workspace_id", "external_id"])
                .returning(PersonRow))).scalar_one_or_none()
            row = row or await self._row(workspace_id, external_id)
            assert row is not None
        changes = {k: v for k, v in (("display_name", display_name), ("email", email), ("tz", tz))
                   if v and getattr(row, k) != v}
        if changes:
            for key, value in changes.items():
                setattr(row, key, value)
            await self.session.flush()
        return person_from_row(row)

    async def _row(self, workspace_id: int, external_id: str) -> PersonRow | None:
        return (await self.session.execute(select(PersonRow).where(
            PersonRow.workspace_id == workspace_id, PersonRow.external_id == external_id
        ))).scalar_one_or_none()

    async def get(self, person_id: int) -> Person:
        """The person with this id."""
        return person_from_row(await self.session.get_one(PersonRow, person_id))

    async def many(self, person_ids: set[int]) -> dict[int, Person]:
        """The people with these ids, in one query."""
        rows = await self.session.execute(select(PersonRow).where(PersonRow.id.in_(person_ids)))
        return {row.id: person_from_row(row) for row in rows.scalars()}

    async def find(self, workspace_id: int, reference: str) -> Person | None:
        """A person by platform id or (case-insensitive) display name."""
        ref = reference.strip().lstrip("@")
        rows = (await self.session.execute(select(PersonRow).where(
            PersonRow.workspace_id == workspace_id,
            (PersonRow.external_id == ref) | (func.lower(PersonRow.display_name) == ref.lower()),
        ).order_by(PersonRow.id))).scalars().all()
        return person_from_row(rows[0]) if rows else None

    async def set_role(self, person_id: int, role: Role) -> None:
        """Give a person a role."""
        await self.session.execute(
            update(PersonRow).where(PersonRow.id == person_id).values(role=role.value))

    async def with_role(self, workspace_id: int, role: Role) -> list[Person]:
        """Everyone with exactly this role."""
        rows = await self.session.execute(select(PersonRow).where(
            PersonRow.workspace_id == workspace_id, PersonRow.role == role.value
        ).order_by(PersonRow.id))
        return [person_from_row(r) for r in rows.scalars()]

    async def platform_grant(self, person_id: int) -> tuple[Role | None, Role | None]:
        """``(platform_role, granted_role)``: the role a platform role raised this person
        to, and the desk's own grant beneath it; ``(None, None)`` when the stored role is
        the desk's own grant."""
        row = (await self.session.execute(
            select(PersonRow.platform_role, PersonRow.granted_role)
            .where(PersonRow.id == person_id))).one()
        return (Role(row.platform_role) if row.platform_role else None,
                Role(row.granted_role) if row.granted_role else None)

    async def record_role(self, person_id: int, role: Role, *, platform_role: Role | None = None,
                          granted_role: Role | None = None) -> None:
        """Store a role and where it came from: ``platform_role`` (with the desk's
        ``granted_role`` beneath it) when a platform role raised it; neither when the
        desk granted it, which forgets any role a platform had given."""
        await self.session.execute(update(PersonRow).where(PersonRow.id == person_id).values(
            role=role.value, platform_role=platform_role.value if platform_role else None,
            granted_role=granted_role.value if granted_role else None))


class TicketRepository:
    """Tickets and their timelines."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> Ticket:
        """Insert a ticket row built from ``values`` and return it."""
        row = TicketRow(**values)
        self.session.add(row)
        await self.session.flush()
        return ticket_from_row(row)

    async def get(self, ticket_id: int) -> Ticket:
        """The ticket with this id."""
        return ticket_from_row(await self.session.get_one(TicketRow, ticket_id))

    async def by_number(self, workspace_id: int, number: int) -> Ticket | None:
        """The ticket ``#number`` in this workspace, if there is one."""
        row = (await self.session.execute(select(TicketRow).where(
            TicketRow.workspace_id == workspace_id, TicketRow.number == number
        ))).scalar_one_or_none()
        return ticket_from_row(row) if row else None

    async def by_thread(self, workspace_id: int, channel_id: str, thread_id: str) -> Ticket | None:
        """The ticket whose requester thread or triage card thread this is."""
        row = (await self.session.execute(select(TicketRow).where(
            TicketRow.workspace_id == workspace_id,
            ((TicketRow.channel_id == channel_id) & (TicketRow.thread_id == thread_id))
            | ((TicketRow.triage_channel_id == channel_id)
               & (TicketRow.triage_message_id == thread_id)),
        ).order_by(TicketRow.id.desc()).limit(1))).scalar_one_or_none()
        return ticket_from_row(row) if row else None

    async def update(self, ticket_id: int, **values: Any) -> Ticket:
        """Change a ticket's columns and return the new value."""
        await self.session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(**values))
        return await self.refresh(ticket_id)

    async def refresh(self, ticket_id: int) -> Ticket:
        """Re-read a ticket from the database."""
        row = await self.session.get_one(TicketRow, ticket_id, populate_existing=True)
        return ticket_from_row(row)

    async def list(self, workspace_id: int, *, requester_id: int | None = None,
                   owner_id: int | None = None, statuses: tuple[TicketStatus, ...] = (),
                   unowned: bool = False, limit: int = 50) -> list[Ticket]:
        """Tickets matching every filter given, newest first."""
        query = select(TicketRow).where(TicketRow.workspace_id == workspace_id)
        if requester_id is not None:
            query = query.where(TicketRow.requester_id == requester_id)
        if owner_id is not None:
            query = query.where(TicketRow.owner_id == owner_id)
        if unowned:
            query = query.where(TicketRow.owner_id.is_(None))
        if statuses:
            query = query.where(TicketRow.status.in_([s.value for s in statuses]))
        rows = await self.session.execute(query.order_by(TicketRow.number.desc()).limit(limit))
        return [ticket_from_row(r) for r in rows.scalars()]

    async def count_waiting(self, workspace_id: int, statuses: tuple[TicketStatus, ...]) -> int:
        """How many unowned tickets in ``statuses`` wait in the queue."""
        return (await self.session.execute(
            select(func.count()).select_from(TicketRow).where(
                TicketRow.workspace_id == workspace_id, TicketRow.owner_id.is_(None),
                TicketRow.status.in_([s.value for s in statuses])))).scalar_one()

    async def recent_first_responses(self, workspace_id: int,
                                     limit: int) -> list[tuple[datetime, datetime]]:
        """(opened, first response) of the latest tickets that have had a first response."""
        rows = await self.session.execute(
            select(TicketRow.created_at, TicketRow.first_response_at)
            .where(TicketRow.workspace_id == workspace_id,
                   TicketRow.first_response_at.is_not(None))
            .order_by(TicketRow.id.desc()).limit(limit))
        return [(opened, answered) for opened, answered in rows.all()]

    async def add_event(self, ticket_id: int, kind: str, now: datetime, *,
                        author_id: int | None = None, body: str = "", **data: Any) -> None:
        """Append one line to the ticket's timeline."""
        self.session.add(TicketEventRow(ticket_id=ticket_id, kind=kind, author_id=author_id,
                                        body=body, data_json=json.dumps(data), created_at=now))

    async def timeline(self, ticket_id: int) -> list[TimelineEntry]:
        """The ticket's timeline, oldest first."""
        rows = await self.session.execute(select(TicketEventRow).where(
            TicketEventRow.ticket_id == ticket_id).order_by(TicketEventRow.id))
        return [TimelineEntry(r.kind, r.body, r.created_at, r.author_id, json.loads(r.data_json))
                for r in rows.scalars()]
