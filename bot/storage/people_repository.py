"""People per workspace, refreshed from what the platform tells us, and their roles."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.people import Person, Role
from bot.storage.tables import PersonRow, PromiseRow, TicketRow
from bot.storage.workspace_repository import insert_for


def person_from_row(row: PersonRow) -> Person:
    """Domain value for a person row."""
    return Person(row.id, row.workspace_id, row.external_id, row.display_name, Role(row.role),
                  row.email, row.tz, row.told_tz)


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

    async def keep_zone(self, person: Person, zone: str) -> Person:
        """``person``, who reads times in ``zone`` from now on unless they have a zone
        of their own or one was kept for them already (the first zone the desk tells
        someone a time in stays theirs). Writes only when there is something to keep."""
        if person.tz or person.told_tz:
            return person
        await self.session.execute(update(PersonRow).where(
            PersonRow.id == person.id, PersonRow.told_tz.is_(None)).values(told_tz=zone))
        return replace(person, told_tz=zone)

    async def _row(self, workspace_id: int, external_id: str) -> PersonRow | None:
        return (await self.session.execute(select(PersonRow).where(
            PersonRow.workspace_id == workspace_id, PersonRow.external_id == external_id
        ))).scalar_one_or_none()

    async def by_external(self, workspace_id: int, external_id: str) -> Person | None:
        """The person the platform knows as ``external_id``, or None if never seen."""
        row = await self._row(workspace_id, external_id)
        return person_from_row(row) if row is not None else None

    async def get(self, person_id: int) -> Person:
        """The person with this id."""
        return person_from_row(await self.session.get_one(PersonRow, person_id))

    async def many(self, person_ids: set[int]) -> dict[int, Person]:
        """The people with these ids, in one query."""
        if not person_ids:
            return {}
        people = PersonRow.__table__
        rows = await self.session.execute(select(people).where(people.c.id.in_(person_ids)))
        return {row.id: person_from_row(row) for row in rows}

    async def find(self, workspace_id: int, reference: str) -> Person | None:
        """A person by platform id or (case-insensitive) display name."""
        ref = reference.strip().lstrip("@")
        rows = (await self.session.execute(select(PersonRow).where(
            PersonRow.workspace_id == workspace_id,
            (PersonRow.external_id == ref) | (func.lower(PersonRow.display_name) == ref.lower()),
        ).order_by(PersonRow.id))).scalars().all()
        return person_from_row(rows[0]) if rows else None

    async def has_worked(self, workspace_id: int, person_id: int) -> bool:
        """Whether the person has ever owned a ticket or a promise in the workspace (so
        has agent figures, whatever their role is now: someone who left the agents)."""
        owned = select(TicketRow.id).where(TicketRow.workspace_id == workspace_id,
                                           TicketRow.owner_id == person_id).limit(1)
        promised = select(PromiseRow.id).where(PromiseRow.workspace_id == workspace_id,
                                               PromiseRow.owner_id == person_id).limit(1)
        return (await self.session.execute(select(owned.exists() | promised.exists()))).scalar()

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

    async def with_role_in(self, workspace_ids: set[int], role: Role) -> dict[int, list[Person]]:
        """:meth:`with_role` for several workspaces at once, by workspace id."""
        found: dict[int, list[Person]] = {workspace_id: [] for workspace_id in workspace_ids}
        if workspace_ids:
            rows = await self.session.execute(select(PersonRow).where(
                PersonRow.workspace_id.in_(workspace_ids), PersonRow.role == role.value
            ).order_by(PersonRow.id))
            for row in rows.scalars():
                found[row.workspace_id].append(person_from_row(row))
        return found

    async def admins_in(self, workspace_ids: set[int], named: frozenset[str] | set[str]
                        ) -> dict[int, list[Person]]:
        """The admins the desk knows in several workspaces, by workspace id: people
        stored as admins and the people named in HELPDESK_ADMINS (``named``, platform
        ids) who have written to the desk, each once. One query, and a read only (unlike
        ``bot.desk.notify.admins_of``, which also records a named admin never seen)."""
        found: dict[int, list[Person]] = {workspace_id: [] for workspace_id in workspace_ids}
        if workspace_ids:
            rows = await self.session.execute(select(PersonRow).where(
                PersonRow.workspace_id.in_(workspace_ids),
                or_(PersonRow.role == Role.ADMIN.value, PersonRow.external_id.in_(list(named)))
            ).order_by(PersonRow.id))
            for row in rows.scalars():
                found[row.workspace_id].append(person_from_row(row))
        return found
