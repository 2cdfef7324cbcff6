"""Handing fresh outbox rows to this process's dispatcher without a claim.

A row a handler queues for now, on a platform this process delivers, is written
already claimed (``sending``, with a claim token and a lease) in the handler's own
transaction. After that transaction commits, the row goes straight to the dispatcher
in memory: no claim transaction, no wait for SQLite's one writer, no probe. Nothing is
lost if the process dies first: the lease expires and any dispatcher claims the row
again, exactly as if it had been claimed the usual way and the worker had crashed.
"""

from __future__ import annotations

import uuid
from collections import deque
from datetime import datetime, timedelta
from typing import Callable

from bot.core import OutboundMessage
from bot.outbox.delivery import ClaimedRow
from bot.storage.outbox_repository import WrittenRow

# A handed row is sent only with at least this much of its lease left; otherwise it
# is left for the lease to expire and a regular claim to pick it up.
_MARGIN = timedelta(seconds=5)


class Handoff:
    """Pre-claims fresh rows for ``platforms`` and queues them once committed."""

    def __init__(self, platforms: set[str], lease: timedelta, now: Callable[[], datetime],
                 wake: Callable[[], None]) -> None:
        self.platforms = platforms
        self.lease = lease
        self.now = now
        self.wake = wake
        self.token = uuid.uuid4().hex  # fences outcomes like any claim's token
        self.accepting = False
        self._rows: deque[ClaimedRow] = deque()

    @property
    def waiting(self) -> int:
        """How many handed rows wait to be sent."""
        return len(self._rows)

    def preclaim(self, platform: str, kind: str,
                 due_at: datetime | None) -> tuple[str, datetime] | None:
        """The claim (token, lease end) to write on a new row, or None to leave it pending.
        Cards are never handed over: they are drawn when sent, after the messages people
        wait for, so they wait for a claim (see OutboxDispatcher.drain)."""
        now = self.now()
        if (not self.accepting or platform not in self.platforms
                or kind in ("card", "incident_card")
                or (due_at and due_at > now)):
            return None
        return self.token, now + self.lease

    def accept(self, rows: list[tuple[WrittenRow, OutboundMessage]]) -> None:
        """Queue rows whose claiming transaction has committed, and wake the dispatcher."""
        for row, message in rows:
            self._rows.append(ClaimedRow(row.id, row.workspace_id, row.ticket_id, row.platform,
                                         row.kind, message, row.attempts, row.claim_token,
                                         lease_until=row.lease_until))
        self.wake()

    def take(self) -> list[ClaimedRow]:
        """Every handed row still safely inside its lease."""
        cutoff = self.now() + _MARGIN
        taken = [row for row in self._rows if row.lease_until is None or row.lease_until > cutoff]
        self._rows.clear()
        return taken

    def drop_all(self) -> list[ClaimedRow]:
        """Forget every waiting row (to hand back to the database when stopping)."""
        rows = list(self._rows)
        self._rows.clear()
        return rows
