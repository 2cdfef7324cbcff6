"""Tickets and their timelines."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    String, and_, bindparam, case, cast, exists, func, or_, select, text, true, union, update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.priority import Priority
from bot.domain.tickets import Ticket, TicketStatus, TimelineEntry
from bot.storage.batch import insert_many
from bot.storage.tables import (
    MovedCardRow, PersonRow, TeamMemberRow, TeamRow, TicketEventRow, TicketRow, WorkspaceRow,
    report_outcomes_from_timeline,
)

_events = TicketEventRow.__table__
_tickets = TicketRow.__table__
# The status lines that are report outcomes (bot/storage/tables.py, ReportOutcomeRow).
_OUTCOMES = frozenset({TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value})


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
        team_id=row.team_id,
        sla_exception=json.loads(row.sla_exception) if row.sla_exception else None,
        offered_incident_id=row.offered_incident_id,
    )


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

    async def find(self, ticket_id: int) -> Ticket | None:
        """The ticket with this id, or None when there is none."""
        row = await self.session.get(TicketRow, ticket_id)
        return ticket_from_row(row) if row is not None else None

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
        if row is None:
            # A card the ticket had before a transfer: its thread still reaches it.
            row = (await self.session.execute(select(TicketRow).join(
                MovedCardRow, MovedCardRow.ticket_id == TicketRow.id).where(
                TicketRow.workspace_id == workspace_id,
                MovedCardRow.channel_id == channel_id, MovedCardRow.message_id == thread_id,
            ).order_by(TicketRow.id.desc()).limit(1))).scalar_one_or_none()
        return ticket_from_row(row) if row else None

    async def remember_moved_card(self, ticket_id: int, channel_id: str, message_id: str,
                                  now: datetime) -> None:
        """Keep a card the ticket leaves behind in a transfer, so that what people write
        in its thread afterwards still finds the ticket (:meth:`by_thread`)."""
        self.session.add(MovedCardRow(ticket_id=ticket_id, channel_id=channel_id,
                                      message_id=message_id, created_at=now))
        await self.session.flush()

    async def moved_cards(self, ticket_id: int) -> list[tuple[str, str]]:
        """(channel, message) of every card ``ticket_id`` left behind, oldest first."""
        rows = await self.session.execute(select(
            MovedCardRow.channel_id, MovedCardRow.message_id).where(
            MovedCardRow.ticket_id == ticket_id).order_by(MovedCardRow.id))
        return [(channel, message) for channel, message in rows.all()]

    async def is_moved_card(self, ticket_id: int, channel_id: str, message_id: str) -> bool:
        """Whether this is the thread of a card ``ticket_id`` had before a transfer."""
        return bool((await self.session.execute(select(MovedCardRow.id).where(
            MovedCardRow.ticket_id == ticket_id, MovedCardRow.channel_id == channel_id,
            MovedCardRow.message_id == message_id).limit(1))).first())

    async def update(self, ticket_id: int, **values: Any) -> Ticket:
        """Change a ticket's columns and return the new value."""
        await self.session.execute(update(TicketRow).where(TicketRow.id == ticket_id).values(**values))
        return await self.refresh(ticket_id)

    async def place_in_triage(self, ticket_ids: set[int], channel_id: str) -> None:
        """Record ``channel_id`` as the triage channel of those of ``ticket_ids`` that
        have none yet (their first card goes there)."""
        if ticket_ids:
            await self.session.execute(update(TicketRow).where(
                TicketRow.id.in_(ticket_ids), TicketRow.triage_channel_id.is_(None)
            ).values(triage_channel_id=channel_id))

    async def lock(self, ticket_id: int) -> Ticket:
        """The ticket, re-read with its row locked until this unit of work ends
        (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's one writer already holds
        the database). For a decision made once per ticket, such as which way a held
        message went: a second decider waits here and then reads the first's answer,
        where a read-then-write would let both decide."""
        row = (await self.session.execute(
            select(TicketRow).where(TicketRow.id == ticket_id).with_for_update()
            .execution_options(populate_existing=True))).scalar_one()
        return ticket_from_row(row)

    async def refresh(self, ticket_id: int) -> Ticket:
        """Re-read a ticket from the database."""
        row = await self.session.get_one(TicketRow, ticket_id, populate_existing=True)
        return ticket_from_row(row)

    async def list(self, workspace_id: int, *, requester_id: int | None = None,
                   owner_id: int | None = None, statuses: tuple[TicketStatus, ...] = (),
                   unowned: bool = False, limit: int = 50,
                   team_id: int | None = None) -> list[Ticket]:
        """Tickets matching every filter given, newest first."""
        query = select(TicketRow).where(TicketRow.workspace_id == workspace_id)
        if team_id is not None:
            query = query.where(TicketRow.team_id == team_id)
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

    async def visible_choices(self, platform: str, workspace: str, person: str, *,
                              desk_wide: bool, desk_roles: tuple[str, ...], back_to_grant: bool,
                              desk_statuses: tuple[TicketStatus, ...], typed: str,
                              limit: int = 25, all_teams: bool = True,
                              ) -> list[tuple[int, str]]:
        """``(number, subject)`` of the tickets ``person`` (an external id in the
        ``platform`` workspace ``workspace``) may pick, newest first, in one statement:
        the ones they asked for, and, when they see the desk's work (``desk_wide``, or a
        stored role in ``desk_roles``), every ticket of the workspace in
        ``desk_statuses``. ``back_to_grant``: the platform says the person holds no
        role now, so a role it once raised them to counts as the grant beneath it.
        ``typed`` matches the start of the number or any part of the subject, in any
        case. Each half walks its own index (requester; workspace and status).
        Unless ``all_teams`` (an admin), the desk's tickets are only those of the teams
        the person works (none: the default team), as ``/ticket show`` allows, and a
        person whose stored role is admin sees every team's."""
        ws = select(WorkspaceRow.id).where(WorkspaceRow.platform == platform,
                                           WorkspaceRow.external_id == workspace) \
            .scalar_subquery()
        me = (PersonRow.workspace_id == ws, PersonRow.external_id == person)
        matches = true()
        typed = typed.strip()
        if typed:
            digits = typed.lstrip("#")
            pattern = "%" + typed.lower().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            matches = func.lower(TicketRow.subject).like(pattern, escape="\\")
            if digits.isdigit():
                matches = or_(cast(TicketRow.number, String).like(digits + "%"), matches)
        sees_desk = true()
        if not desk_wide:
            stored = PersonRow.role
            if back_to_grant:
                stored = case((and_(PersonRow.platform_role == PersonRow.role,
                                    PersonRow.granted_role.is_not(None)),
                               PersonRow.granted_role), else_=PersonRow.role)
            sees_desk = exists().where(*me, stored.in_(desk_roles))
        if not all_teams:
            me_id = select(PersonRow.id).where(*me).scalar_subquery()
            default_id = select(TeamRow.id).where(
                TeamRow.workspace_id == ws, TeamRow.is_default.is_(True)).scalar_subquery()
            sees_desk = and_(sees_desk, or_(
                exists().where(*me, PersonRow.role == "admin"),
                TicketRow.team_id.in_(select(TeamMemberRow.team_id).where(
                    TeamMemberRow.person_id == me_id)),
                and_(~exists().where(TeamMemberRow.person_id == me_id),
                     or_(TicketRow.team_id.is_(None), TicketRow.team_id == default_id))))
        columns = (TicketRow.number, TicketRow.subject)
        own = select(*columns).where(
            TicketRow.requester_id == select(PersonRow.id).where(*me).scalar_subquery(),
            matches).order_by(TicketRow.number.desc()).limit(limit).subquery()
        desk = select(*columns).where(
            TicketRow.workspace_id == ws, TicketRow.status.in_([s.value for s in desk_statuses]),
            sees_desk, matches).order_by(TicketRow.number.desc()).limit(limit).subquery()
        both = union(select(own.c.number, own.c.subject),
                     select(desk.c.number, desk.c.subject)).subquery()
        rows = await self.session.execute(
            select(both.c.number, both.c.subject).order_by(both.c.number.desc()).limit(limit))
        return [(number, subject) for number, subject in rows.all()]

    async def count_waiting(self, workspace_id: int, statuses: tuple[TicketStatus, ...],
                            team_id: int | None = None, *, default_team: bool = True) -> int:
        """How many unowned tickets in ``statuses`` wait in the queue (of ``team_id``
        when given; ``default_team`` counts tickets from before teams in it too)."""
        query = select(func.count()).select_from(TicketRow).where(
            TicketRow.workspace_id == workspace_id, TicketRow.owner_id.is_(None),
            TicketRow.status.in_([s.value for s in statuses]))
        if team_id is not None:
            query = query.where((TicketRow.team_id == team_id) | TicketRow.team_id.is_(None)
                                if default_team else TicketRow.team_id == team_id)
        return (await self.session.execute(query)).scalar_one()

    async def recent_first_responses(self, workspace_id: int,
                                     limit: int) -> list[tuple[datetime, datetime]]:
        """(opened, first response) of the latest tickets that have had a first response."""
        rows = await self.session.execute(
            select(TicketRow.created_at, TicketRow.first_response_at)
            .where(TicketRow.workspace_id == workspace_id,
                   TicketRow.first_response_at.is_not(None))
            .order_by(TicketRow.id.desc()).limit(limit))
        return [(opened, answered) for opened, answered in rows.all()]

    async def latest_events(self, workspace_id: int, kind: str, limit: int
                            ) -> list[tuple[int, str, str]]:
        """The workspace's latest timeline entries of ``kind``, newest first, as
        (ticket number, author's name, body): the reports' service exceptions and flags."""
        rows = await self.session.execute(
            select(TicketRow.number, PersonRow.display_name, TicketEventRow.body)
            .join(TicketRow, TicketRow.id == TicketEventRow.ticket_id)
            .outerjoin(PersonRow, PersonRow.id == TicketEventRow.author_id)
            .where(TicketRow.workspace_id == workspace_id, TicketEventRow.kind == kind)
            .order_by(TicketEventRow.id.desc()).limit(limit))
        return [(number, name or "", body or "") for number, name, body in rows.all()]

    async def event_counts(self, ticket_ids: set[int], kind: str) -> dict[int, int]:
        """How many timeline entries of ``kind`` each of these tickets has (one query;
        tickets with none are left out)."""
        if not ticket_ids:
            return {}
        rows = await self.session.execute(
            select(TicketEventRow.ticket_id, func.count())
            .where(TicketEventRow.ticket_id.in_(ticket_ids), TicketEventRow.kind == kind)
            .group_by(TicketEventRow.ticket_id))
        return dict(rows.all())

    async def add_event(self, ticket_id: int, kind: str, now: datetime, *,
                        author_id: int | None = None, body: str = "", **data: Any) -> None:
        """Append one line to the ticket's timeline."""
        await self.add_events([event_row(ticket_id, kind, now, author_id=author_id, body=body,
                                         **data)])

    async def add_events(self, rows: list[dict[str, Any]]) -> None:
        """Append many timeline lines at once (each from :func:`event_row`). A
        resolution or a close also writes its report outcome (``report_outcomes``),
        with the ticket's slices as they are now, in the same statement's transaction:
        callers update the ticket first."""
        ids = await insert_many(self.session, _events, rows)
        outcomes = [new_id for new_id, row in zip(ids, rows)
                    if row["kind"] == "status" and row["body"] in _OUTCOMES]
        if outcomes:
            await self.session.execute(
                text(report_outcomes_from_timeline("AND e.id IN :ids"))
                .bindparams(bindparam("ids", expanding=True)), {"ids": outcomes})

    async def many(self, ticket_ids: set[int]) -> dict[int, Ticket]:
        """Several tickets by id, in one query, as they are in the database now."""
        if not ticket_ids:
            return {}
        rows = await self.session.execute(select(_tickets).where(_tickets.c.id.in_(ticket_ids)))
        return {row.id: ticket_from_row(row) for row in rows}

    async def latest_of_requesters(self, workspace_requesters: set[tuple[int, int]],
                                   limit: int) -> dict[tuple[int, int], list[Ticket]]:
        """The ``limit`` newest tickets of each (workspace, requester), newest first, in
        one query (the cards of many tickets show their requesters' history)."""
        if not workspace_requesters:
            return {}
        rank = func.row_number().over(
            partition_by=(_tickets.c.workspace_id, _tickets.c.requester_id),
            order_by=_tickets.c.number.desc()).label("rank")
        requesters = {requester for _, requester in workspace_requesters}
        ranked = select(_tickets, rank).where(_tickets.c.requester_id.in_(requesters)).subquery()
        rows = await self.session.execute(
            select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.number.desc()))
        found: dict[tuple[int, int], list[Ticket]] = {key: [] for key in workspace_requesters}
        for row in rows:
            key = (row.workspace_id, row.requester_id)
            if key in found:
                found[key].append(ticket_from_row(row))
        return found

    async def timeline(self, ticket_id: int) -> list[TimelineEntry]:
        """The ticket's timeline, oldest first."""
        rows = await self.session.execute(select(TicketEventRow).where(
            TicketEventRow.ticket_id == ticket_id).order_by(TicketEventRow.id))
        return [TimelineEntry(r.kind, r.body, r.created_at, r.author_id, json.loads(r.data_json))
                for r in rows.scalars()]


def event_row(ticket_id: int, kind: str, now: datetime, *, author_id: int | None = None,
              body: str = "", **data: Any) -> dict[str, Any]:
    """One timeline line as column values, for :meth:`TicketRepository.add_events`."""
    return {"ticket_id": ticket_id, "kind": kind, "author_id": author_id, "body": body,
            "data_json": json.dumps(data), "created_at": now}
