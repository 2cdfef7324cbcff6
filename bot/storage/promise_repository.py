"""Recording promises, marking them kept or cancelled; claiming due ones is the
sweeper's job (bot/ledger/sweeper.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, literal, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.promises import (
    DESK_OWES, UPDATE_KINDS, KeptBy, Promise, PromiseKind, PromiseStatus, kept_by_action,
)
from bot.domain.digest import digest_text
from bot.domain.timefmt import stated_minute
from bot.storage.batch import among, insert_many, pairs_among
from bot.storage.tables import PromiseRow

_OPEN = (PromiseStatus.PENDING.value, PromiseStatus.SENDING.value)
# Open, or paused while the desk waits on the requester: still to be kept or cancelled.
_LIVE = _OPEN + (PromiseStatus.PAUSED.value,)
_promises = PromiseRow.__table__


def promise_row(workspace_id: int, ticket_id: int, kind: PromiseKind, due_at: datetime,
                now: datetime, *, owner_id: int | None = None, text: str = "",
                warn_at: datetime | None = None, misses_in_row: int = 0,
                parent_id: int | None = None, step: int = 0) -> dict[str, Any]:
    """A new promise as column values, for :meth:`PromiseRepository.make_many`.

    It is due at the minute the desk states (``due_at`` rounded up to the minute): a
    person told "by 10:30" must not get an apology at 10:29:20."""
    return {"workspace_id": workspace_id, "ticket_id": ticket_id, "kind": kind.value,
            "owner_id": owner_id, "text": text, "made_at": now, "due_at": stated_minute(due_at),
            "warn_at": warn_at, "status": PromiseStatus.PENDING.value,
            "misses_in_row": misses_in_row, "parent_id": parent_id, "attempts": 0, "step": step}


def promise_from_row(row: PromiseRow) -> Promise:
    """Domain value for a promise row."""
    return Promise(
        id=row.id, workspace_id=row.workspace_id, ticket_id=row.ticket_id,
        kind=PromiseKind(row.kind), due_at=row.due_at, made_at=row.made_at,
        status=PromiseStatus(row.status), owner_id=row.owner_id, text=row.text,
        misses_in_row=row.misses_in_row, warn_at=row.warn_at, step=row.step,
        paused_remaining=None if row.paused_remaining is None
        else timedelta(seconds=row.paused_remaining),
        incident_id=row.incident_id,
    )


@dataclass(frozen=True)
class PromiseHistory:
    """One promise a ticket was given and how it ended (for its transcript)."""

    kind: PromiseKind
    made_at: datetime
    due_at: datetime
    status: PromiseStatus
    resolution: str | None  # "bot" (covered by the desk's update), "failed", or a person's
    resolved_at: datetime | None


class PromiseRepository:
    """The ledger's writes that happen inside handlers' units of work."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.kept: list[Promise] = []  # kept by people in this unit of work (see keep)

    async def make(self, workspace_id: int, ticket_id: int, kind: PromiseKind, due_at: datetime,
                   now: datetime, **details: Any) -> Promise:
        """Record a promise the desk has just stated. ``details``: ``owner_id``, ``text``,
        ``warn_at``, ``misses_in_row``, ``parent_id``, ``step``."""
        row = promise_row(workspace_id, ticket_id, kind, due_at, now, **details)
        (promise_id,) = await insert_many(self.session, _promises, [row])
        return Promise(id=promise_id, workspace_id=workspace_id, ticket_id=ticket_id, kind=kind,
                       due_at=row["due_at"], made_at=now, owner_id=row["owner_id"],
                       text=row["text"], misses_in_row=row["misses_in_row"], warn_at=row["warn_at"],
                       step=row["step"])

    async def make_many(self, rows: list[dict[str, Any]]) -> list[int]:
        """Record many promises at once (each from :func:`promise_row`); returns their ids."""
        return await insert_many(self.session, _promises, rows)

    async def history_of_ticket(self, ticket_id: int) -> list[PromiseHistory]:
        """Every promise ``ticket_id`` was given, oldest first, with how it ended."""
        rows = (await self.session.execute(
            select(PromiseRow.kind, PromiseRow.made_at, PromiseRow.due_at, PromiseRow.status,
                   PromiseRow.resolution, PromiseRow.resolved_at)
            .where(PromiseRow.ticket_id == ticket_id).order_by(PromiseRow.id))).all()
        return [PromiseHistory(PromiseKind(kind), made, due, PromiseStatus(status), resolution,
                               resolved) for kind, made, due, status, resolution, resolved in rows]

    async def open_for_ticket(self, ticket_id: int,
                              statuses: tuple[str, ...] = _OPEN) -> list[Promise]:
        """Promises on this ticket not yet kept, missed or cancelled (or, given
        ``statuses``, those in them), soonest first."""
        rows = await self.session.execute(select(PromiseRow).where(
            PromiseRow.ticket_id == ticket_id, PromiseRow.status.in_(statuses)
        ).order_by(PromiseRow.due_at))
        return [promise_from_row(r) for r in rows.scalars()]

    async def next_due(self, ticket_ids: list[int]) -> dict[int, datetime]:
        """For each ticket with an open promise, when the soonest falls due (one query:
        queue and home views list many tickets)."""
        if not ticket_ids:
            return {}
        rows = await self.session.execute(
            select(PromiseRow.ticket_id, func.min(PromiseRow.due_at))
            .where(PromiseRow.ticket_id.in_(ticket_ids), PromiseRow.status.in_(_OPEN))
            .group_by(PromiseRow.ticket_id))
        return {ticket_id: due for ticket_id, due in rows.all()}

    async def soonest_updates(self, ticket_ids: set[int]) -> dict[int, tuple[int, datetime]]:
        """For each ticket with an open first response, status update or follow-up, the
        id and due time of the soonest (one query: the update a lapsed resolution target
        points the requester to, rather than starting a second cadence)."""
        soonest = await self._soonest(ticket_ids, UPDATE_KINDS)
        return {ticket_id: (promise_id, due_at)
                for ticket_id, (promise_id, _, due_at) in soonest.items()}

    async def soonest_open(self, ticket_ids: set[int]) -> dict[int, tuple[PromiseKind, datetime]]:
        """For each ticket with an open promise, the kind and due time of the soonest
        (one query, for the cards of many tickets)."""
        soonest = await self._soonest(ticket_ids)
        return {ticket_id: (kind, due_at) for ticket_id, (_, kind, due_at) in soonest.items()}

    async def _soonest(self, ticket_ids: set[int], kinds=None
                       ) -> dict[int, tuple[int, PromiseKind, datetime]]:
        """For each ticket with an open promise (of ``kinds``, or any), the id, kind and
        due time of the soonest, in one query."""
        soonest: dict[int, tuple[int, PromiseKind, datetime]] = {}
        if not ticket_ids:
            return soonest
        query = (select(PromiseRow.ticket_id, PromiseRow.id, PromiseRow.kind, PromiseRow.due_at)
                 .where(among(PromiseRow.ticket_id, list(ticket_ids),
                              self.session.bind.dialect.name),
                        PromiseRow.status.in_(_OPEN))
                 .order_by(PromiseRow.due_at.desc()))
        if kinds is not None:
            query = query.where(PromiseRow.kind.in_([k.value for k in kinds]))
        for ticket_id, promise_id, kind, due_at in (await self.session.execute(query)).all():
            # Latest first: the last one written is the soonest.
            soonest[ticket_id] = (promise_id, PromiseKind(kind), due_at)
        return soonest

    async def many(self, promise_ids: set[int]) -> dict[int, Promise]:
        """Several promises by id, in one query."""
        if not promise_ids:
            return {}
        dialect = self.session.bind.dialect.name
        rows = await self.session.execute(
            select(_promises).where(among(_promises.c.id, list(promise_ids), dialect)))
        return {row.id: promise_from_row(row) for row in rows}

    async def fence(self, claims: list[tuple[int, str]], now: datetime,
                    covers: dict[int, int] | None = None) -> set[int]:
        """Mark claimed promises missed, covered by the bot, each only while it is still
        held under its claim token (``claims``: id and token); returns the ids marked.
        ``covers`` (promise id: outbox id reserved for its update) are linked in the
        same statement on PostgreSQL, where a second UPDATE of the same rows would cost
        the server a new version of each; elsewhere they are linked just after."""
        if not claims:
            return set()
        dialect = self.session.bind.dialect.name
        if covers and dialect == "postgresql":
            result = await self.session.execute(text(
                "UPDATE promises SET status = 'missed', resolution = 'bot', resolved_at = :now,"
                " claim_token = NULL, lease_until = NULL, cover_outbox_id = v.cover"
                " FROM unnest(CAST(:ids AS BIGINT[]), CAST(:tokens AS VARCHAR[]),"
                " CAST(:covers AS BIGINT[])) AS v(id, token, cover)"
                " WHERE promises.id = v.id AND promises.claim_token = v.token"
                " AND promises.status = 'sending' RETURNING promises.id"),
                {"now": now, "ids": [i for i, _ in claims], "tokens": [t for _, t in claims],
                 "covers": [covers.get(i) for i, _ in claims]})
            return set(result.scalars())
        result = await self.session.execute(
            update(_promises)
            .where(among(_promises.c.id, [i for i, _ in claims], dialect),
                   pairs_among(_promises.c.id, _promises.c.claim_token, claims, dialect),
                   _promises.c.status == PromiseStatus.SENDING.value)
            .values(status=PromiseStatus.MISSED.value, resolution="bot", resolved_at=now,
                    claim_token=None, lease_until=None)
            .returning(_promises.c.id))
        fenced = set(result.scalars())
        if covers:
            await self.link_covers({i: c for i, c in covers.items() if i in fenced})
        return fenced

    async def link_covers(self, covers: dict[int, int]) -> None:
        """Point each covered promise (key) at the outbox row that covered it (value)."""
        if not covers:
            return
        if self.session.bind.dialect.name == "postgresql":
            # One statement for the lot (an executemany is one UPDATE per row there).
            await self.session.execute(text(
                "UPDATE promises SET cover_outbox_id = v.cover FROM unnest("
                "CAST(:ids AS BIGINT[]), CAST(:covers AS BIGINT[])) AS v(id, cover) "
                "WHERE promises.id = v.id"),
                {"ids": list(covers), "covers": list(covers.values())})
        else:
            await self.session.execute(
                update(_promises).where(_promises.c.id == bindparam("_id"))
                .values(cover_outbox_id=bindparam("_cover")),
                [{"_id": promise_id, "_cover": row_id} for promise_id, row_id in covers.items()])

    async def keep(self, ticket_id: int, action: str, now: datetime) -> list[Promise]:
        """Mark kept every open (or paused) promise on the ticket that ``action`` keeps.
        One kept after its due time (before the sweeper covered it) is recorded as
        ``late``; a paused one had time left, so it is kept in time. They are also
        remembered in :attr:`kept`, for counting once the unit of work commits."""
        kept = []
        for promise in await self.open_for_ticket(ticket_id, _LIVE):
            if kept_by_action(promise.kind, action):
                in_time = promise.due_at > now or promise.status is PromiseStatus.PAUSED
                resolution = KeptBy.PERSON.value if in_time else "late"
                await self._resolve(promise.id, PromiseStatus.KEPT, now, resolution)
                kept.append(promise)
        self.kept.extend(kept)
        return kept

    async def paused_for_ticket(self, ticket_id: int) -> list[Promise]:
        """The ticket's paused promises."""
        return await self.open_for_ticket(ticket_id, (PromiseStatus.PAUSED.value,))

    async def pause(self, remaining: dict[int, timedelta]) -> None:
        """Stop the clocks of these open promises (id: the business time each has left).
        A promise a sweeper already holds is taken back from it: its claim no longer
        fences, so nothing is said for it."""
        if not remaining:
            return
        # One statement, executed with each promise's parameters (an IN list would be
        # an expanding parameter, which executemany refuses).
        await self.session.execute(
            update(_promises)
            .where(_promises.c.id == bindparam("_id"),
                   or_(*(_promises.c.status == status for status in _OPEN)))
            .values(status=PromiseStatus.PAUSED.value, claim_token=None, lease_until=None,
                    paused_remaining=bindparam("_left")),
            [{"_id": promise_id, "_left": left.total_seconds()}
             for promise_id, left in remaining.items()])

    async def resume(self, resumed: dict[int, tuple[datetime, datetime | None]]) -> None:
        """Run paused promises' clocks again (id: the new due time and heads-up time),
        in one statement however many there are. Each is due at the minute the desk
        states for its due time (rounded up)."""
        if not resumed:
            return
        ids = list(resumed)
        column = _promises.c
        # A CASE per column keyed on the id: one UPDATE on SQLite and PostgreSQL alike,
        # with each value bound through the column's own type (UTC on the way in).
        due = case({promise_id: literal(stated_minute(due_at), column.due_at.type)
                    for promise_id, (due_at, _) in resumed.items()}, value=column.id)
        warn = case({promise_id: literal(warn_at, column.warn_at.type)
                     for promise_id, (_, warn_at) in resumed.items()}, value=column.id)
        await self.session.execute(
            update(_promises)
            .where(among(column.id, ids, self.session.bind.dialect.name),
                   column.status == PromiseStatus.PAUSED.value)
            .values(status=PromiseStatus.PENDING.value, due_at=due, warn_at=warn,
                    paused_remaining=None))

    async def replan(self, planned: dict[int, tuple[datetime, datetime | None]]) -> None:
        """Give pending promises a new due time and heads-up (id: both), in one
        statement; each is due at the minute the desk states, and warned afresh. A
        promise a sweeper holds by now (no longer pending) is left to it."""
        if not planned:
            return
        column = _promises.c
        due = case({promise_id: literal(stated_minute(due_at), column.due_at.type)
                    for promise_id, (due_at, _) in planned.items()}, value=column.id)
        warn = case({promise_id: literal(warn_at, column.warn_at.type)
                     for promise_id, (_, warn_at) in planned.items()}, value=column.id)
        await self.session.execute(
            update(_promises)
            .where(among(column.id, list(planned), self.session.bind.dialect.name),
                   column.status == PromiseStatus.PENDING.value)
            .values(due_at=due, warn_at=warn, warned_at=None))

    async def hand_to(self, ticket_id: int, owner_id: int | None) -> int:
        """Make ``owner_id`` the owner of every live promise the desk owes on the ticket
        (returns how many): when a ticket changes hands, so do its promises, so the
        heads-up, the reminder and the apology's name are the new owner's, not those of
        someone who no longer has the ticket."""
        result = await self.session.execute(
            update(PromiseRow).where(PromiseRow.ticket_id == ticket_id,
                                     PromiseRow.status.in_(_LIVE),
                                     PromiseRow.kind.in_([k.value for k in DESK_OWES]))
            .values(owner_id=owner_id))
        return result.rowcount or 0

    async def cancel(self, ticket_id: int, now: datetime, kinds: tuple[PromiseKind, ...] = ()) -> int:
        """Cancel open promises on the ticket (of ``kinds``, or all); returns how many."""
        return await self.cancel_many({ticket_id}, now, kinds)

    async def cancel_many(self, ticket_ids: set[int], now: datetime,
                          kinds: tuple[PromiseKind, ...] = ()) -> int:
        """:meth:`cancel` for several tickets at once, in one statement (paused promises
        are cancelled too)."""
        if not ticket_ids:
            return 0
        query = update(PromiseRow).where(PromiseRow.ticket_id.in_(ticket_ids),
                                         PromiseRow.status.in_(_LIVE))
        if kinds:
            query = query.where(PromiseRow.kind.in_([k.value for k in kinds]))
        result = await self.session.execute(query.values(
            status=PromiseStatus.CANCELLED.value, resolved_at=now, claim_token=None))
        return result.rowcount or 0

    # -- a team's weekly digest (no ticket: its team is named in ``text``) ----------

    def _digest_of(self, workspace_id: int, team_id: int):
        return (PromiseRow.workspace_id == workspace_id,
                PromiseRow.kind == PromiseKind.WEEKLY_DIGEST.value,
                PromiseRow.text == digest_text(team_id), PromiseRow.status.in_(_OPEN))

    async def digest_due(self, workspace_id: int, team_id: int) -> datetime | None:
        """When team ``team_id``'s next digest is promised (None: none is)."""
        return (await self.session.execute(
            select(func.min(PromiseRow.due_at)).where(*self._digest_of(workspace_id, team_id))
        )).scalar()

    async def schedule_digest(self, workspace_id: int, team_id: int, due_at: datetime,
                              now: datetime, *, parent_id: int | None = None) -> None:
        """Promise team ``team_id``'s next digest at ``due_at``, in place of any open one."""
        await self.cancel_digest(workspace_id, team_id, now)
        row = promise_row(workspace_id, None, PromiseKind.WEEKLY_DIGEST, due_at,  # type: ignore[arg-type]
                          now, text=digest_text(team_id), parent_id=parent_id)
        await insert_many(self.session, _promises, [row])

    async def cancel_digest(self, workspace_id: int, team_id: int, now: datetime) -> int:
        """Cancel team ``team_id``'s open digest promise (the digest was switched off);
        returns how many were open."""
        result = await self.session.execute(
            update(PromiseRow).where(*self._digest_of(workspace_id, team_id))
            .values(status=PromiseStatus.CANCELLED.value, resolved_at=now, claim_token=None,
                    lease_until=None))
        return result.rowcount or 0

    async def digest_done(self, promise_id: int, outbox_id: int | None) -> None:
        """A digest fell due (the sweeper's fence marked it missed): kept by the desk
        when it went out as ``outbox_id``, cancelled when nothing was posted (switched
        off, or the team has no triage channel)."""
        values: dict[str, Any] = (
            {"status": PromiseStatus.KEPT.value, "resolution": "bot", "cover_outbox_id": outbox_id}
            if outbox_id is not None else
            {"status": PromiseStatus.CANCELLED.value, "resolution": None})
        await self.session.execute(update(PromiseRow).where(PromiseRow.id == promise_id)
                                   .values(**values))

    async def _resolve(self, promise_id: int, status: PromiseStatus, now: datetime,
                       resolution: str | None) -> None:
        await self.session.execute(update(PromiseRow).where(PromiseRow.id == promise_id).values(
            status=status.value, resolved_at=now, resolution=resolution, claim_token=None))
