"""The console's world: the time it may move, and the one database it may move it in.

The console's ``/wait`` lets time pass at once by moving an OffsetClock. The sweeper
and the outbox then act as if that time had passed, for every workspace in the
database, so the console runs only on a database no platform uses: it refuses to
start (and to let time pass) when Slack or Discord workspaces are in it.

Time passes the way it would live: the clock moves to each next moment at which
something is due (a promise, a warning before one, a scheduled or retried message, a
lease running out), the desk sweeps and delivers then, and only then does time go on.
So a cover is written at its due time, and what it says is what the requester would
have read at that moment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Awaitable, Callable

from sqlalchemy import select

from bot.clock import OffsetClock
from bot.ledger.sweeper import PromiseSweeper
from bot.settings import CONSOLE_DATABASE_URL, SettingsError, env_name
from bot.storage.due import next_moment_after
from bot.storage.engine import redact_url
from bot.domain.people import Role
from bot.storage.tables import PersonRow, WorkspaceRow
from bot.storage.uow import Database

CONSOLE = "console"
# A bound on the steps of one wait: each step moves the clock forward, so this is only
# a guard against a bug that schedules work ever closer together.
MAX_STEPS = 100_000


class ConsoleWorld:
    """What the console may do to time, on ``db``; ``settle`` is one tick and delivery."""

    def __init__(self, db: Database, clock: OffsetClock, settle: Callable[[], Awaitable[None]],
                 sweeper: PromiseSweeper | None = None, platforms: tuple[str, ...] = (CONSOLE,),
                 url: str = "") -> None:
        self.db = db
        self.clock = clock
        self.settle = settle
        self.sweeper = sweeper
        self.platforms = list(platforms)
        self.url = url

    async def ensure_alone(self) -> None:
        """Raise SettingsError (one line) when a platform's workspaces share the database."""
        async with self.db.reading() as uow:
            others = sorted(set((await uow.session.execute(
                select(WorkspaceRow.platform).where(WorkspaceRow.platform != CONSOLE)
                .distinct())).scalars()))
        if others:
            names = " and ".join(p.capitalize() for p in others)
            raise SettingsError(
                f"the console will not run on {redact_url(self.url) or 'this database'}: "
                f"{names} workspaces use it, and the console's /wait would move their time "
                f"too. Give the console a database of its own (leave {env_name('database_url')} "
                f"unset for {CONSOLE_DATABASE_URL.removeprefix('sqlite:///')}).")

    async def works_the_desk(self, user_id: str) -> bool:
        """Whether the console's person ``user_id`` is already an agent (or more) at the
        console's desk, from an earlier run: then there is nobody to add, and nothing
        for the console to say."""
        async with self.db.reading() as uow:
            row = (await uow.session.execute(
                select(PersonRow.role, PersonRow.platform_role, PersonRow.granted_role)
                .join(WorkspaceRow, PersonRow.workspace_id == WorkspaceRow.id)
                .where(WorkspaceRow.platform == CONSOLE, WorkspaceRow.external_id == CONSOLE,
                       PersonRow.external_id == user_id))).one_or_none()
        if row is None:
            return False
        role, raised_to, granted = row
        # A role the admin persona's hat raised them to is not the desk's grant: played
        # as an agent they go back to that grant (bot/desk/middleware.py).
        if raised_to is not None and raised_to == role and granted is not None:
            role = granted
        return Role(role).at_least(Role.AGENT)

    async def pass_time(self, delta: timedelta,
                        on_moment: Callable[[datetime], Awaitable[None]] | None = None) -> None:
        """Let ``delta`` pass, stopping at each moment something falls due to sweep and
        deliver it; ``on_moment`` hears of each stop before the desk acts at it."""
        await self.ensure_alone()
        target = self.clock.now() + delta
        for _ in range(MAX_STEPS):
            now = self.clock.now()
            moment = await next_moment_after(self.db, now, self.platforms)
            prepared = self.sweeper.next_prepared_at if self.sweeper is not None else None
            if prepared is not None and prepared > now and (moment is None or prepared < moment):
                moment = prepared
            if moment is None or moment > target:
                break
            self.clock.advance(moment - now)
            if on_moment is not None:
                await on_moment(moment)
            await self.settle()
        if target > self.clock.now():
            self.clock.advance(target - self.clock.now())
        if on_moment is not None:
            await on_moment(target)
        await self.settle()
