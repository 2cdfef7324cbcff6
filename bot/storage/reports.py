"""How the desk keeps its word: promises made, kept, covered, late and dead.

Only promises the desk owes count (first response, follow-up, status update,
resolution); waiting on the requester is not a promise the desk can miss.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from sqlalchemy import select

from bot.domain.promises import PromiseKind, DESK_OWES, LATE_AFTER
from bot.storage.tables import OutboxRow, PersonRow, PromiseRow, TicketRow
from bot.storage.uow import UnitOfWork


@dataclass
class PromiseTally:
    """Counts for one owner (``owner`` None is the unowned queue; "all" is the total).

    A promise nobody kept is ``missed`` from the moment it lapses, whatever became of
    the bot's honest update about it: covering a miss keeps the desk's word that no
    promise passes silently, not the person's word. ``covered`` and ``dead`` say what
    became of the misses' updates."""

    owner: str | None
    made: int = 0
    kept: int = 0       # kept on time by a person
    late: int = 0       # kept by a person after it was due
    missed: int = 0     # lapsed unkept (counted at once)
    covered: int = 0    # of the missed: the bot's update went out on time
    dead: int = 0       # of the missed: the bot's update could not be delivered
    open: int = 0       # not yet due (or paused while the desk waits on the requester)
    cancelled: int = 0  # superseded (a newer promise replaced it)
    kinds: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_share(self) -> float | None:
        """Share of settled promises that a person kept on time."""
        settled = self.kept + self.late + self.missed
        return self.kept / settled if settled else None


async def promise_report(uow: UnitOfWork, workspace_id: int,
                         since: datetime | None = None) -> list[PromiseTally]:
    """One tally per owner, then the total (owner "all")."""
    tallies: dict[str | None, PromiseTally] = defaultdict(lambda: PromiseTally(None))
    total = PromiseTally("all")
    for _, owner, counted in await _promise_rows(uow, workspace_id, since):
        tally = tallies[owner]
        tally.owner = owner
        for t in (tally, total):
            _count(t, *counted)
    return _ordered(tallies) + [total]


async def promise_report_by_team(uow: UnitOfWork, workspace_id: int,
                                 team_of: Callable[[int | None], int],
                                 since: datetime | None = None
                                 ) -> tuple[dict[int, list[PromiseTally]], PromiseTally]:
    """The same tallies per team: for each team id, one tally per owner then the
    team's total (owner "all"); and the whole desk's total. ``team_of`` maps a
    ticket's stored team id (None for an incident's promise, which belongs to no
    ticket, or a row from before teams) to the team it is counted under."""
    tallies: dict[int, dict[str | None, PromiseTally]] = defaultdict(
        lambda: defaultdict(lambda: PromiseTally(None)))
    totals: dict[int, PromiseTally] = defaultdict(lambda: PromiseTally("all"))
    total = PromiseTally("all")
    for team_id, owner, counted in await _promise_rows(uow, workspace_id, since):
        team = team_of(team_id)
        tally = tallies[team][owner]
        tally.owner = owner
        for t in (tally, totals[team], total):
            _count(t, *counted)
    return {team: _ordered(owners) + [totals[team]] for team, owners in tallies.items()}, total


def _ordered(tallies: dict[str | None, PromiseTally]) -> list[PromiseTally]:
    return sorted(tallies.values(), key=lambda t: (t.owner is None, t.owner or ""))


async def _promise_rows(uow: UnitOfWork, workspace_id: int, since: datetime | None):
    """(ticket's team id, owner, what :func:`_count` reads) for every promise counted."""
    query = (select(PromiseRow.kind, PromiseRow.status, PromiseRow.resolution, PromiseRow.due_at,
                    PersonRow.display_name, PersonRow.external_id, OutboxRow.status,
                    OutboxRow.sent_at, TicketRow.team_id)
             .outerjoin(PersonRow, PersonRow.id == PromiseRow.owner_id)
             .outerjoin(OutboxRow, OutboxRow.id == PromiseRow.cover_outbox_id)
             .outerjoin(TicketRow, TicketRow.id == PromiseRow.ticket_id)
             .where(PromiseRow.workspace_id == workspace_id,
                    PromiseRow.kind.in_([k.value for k in DESK_OWES]
                                        + [PromiseKind.INCIDENT_UPDATE.value])))
    if since is not None:
        query = query.where(PromiseRow.made_at >= since)
    return [(team_id, (name or external_id) if external_id else None,
             (kind, status, resolution, due_at, cover_status, sent_at))
            for kind, status, resolution, due_at, name, external_id, cover_status, sent_at,
            team_id in (await uow.session.execute(query)).all()]


def _count(t: PromiseTally, kind, status, resolution, due_at, cover_status, sent_at) -> None:
    if status == "cancelled" or resolution == "incident":
        # Superseded by a newer promise, which is the one counted (a ticket linked to an
        # incident: the incident's update, kept or missed by its lead).
        t.cancelled += 1
        return
    t.made += 1
    t.kinds[kind] = t.kinds.get(kind, 0) + 1
    if status in ("pending", "sending", "paused"):
        t.open += 1
    elif status == "kept":
        if resolution == "late":
            t.late += 1
        else:
            t.kept += 1
    elif status == "missed":
        t.missed += 1
        if cover_status == "dead" or resolution == "failed":
            t.dead += 1
        elif cover_status == "sent" and sent_at is not None and sent_at - due_at <= LATE_AFTER:
            t.covered += 1
