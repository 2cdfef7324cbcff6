"""Incidents: their numbers, linked tickets, updates and the one promise each owes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.incidents import Incident, IncidentStatus, IncidentUpdate
from bot.domain.promises import Promise, PromiseKind, PromiseStatus
from bot.domain.tickets import ACTIVE_STATUSES, Ticket, TicketStatus
from bot.storage.batch import among, insert_many
from bot.storage.promise_repository import promise_from_row, promise_row
from bot.storage.tables import (
    IncidentRow, IncidentTicketRow, IncidentUpdateRow, PromiseRow, TicketClusterMemberRow,
    TicketClusterRow, TicketRow, WorkspaceRow,
)
from bot.storage.ticket_repository import ticket_from_row
from bot.storage.workspace_repository import insert_for

_incidents = IncidentRow.__table__
_links = IncidentTicketRow.__table__
_updates = IncidentUpdateRow.__table__
_promises = PromiseRow.__table__
_clusters = TicketClusterRow.__table__
_members = TicketClusterMemberRow.__table__
_OPEN = (PromiseStatus.PENDING.value, PromiseStatus.SENDING.value)


def incident_from_row(row) -> Incident:
    """Domain value for an incident row."""
    return Incident(id=row.id, workspace_id=row.workspace_id, number=row.number,
                    title=row.title, owner_id=row.owner_id,
                    status=IncidentStatus(row.status), created_at=row.created_at,
                    resolved_at=row.resolved_at, summary=row.summary or "",
                    card_channel_id=row.card_channel_id, card_message_id=row.card_message_id,
                    card_due_at=row.card_due_at)


def update_from_row(row) -> IncidentUpdate:
    """Domain value for an incident update row."""
    return IncidentUpdate(id=row.id, incident_id=row.incident_id, body=row.body,
                          created_at=row.created_at, author_id=row.author_id,
                          next_due_at=row.next_due_at, kind=row.kind)


class IncidentRepository:
    """Incidents, their links to tickets, their updates and their promise."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.bind.dialect.name

    async def declare(self, workspace_id: int, title: str, owner_id: int,
                      now: datetime) -> Incident:
        """Open INC-N (the workspace's next number, taken under its row lock as ticket
        numbers are) with ``owner_id`` as its lead."""
        number = (await self.session.execute(
            update(WorkspaceRow).where(WorkspaceRow.id == workspace_id)
            .values(next_incident_number=WorkspaceRow.next_incident_number + 1)
            .returning(WorkspaceRow.next_incident_number))).scalar_one() - 1
        values = {"workspace_id": workspace_id, "number": number, "title": title,
                  "owner_id": owner_id, "status": IncidentStatus.OPEN.value, "summary": "",
                  "created_at": now, "updated_at": now, "resolved_at": None}
        (incident_id,) = await insert_many(self.session, _incidents, [values])
        return Incident(id=incident_id, workspace_id=workspace_id, number=number, title=title,
                        owner_id=owner_id, status=IncidentStatus.OPEN, created_at=now)

    async def get(self, incident_id: int) -> Incident:
        """The incident with this id."""
        row = (await self.session.execute(
            select(_incidents).where(_incidents.c.id == incident_id))).one()
        return incident_from_row(row)

    async def many(self, incident_ids: set[int]) -> dict[int, Incident]:
        """Several incidents by id, in one query."""
        if not incident_ids:
            return {}
        rows = await self.session.execute(select(_incidents).where(
            among(_incidents.c.id, list(incident_ids), self._dialect)))
        return {row.id: incident_from_row(row) for row in rows}

    async def by_number(self, workspace_id: int, number: int) -> Incident | None:
        """INC-``number`` in this workspace, if there is one."""
        row = (await self.session.execute(select(_incidents).where(
            _incidents.c.workspace_id == workspace_id, _incidents.c.number == number))).first()
        return incident_from_row(row) if row is not None else None

    async def listed(self, workspace_id: int, *, open_only: bool = False,
                     limit: int = 20) -> list[Incident]:
        """The workspace's incidents, newest first (only the open ones if asked)."""
        query = select(_incidents).where(_incidents.c.workspace_id == workspace_id)
        if open_only:
            query = query.where(_incidents.c.status == IncidentStatus.OPEN.value)
        rows = await self.session.execute(query.order_by(_incidents.c.number.desc()).limit(limit))
        return [incident_from_row(row) for row in rows]

    async def resolve(self, incident_id: int, summary: str, now: datetime) -> Incident:
        """Mark the incident resolved with ``summary``."""
        await self.session.execute(update(IncidentRow).where(IncidentRow.id == incident_id).values(
            status=IncidentStatus.RESOLVED.value, summary=summary, resolved_at=now,
            updated_at=now))
        return await self.get(incident_id)

    # -- links ----------------------------------------------------------------------

    async def links_of(self, ticket_ids: list[int]) -> dict[int, int]:
        """For each of these tickets linked to an incident, that incident's id."""
        if not ticket_ids:
            return {}
        rows = await self.session.execute(
            select(_links.c.ticket_id, _links.c.incident_id)
            .where(among(_links.c.ticket_id, ticket_ids, self._dialect)))
        return {ticket_id: incident_id for ticket_id, incident_id in rows.all()}

    async def link(self, incident_id: int, ticket_ids: list[int], now: datetime) -> set[int]:
        """Link these tickets (none of them linked anywhere yet) to the incident. A
        ticket asked about an incident and linked is no longer waiting for its answer:
        returns the incidents whose cards counted any of them as waiting."""
        if not ticket_ids:
            return set()
        await insert_many(self.session, _links, [
            {"incident_id": incident_id, "ticket_id": ticket_id, "linked_at": now}
            for ticket_id in ticket_ids])
        return await self.leave_shadow(ticket_ids)

    # -- the reports asked about an incident and not answered yet ("its shadow") -----

    async def leave_shadow(self, ticket_ids: list[int]) -> set[int]:
        """These tickets are no longer counted on an incident's card as asked and not
        answered; returns the incidents whose cards counted any of them."""
        if not ticket_ids:
            return set()
        waiting = (among(TicketRow.id, ticket_ids, self._dialect),
                   TicketRow.offered_incident_id.is_not(None))
        # Read first: RETURNING gives the values as updated, NULL here.
        incidents = set((await self.session.execute(
            select(TicketRow.offered_incident_id).where(*waiting))).scalars())
        if incidents:
            await self.session.execute(
                update(TicketRow).where(*waiting).values(offered_incident_id=None))
        return incidents

    async def offered(self, incident_id: int, limit: int | None = None
                      ) -> tuple[int, list[Ticket]]:
        """How many open tickets wait for their requester's answer about the incident,
        and the first ``limit`` of them by number (all of them without one)."""
        where = (TicketRow.offered_incident_id == incident_id,
                 TicketRow.status.in_([s.value for s in ACTIVE_STATUSES]))
        count = (await self.session.execute(
            select(func.count()).select_from(TicketRow).where(*where))).scalar_one()
        query = select(TicketRow).where(*where).order_by(TicketRow.number)
        if limit is not None:
            query = query.limit(limit)
        rows = await self.session.execute(query)
        return count, [ticket_from_row(row) for row in rows.scalars()]

    async def book_card(self, incident: Incident, channel_id: str, due_at: datetime) -> bool:
        """Book the incident card's next drawing at ``due_at`` in ``channel_id``, if no
        one booked another since ``incident`` was read (the row is compared, so two
        openings at once book one drawing). True when this one is booked."""
        booked = (_incidents.c.card_due_at.is_(None) if incident.card_due_at is None
                  else _incidents.c.card_due_at == incident.card_due_at)
        result = await self.session.execute(
            update(_incidents).where(_incidents.c.id == incident.id, booked)
            .values(card_due_at=due_at,
                    card_channel_id=func.coalesce(_incidents.c.card_channel_id, channel_id)))
        return bool(result.rowcount)

    async def remember_card(self, incident_id: int, channel_id: str, message_id: str) -> None:
        """Where the incident's card was first posted: later drawings edit it."""
        await self.session.execute(
            update(_incidents).where(_incidents.c.id == incident_id,
                                     _incidents.c.card_message_id.is_(None))
            .values(card_channel_id=channel_id, card_message_id=message_id))

    async def unlink(self, incident_id: int, ticket_ids: list[int]) -> None:
        """Detach these tickets from the incident."""
        if ticket_ids:
            await self.session.execute(delete(_links).where(
                _links.c.incident_id == incident_id,
                among(_links.c.ticket_id, ticket_ids, self._dialect)))

    async def tickets(self, incident_id: int, *, active_only: bool = False) -> list[Ticket]:
        """The incident's linked tickets, by number (only those still being worked, if
        asked: the ones whose requesters are owed its updates)."""
        query = (select(TicketRow).join(IncidentTicketRow,
                                        IncidentTicketRow.ticket_id == TicketRow.id)
                 .where(IncidentTicketRow.incident_id == incident_id))
        if active_only:
            query = query.where(TicketRow.status.in_([s.value for s in ACTIVE_STATUSES]))
        rows = await self.session.execute(query.order_by(TicketRow.number))
        return [ticket_from_row(row) for row in rows.scalars()]

    async def counts(self, incident_ids: list[int]) -> dict[int, int]:
        """How many tickets each of these incidents has linked."""
        if not incident_ids:
            return {}
        rows = await self.session.execute(
            select(_links.c.incident_id, func.count()).where(
                among(_links.c.incident_id, incident_ids, self._dialect))
            .group_by(_links.c.incident_id))
        return dict(rows.all())

    async def team_ids(self, incident_id: int) -> list[int | None]:
        """The teams of the incident's linked tickets, the one with most first (None:
        a ticket from before teams, which is the default team's)."""
        count = func.count().label("n")
        rows = await self.session.execute(
            select(TicketRow.team_id, count)
            .join(IncidentTicketRow, IncidentTicketRow.ticket_id == TicketRow.id)
            .where(IncidentTicketRow.incident_id == incident_id)
            .group_by(TicketRow.team_id).order_by(count.desc(), TicketRow.team_id))
        return [team_id for team_id, _ in rows.all()]

    # -- updates --------------------------------------------------------------------

    async def add_update(self, incident_id: int, body: str, now: datetime, *,
                         author_id: int | None, next_due_at: datetime | None,
                         kind: str = "update") -> None:
        """Record an update everyone affected was given."""
        await insert_many(self.session, _updates, [{
            "incident_id": incident_id, "kind": kind, "author_id": author_id, "body": body,
            "next_due_at": next_due_at, "created_at": now}])
        await self.session.execute(update(IncidentRow).where(IncidentRow.id == incident_id)
                                   .values(updated_at=now))

    async def updates(self, incident_id: int) -> list[IncidentUpdate]:
        """The incident's updates, oldest first."""
        rows = await self.session.execute(select(_updates).where(
            _updates.c.incident_id == incident_id).order_by(_updates.c.id))
        return [update_from_row(row) for row in rows]

    async def latest_updates(self, incident_ids: list[int]) -> dict[int, IncidentUpdate]:
        """Each of these incidents' latest update given by a person (not a cover)."""
        if not incident_ids:
            return {}
        latest = (select(func.max(_updates.c.id)).where(
            among(_updates.c.incident_id, incident_ids, self._dialect),
            _updates.c.kind == "update").group_by(_updates.c.incident_id))
        rows = await self.session.execute(select(_updates).where(_updates.c.id.in_(latest)))
        return {row.incident_id: update_from_row(row) for row in rows}

    # -- the incident's promise -----------------------------------------------------

    async def promise(self, incident_id: int) -> Promise | None:
        """The incident's open promise (its next update), if it owes one."""
        row = (await self.session.execute(select(_promises).where(
            _promises.c.incident_id == incident_id, _promises.c.status.in_(_OPEN))
            .order_by(_promises.c.due_at))).first()
        return promise_from_row(row) if row is not None else None

    async def promises(self, incident_ids: list[int]) -> dict[int, Promise]:
        """The open promise of each of these incidents that owes one."""
        if not incident_ids:
            return {}
        rows = await self.session.execute(select(_promises).where(
            among(_promises.c.incident_id, incident_ids, self._dialect),
            _promises.c.status.in_(_OPEN)))
        return {row.incident_id: promise_from_row(row) for row in rows}

    async def promise_next(self, workspace_id: int, incident_id: int, due_at: datetime,
                           now: datetime, *, owner_id: int, misses_in_row: int = 0,
                           parent_id: int | None = None) -> Promise:
        """Record the incident's next update as its one open promise."""
        row = promise_row(workspace_id, None, PromiseKind.INCIDENT_UPDATE, due_at,  # type: ignore[arg-type]
                          now, owner_id=owner_id, misses_in_row=misses_in_row,
                          parent_id=parent_id)
        row["incident_id"] = incident_id
        (promise_id,) = await insert_many(self.session, _promises, [row])
        return Promise(id=promise_id, workspace_id=workspace_id, ticket_id=None,  # type: ignore[arg-type]
                       kind=PromiseKind.INCIDENT_UPDATE, due_at=row["due_at"], made_at=now,
                       owner_id=owner_id, misses_in_row=misses_in_row)

    async def keep_promise(self, incident_id: int, now: datetime) -> list[int]:
        """The lead gave the update: the open promise is kept (late, when after its due
        time and before the ledger covered it). Returns the ids kept."""
        rows = (await self.session.execute(select(_promises.c.id, _promises.c.due_at).where(
            _promises.c.incident_id == incident_id, _promises.c.status.in_(_OPEN)))).all()
        for promise_id, due_at in rows:
            await self.session.execute(update(PromiseRow).where(PromiseRow.id == promise_id)
                                       .values(status=PromiseStatus.KEPT.value, resolved_at=now,
                                               resolution="person" if due_at > now else "late",
                                               claim_token=None))
        return [promise_id for promise_id, _ in rows]

    async def cancel_promise(self, incident_id: int, now: datetime) -> None:
        """The incident owes no more updates (it is resolved)."""
        await self.session.execute(update(PromiseRow).where(
            PromiseRow.incident_id == incident_id, PromiseRow.status.in_(_OPEN))
            .values(status=PromiseStatus.CANCELLED.value, resolved_at=now, claim_token=None))

    async def release_ticket_promises(self, ticket_ids: list[int], now: datetime) -> int:
        """A linked ticket's own first-response, status-update and follow-up promises
        are kept by the incident: its requesters hold the incident's promise instead."""
        if not ticket_ids:
            return 0
        kinds = [PromiseKind.FIRST_RESPONSE.value, PromiseKind.STATUS_UPDATE.value,
                 PromiseKind.FOLLOW_UP.value]
        result = await self.session.execute(
            update(PromiseRow).where(among(PromiseRow.ticket_id, ticket_ids, self._dialect),
                                     PromiseRow.kind.in_(kinds),
                                     PromiseRow.status.in_(_OPEN + (PromiseStatus.PAUSED.value,)))
            .values(status=PromiseStatus.KEPT.value, resolution="incident", resolved_at=now,
                    claim_token=None, lease_until=None))
        return result.rowcount or 0


