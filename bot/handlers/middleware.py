"""Cross-cutting rules that wrap every handler: logging, dedupe, identity, permissions."""

from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable

from bot.domain.people import Role
from bot.handlers.context import Context, PermissionDenied

logger = logging.getLogger(__name__)

Next = Callable[[Context], Awaitable[None]]
Middleware = Callable[[Context, Next], Awaitable[None]]


async def log_events(ctx: Context, call_next: Next) -> None:
    """Log each event's kind, platform and outcome; never its text (it may be private)."""
    started = time.perf_counter()
    await call_next(ctx)
    logger.debug("%s %s from %s handled=%s in %.1f ms", ctx.event.platform,
                 type(ctx.event).__name__, ctx.event.actor.user_id, ctx.handled,
                 (time.perf_counter() - started) * 1000)


async def drop_duplicates(ctx: Context, call_next: Next) -> None:
    """Stop a re-delivered event here. The event id is recorded in the same transaction
    as the handler's work, so a crash mid-way lets the retry run in full."""
    event = ctx.event
    if not await ctx.uow.events.first_time(event.platform, event.event_id, ctx.now):
        logger.info("dropping duplicate %s event %s", event.platform, event.event_id)
        ctx.extras["duplicate"] = True
        ctx.handled = True
        return
    await call_next(ctx)


async def ignore_bots(ctx: Context, call_next: Next) -> None:
    """Bots (the desk itself included) never open tickets or run commands."""
    if ctx.event.actor.is_bot:
        ctx.handled = True
        return
    await call_next(ctx)


async def resolve_identity(ctx: Context, call_next: Next) -> None:
    """Load (or create) the workspace and the person who acted, with their role.

    People named in HELPDESK_ADMINS and the platform's own workspace admins act as
    admins of the desk whatever role is stored for them.
    """
    event, uow = ctx.event, ctx.uow
    ctx.workspace = await uow.workspaces.ensure(event.platform, event.workspace_id,
                                                event.workspace_id, ctx.now)
    actor = event.actor
    ctx.person = await uow.people.ensure(ctx.workspace.id, actor.user_id, actor.display_name,
                                         ctx.now, email=actor.email, tz=actor.tz)
    ctx.role = ctx.person.role
    if actor.user_id in ctx.desk.admins or actor.is_platform_admin:
        ctx.role = Role.ADMIN
    ctx.policy = ctx.desk.policy(ctx.workspace)
    await call_next(ctx)


async def check_permissions(ctx: Context, call_next: Next) -> None:
    """Refuse a command or button the person's role does not allow, changing nothing."""
    routes = ctx.extras.get("routes") or []
    needed = max((r.role for r in routes), key=lambda r: r.rank, default=Role.REQUESTER)
    if not ctx.role.at_least(needed):
        route = routes[0]
        raise PermissionDenied(route.description or "that", needed)
    await call_next(ctx)


DEFAULT_MIDDLEWARE: tuple[Middleware, ...] = (
    log_events, ignore_bots, drop_duplicates, resolve_identity, check_permissions,
)
