"""Sign-in links to the web dashboard: given by ``/helpdesk dashboard``, spent by the
first sign-in, dead after a few minutes either way.

The token itself travels only in the link; the database keeps its SHA-256, so a copy of
the database signs no one in. Spending is one conditional UPDATE, so two sign-ins racing
with the same link cannot both succeed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.tables import DashboardLinkRow

# How long a link may wait to be used.
LINK_LIFETIME = timedelta(minutes=10)
# Spent and expired links are kept this long (for nothing but a look at recent sign-ins),
# then pruned whenever a new link is given.
KEEP_SPENT = timedelta(days=1)


def new_token() -> str:
    """A fresh unguessable token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What the database keeps of ``token``."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SignIn:
    """Who a spent link signs in: a person of one workspace, with the role they held."""

    workspace_id: int
    person_id: int
    role: str


class DashboardLinks:
    """Sign-in links: give one, spend one."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def give(self, workspace_id: int, person_id: int, role: str, now: datetime) -> str:
        """A new link's token for this person (only its hash is stored); it expires
        :data:`LINK_LIFETIME` from ``now``."""
        token = new_token()
        await self.session.execute(delete(DashboardLinkRow).where(
            DashboardLinkRow.expires_at < now - KEEP_SPENT))
        await self.session.execute(insert(DashboardLinkRow).values(
            token_hash=hash_token(token), workspace_id=workspace_id, person_id=person_id,
            role=role, created_at=now, expires_at=now + LINK_LIFETIME))
        return token

    async def state(self, token: str, now: datetime) -> str:
        """What ``token`` is now, without spending it: "ready", "used", "expired" or
        "unknown" (never given, cut short, changed). The sign-in page says which at once;
        only someone holding the token learns anything, and a token is 256 bits."""
        if not token or len(token) > 200:
            return "unknown"
        row = (await self.session.execute(
            select(DashboardLinkRow.used_at, DashboardLinkRow.expires_at)
            .where(DashboardLinkRow.token_hash == hash_token(token)))).first()
        if row is None:
            return "unknown"
        if row.used_at is not None:
            return "used"
        return "ready" if row.expires_at > now else "expired"

    async def spend(self, token: str, now: datetime) -> SignIn | None:
        """Who ``token`` signs in, marking its link used; None when no such link exists,
        it was used already or it has expired (one answer for all three: the caller
        learns nothing about links it does not hold)."""
        if not token or len(token) > 200:
            return None
        spent = await self.session.execute(
            update(DashboardLinkRow)
            .where(DashboardLinkRow.token_hash == hash_token(token),
                   DashboardLinkRow.used_at.is_(None),
                   DashboardLinkRow.expires_at > now)
            .values(used_at=now)
            .returning(DashboardLinkRow.workspace_id, DashboardLinkRow.person_id,
                       DashboardLinkRow.role))
        row = spent.first()
        return SignIn(row.workspace_id, row.person_id, row.role) if row else None