@dataclass(frozen=True)
class Recent:
    """A recent ticket as detection compares it: its text, and the cluster it is
    counted in (if any, and whether that cluster became an incident)."""

    id: int
    number: int
    text: str
    created_at: datetime
    cluster_id: int | None
    declared: bool


@dataclass(frozen=True)
class Cluster:
    """Tickets that look alike, counted on their anchor ticket's card."""

    id: int
    workspace_id: int
    anchor_ticket_id: int
    incident_id: int | None
    tickets: tuple[Ticket, ...]


class ClusterRepository:
    """Clusters of new tickets that look alike (bot/desk/features/detection.py)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.bind.dialect.name

    async def recent(self, workspace_id: int, since: datetime, limit: int) -> list[Recent]:
        """The workspace's newest tickets opened since ``since`` that still wait in the
        queue (open, nobody owns them) and are linked to no incident, newest first, at
        most ``limit`` (read along
        the (workspace, number) index, newest first, so a busy desk reads ``limit``
        rows, never its history)."""
        rows = await self.session.execute(
            select(TicketRow.id, TicketRow.number, TicketRow.first_message,
                   TicketRow.created_at, _members.c.cluster_id,
                   _clusters.c.incident_id.is_not(None))
            .outerjoin(_members, _members.c.ticket_id == TicketRow.id)
            .outerjoin(_clusters, _clusters.c.id == _members.c.cluster_id)
            .outerjoin(IncidentTicketRow, IncidentTicketRow.ticket_id == TicketRow.id)
            .where(TicketRow.workspace_id == workspace_id, TicketRow.created_at >= since,
                   TicketRow.status.in_([TicketStatus.NEW.value, TicketStatus.OPEN.value]),
                   TicketRow.owner_id.is_(None), IncidentTicketRow.id.is_(None))
            .order_by(TicketRow.number.desc()).limit(limit))
        return [Recent(*row[:4], row[4], bool(row[5])) for row in rows.all()]

    async def start(self, workspace_id: int, anchor_id: int, ticket_ids: list[int],
                    now: datetime) -> int:
        """A cluster anchored on ``anchor_id`` counting ``ticket_ids``; its id. Two
        tickets opened at once may both start it (each read before the other wrote):
        the second finds the first's cluster and joins it, rather than failing on the
        unique anchor and losing its ticket."""
        await self.session.execute(insert_for(self.session, TicketClusterRow).values(
            workspace_id=workspace_id, anchor_ticket_id=anchor_id, incident_id=None,
            created_at=now).on_conflict_do_nothing(index_elements=["anchor_ticket_id"]))
        cluster_id = (await self.session.execute(select(_clusters.c.id).where(
            _clusters.c.anchor_ticket_id == anchor_id))).scalar_one()
        await self.add(cluster_id, ticket_ids)
        return cluster_id

    async def add(self, cluster_id: int, ticket_ids: list[int]) -> None:
        """Count these tickets on the cluster (one already counted, by a ticket opened
        at the same moment, stays where it is)."""
        if ticket_ids:
            await self.session.execute(
                insert_for(self.session, TicketClusterMemberRow).values(
                    [{"cluster_id": cluster_id, "ticket_id": ticket_id}
                     for ticket_id in ticket_ids])
                .on_conflict_do_nothing(index_elements=["ticket_id"]))

    async def anchor_of(self, cluster_id: int) -> int:
        """The ticket whose card counts the cluster."""
        return (await self.session.execute(select(_clusters.c.anchor_ticket_id).where(
            _clusters.c.id == cluster_id))).scalar_one()

    async def get(self, cluster_id: int) -> Cluster | None:
        """The cluster with its tickets (by number), or None."""
        row = (await self.session.execute(
            select(_clusters).where(_clusters.c.id == cluster_id))).first()
        if row is None:
            return None
        tickets = await self.session.execute(
            select(TicketRow).join(TicketClusterMemberRow,
                                   TicketClusterMemberRow.ticket_id == TicketRow.id)
            .where(TicketClusterMemberRow.cluster_id == cluster_id).order_by(TicketRow.number))
        return Cluster(row.id, row.workspace_id, row.anchor_ticket_id, row.incident_id,
                       tuple(ticket_from_row(t) for t in tickets.scalars()))

    async def anchored(self, ticket_ids: list[int]) -> dict[int, Cluster]:
        """The clusters these tickets anchor, by anchor ticket id."""
        if not ticket_ids:
            return {}
        ids = (await self.session.execute(select(_clusters.c.id).where(
            among(_clusters.c.anchor_ticket_id, ticket_ids, self._dialect)))).scalars().all()
        found = [await self.get(cluster_id) for cluster_id in ids]
        return {c.anchor_ticket_id: c for c in found if c is not None}

    async def declared(self, cluster_id: int, incident_id: int) -> None:
        """The cluster became ``incident_id``."""
        await self.session.execute(update(TicketClusterRow).where(
            TicketClusterRow.id == cluster_id).values(incident_id=incident_id))
