"""Writing to the outbox: what the desk must say, in the same transaction as its cause."""

from __future__ import annotations

import json
from datetime import datetime

from typing import Callable, NamedTuple

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import OutboundMessage
from bot.storage.batch import Bound, bind_row, write_bound
from bot.storage.tables import OutboxRow

# (platform, due_at) -> (claim token, lease end) to write on a new row, or None.
Preclaim = Callable[[str, "datetime | None"], "tuple[str, datetime] | None"]
# Columns of a bound row filled in when it is written: whether it is claimed then.
_CLAIM_COLUMNS = ("status", "attempts", "claim_token", "lease_until")


class BoundPost(NamedTuple):
    """An outbox row bound ahead of time (see ``bot.storage.batch.bind_row``) with
    what claiming and handing it over need."""

    bound: Bound
    message: OutboundMessage
    workspace_id: int
    ticket_id: int | None
    platform: str
    kind: str
    due_at: datetime


class WrittenRow(NamedTuple):
    """What the dispatcher's handoff reads of a row written by :meth:`write_bound`."""

    id: int
    workspace_id: int
    ticket_id: int | None
    platform: str
    kind: str
    attempts: int
    claim_token: str | None
    lease_until: datetime | None


class OutboxRepository:
    """Adds outbox rows; the dispatcher delivers them after the transaction commits."""

    def __init__(self, session: AsyncSession, preclaim: Preclaim | None = None) -> None:
        self.session = session
        self.added = 0
        self.preclaim = preclaim
        # Rows written already claimed for this process's dispatcher (see
        # bot/outbox/handoff.py), handed to it after the commit.
        self.claimed: list[tuple[OutboxRow, OutboundMessage]] = []
        # Set to a dict to keep each queued row's message (by the row's id()): covers
        # prepared ahead bind their rows with their messages for a later unit of work.
        self.messages: dict[int, OutboundMessage] | None = None

    async def add(self, workspace_id: int, platform: str, message: OutboundMessage,
                  now: datetime, *, ticket_id: int | None = None, kind: str = "post",
                  due_at: datetime | None = None) -> int:
        """Queue ``message`` for delivery at ``due_at`` (default: now); returns its id."""
        row = self.queue(workspace_id, platform, message, now, ticket_id=ticket_id, kind=kind,
                         due_at=due_at)
        await self.session.flush()
        return row.id

    def queue(self, workspace_id: int, platform: str, message: OutboundMessage,
              now: datetime, *, ticket_id: int | None = None, kind: str = "post",
              due_at: datetime | None = None) -> OutboxRow:
        """Like :meth:`add` but without flushing: the row gets its id at the next flush,
        so many rows queued together are written with one multi-row INSERT."""
        row = OutboxRow(
            workspace_id=workspace_id, platform=platform, kind=kind, ticket_id=ticket_id,
            payload_json=json.dumps(message.to_dict()), status="pending",
            due_at=due_at or now, attempts=0, created_at=now,
        )
        self._enlist(row, message, due_at)
        return row

    def _enlist(self, row: OutboxRow, message: OutboundMessage, due_at: datetime | None) -> None:
        claim = self.preclaim(row.platform, due_at) if self.preclaim is not None else None
        if claim is not None:
            row.status, row.attempts = "sending", 1
            row.claim_token, row.lease_until = claim
            self.claimed.append((row, message))
        if self.messages is not None:
            self.messages[id(row)] = message
        self.session.add(row)
        self.added += 1

    @staticmethod
    def bind(dialect: Dialect, row: OutboxRow, message: OutboundMessage) -> BoundPost:
        """A queued row (taken out of its session) bound for :meth:`write_bound` in a
        later unit of work; whether it is claimed is decided then."""
        return BoundPost(bind_row(dialect, row, later=_CLAIM_COLUMNS), message,
                         row.workspace_id, row.ticket_id, row.platform, row.kind, row.due_at)

    async def write_bound(self, posts: list[BoundPost], ids: list[int] | None = None) -> list[int]:
        """Write bound rows in this unit of work, claimed as :meth:`queue` would claim
        them, in the order given (the first ones with ``ids`` taken earlier, see
        ``bot.storage.batch.write_bound``); returns their ids."""
        claims = [self.preclaim(post.platform, post.due_at) if self.preclaim is not None
                  else None for post in posts]
        later = [{"status": "sending", "attempts": 1, "claim_token": claim[0],
                  "lease_until": claim[1]} if claim else
                 {"status": "pending", "attempts": 0, "claim_token": None, "lease_until": None}
                 for claim in claims]
        ids = await write_bound(self.session, [post.bound for post in posts], later, ids)
        for post, new_id, claim in zip(posts, ids, claims):
            if claim is not None:
                self.claimed.append((WrittenRow(new_id, post.workspace_id, post.ticket_id,
                                                post.platform, post.kind, 1, *claim),
                                     post.message))
        self.added += len(posts)
        return ids
