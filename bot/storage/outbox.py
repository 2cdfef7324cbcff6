"""Writing to the outbox: what the desk must say, in the same transaction as its cause."""

from __future__ import annotations

import json
from datetime import datetime

from typing import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from bot.adapters.base import OutboundMessage
from bot.storage.tables import OutboxRow

# (platform, due_at) -> (claim token, lease end) to write on a new row, or None.
Preclaim = Callable[[str, "datetime | None"], "tuple[str, datetime] | None"]


class OutboxRepository:
    """Adds outbox rows; the dispatcher delivers them after the transaction commits."""

    def __init__(self, session: AsyncSession, preclaim: Preclaim | None = None) -> None:
        self.session = session
        self.added = 0
        self.preclaim = preclaim
        # Rows written already claimed for this process's dispatcher (see
        # bot/scheduling/handoff.py), handed to it after the commit.
        self.claimed: list[tuple[OutboxRow, OutboundMessage]] = []
        # Set to a dict to keep each queued row's message (by the row's id()): covers
        # prepared ahead hand the rows to another unit of work with their messages.
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

    def adopt(self, row: OutboxRow, message: OutboundMessage) -> None:
        """Count in, and claim as :meth:`queue` would, a row built earlier outside this
        unit of work (a cover prepared ahead, see bot/scheduling/prepared.py). The caller
        writes it, with ``bot.storage.batch.write_rows``."""
        self._enlist(row, message, row.due_at, add=False)

    def _enlist(self, row: OutboxRow, message: OutboundMessage, due_at: datetime | None, *,
                add: bool = True) -> None:
        claim = self.preclaim(row.platform, due_at) if self.preclaim is not None else None
        if claim is not None:
            row.status, row.attempts = "sending", 1
            row.claim_token, row.lease_until = claim
            self.claimed.append((row, message))
        if self.messages is not None:
            self.messages[id(row)] = message
        if add:
            self.session.add(row)
        self.added += 1
