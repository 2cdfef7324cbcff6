"""Writing to the outbox: what the desk must say, in the same transaction as its cause."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import OutboundMessage
from bot.storage.batch import insert_many, reserve_ids
from bot.storage.tables import OutboxRow

# (platform, kind, due_at) -> (claim token, lease end) to write on a new row, or None.
Preclaim = Callable[[str, str, "datetime | None"], "tuple[str, datetime] | None"]
_outbox = OutboxRow.__table__


@dataclass(frozen=True)
class NewPost:
    """A message to queue: what to say, on which workspace's platform, about what."""

    workspace_id: int
    platform: str
    message: OutboundMessage
    ticket_id: int | None = None
    kind: str = "post"  # post | card | incident_card | thread_root | alert
    due_at: datetime | None = None  # None: now
    # The message as stored, worked out once when the post is made (a cover prepared
    # ahead makes its posts long before they are written).
    payload_json: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "payload_json", json.dumps(self.message.to_dict()))


class WrittenRow(NamedTuple):
    """What the dispatcher's hand-over reads of a row written already claimed."""

    id: int
    workspace_id: int
    ticket_id: int | None
    platform: str
    kind: str
    attempts: int
    claim_token: str | None
    lease_until: datetime | None


class OutboxRepository:
    """Adds outbox rows; the dispatcher delivers them after the transaction commits.

    A row queued for now, on a platform this process delivers, is written already
    claimed for the dispatcher (``preclaim``, see bot/outbox/handoff.py) and handed to it
    in memory after the commit; the others wait for a claim.
    """

    def __init__(self, session: AsyncSession, preclaim: Preclaim | None = None) -> None:
        self.session = session
        self.added = 0
        self.preclaim = preclaim
        self.claimed: list[tuple[WrittenRow, OutboundMessage]] = []

    async def add(self, workspace_id: int, platform: str, message: OutboundMessage,
                  now: datetime, *, ticket_id: int | None = None, kind: str = "post",
                  due_at: datetime | None = None) -> int:
        """Queue ``message`` for delivery at ``due_at`` (default: now); returns its id."""
        return (await self.add_many(
            [NewPost(workspace_id, platform, message, ticket_id, kind, due_at)], now))[0]

    async def reserve_ids(self, count: int) -> list[int]:
        """Ids for posts to add later in this unit of work, where the database can give
        them out ahead (see ``bot.storage.batch.reserve_ids``; empty on SQLite)."""
        return await reserve_ids(self.session, _outbox, count)

    async def add_many(self, posts: list[NewPost], now: datetime,
                       ids: list[int] | None = None) -> list[int]:
        """Queue many messages with one statement; returns their ids, in order (the
        first ``len(ids)`` take ``ids``, from :meth:`reserve_ids`). The dispatcher
        receives the pre-claimed ones in this order, so put first what people wait for
        most."""
        rows, claims = [], []
        for post in posts:
            claim = (self.preclaim(post.platform, post.kind, post.due_at) if self.preclaim
                     else None)
            claims.append(claim)
            rows.append({
                "workspace_id": post.workspace_id, "platform": post.platform,
                "kind": post.kind, "ticket_id": post.ticket_id,
                "payload_json": post.payload_json,
                "due_at": post.due_at or now, "first_due_at": post.due_at or now,
                "created_at": now,
                "status": "sending" if claim else "pending", "attempts": 1 if claim else 0,
                "claim_token": claim[0] if claim else None,
                "lease_until": claim[1] if claim else None,
            })
        ids = await insert_many(self.session, _outbox, rows, ids)
        for post, new_id, claim in zip(posts, ids, claims):
            if claim is not None:
                self.claimed.append((WrittenRow(new_id, post.workspace_id, post.ticket_id,
                                                post.platform, post.kind, 1, *claim),
                                     post.message))
        self.added += len(posts)
        return ids
