"""How the desk keeps its word: promises made, kept, covered, late and dead.

Only promises the desk owes count (first response, follow-up, status update,
resolution); waiting on the requester is not a promise the desk can miss.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.domain.promises import PromiseKind, DESK_OWES, LATE_AFTER
from bot.storage.tables import OutboxRow, PersonRow, PromiseRow
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
    query = (select(PromiseRow.kind, PromiseRow.status, PromiseRow.resolution, PromiseRow.due_at,
                    PersonRow.display_name, PersonRow.external_id, OutboxRow.status,
                    OutboxRow.sent_at)
             .outerjoin(PersonRow, PersonRow.id == PromiseRow.owner_id)
             .outerjoin(OutboxRow, OutboxRow.id == PromiseRow.cover_outbox_id)
             .where(PromiseRow.workspace_id == workspace_id,
                    PromiseRow.kind.in_([k.value for k in DESK_OWES]
                                        + [PromiseKind.INCIDENT_UPDATE.value])))
    if since is not None:
        query = query.where(PromiseRow.made_at >= since)
    tallies: dict[str | None, PromiseTally] = defaultdict(lambda: PromiseTally(None))
    total = PromiseTally("all")
    for kind, status, resolution, due_at, name, external_id, cover_status, sent_at in \
            (await uow.session.execute(query)).all():
        owner = (name or external_id) if external_id else None
        tally = tallies[owner]
        tally.owner = owner
        for t in (tally, total):
            _count(t, kind, status, resolution, due_at, cover_status, sent_at)
    ordered = sorted(tallies.values(), key=lambda t: (t.owner is None, t.owner or ""))
    return ordered + [total]


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
