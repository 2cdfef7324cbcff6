"""Cross-cutting rules that wrap every handler: logging, dedupe, identity, permissions."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Awaitable, Callable

from bot.core import Actor
from bot.domain.people import Person, Role
from bot.desk.context import Context, PermissionDenied
from bot.logs import bind

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

    The effective role is the highest of the stored role, the role the platform's own
    roles give (``Actor.platform_role``, stored so that lookups by role such as
    escalations find the person) and admin: people named in HELPDESK_ADMINS and the
    platform's own workspace admins act as admins whatever role is stored for them.
    """
    event, uow = ctx.event, ctx.uow
    ctx.workspace = await uow.workspaces.ensure(event.platform, event.workspace_id,
                                                event.workspace_id, ctx.now)
    bind(workspace=ctx.workspace.id)
    actor = event.actor
    ctx.person = await uow.people.ensure(ctx.workspace.id, actor.user_id, actor.display_name,
                                         ctx.now, email=actor.email, tz=actor.tz)
    ctx.person = await _apply_platform_role(ctx, ctx.person, actor)
    ctx.role = ctx.person.role
    if ctx.desk.is_admin(actor):
        ctx.role = Role.ADMIN
    ctx.use_team(None)
    await call_next(ctx)


_PLATFORM_ROLES = {Role.REQUESTER.value: Role.REQUESTER, Role.AGENT.value: Role.AGENT,
                   Role.LEAD.value: Role.LEAD}


def settle_role(stored: Role, platform: Role, raised_to: Role | None,
                granted: Role | None) -> tuple[Role, Role | None, Role | None]:
    """``(role, raised_to, granted)`` to store, given the stored role, the role the
    platform gives now, and the markers of an earlier raise (see PersonRow).

    A platform role above what the desk granted raises the stored role and remembers the
    grant; once the platform role is lower again (the Discord role was taken away) the
    person goes back to the grant. A stored role that differs from the one a platform
    raised it to was changed by the desk since, so it is the desk's grant now."""
    if raised_to is not stored:
        raised_to, granted = None, None
    desk = granted if raised_to is not None and granted is not None else stored
    if platform.rank > desk.rank:
        return platform, platform, desk
    return desk, None, None


def _platform_says(person: Person, actor: Actor) -> Role | None:
    """The role the platform gives ``actor`` now, or None when it says nothing. A
    workspace admin or owner (Slack), a guild manager (Discord), the console's admin is
    an admin: stored as one, so that everything "the admins hear" reaches them too, not
    only the people in HELPDESK_ADMINS. Once the platform no longer says so, a stored
    admin is offered the requester's role, which takes back only the platform's raise."""
    if actor.is_platform_admin:
        return Role.ADMIN
    platform = _PLATFORM_ROLES.get(actor.platform_role or "")
    if platform is None and person.role is Role.ADMIN:
        return Role.REQUESTER
    return platform


async def _apply_platform_role(ctx: Context, person: Person, actor: Actor) -> Person:
    platform = _platform_says(person, actor)
    # Nothing to learn when the platform says nothing, or agrees with what is stored.
    if platform is None or platform is person.role:
        return person
    raised_to, granted = await ctx.uow.people.platform_grant(person.id)
    settled = settle_role(person.role, platform, raised_to, granted)
    if settled != (person.role, raised_to, granted):
        role, raised_to, granted = settled
        await ctx.uow.people.record_role(person.id, role, platform_role=raised_to,
                                         granted_role=granted)
        if role is not person.role:
            logger.info("%s person %s is now %s (was %s) by their %s roles", ctx.event.platform,
                        actor.user_id, role.value, person.role.value, ctx.event.platform)
    return replace(person, role=settled[0])


async def check_permissions(ctx: Context, call_next: Next) -> None:
    """Refuse a command or button the person's role does not allow, changing nothing."""
    routes = ctx.extras.get("routes") or []
    needed = max((r.role for r in routes), key=lambda r: r.rank, default=Role.REQUESTER)
    if not ctx.role.at_least(needed):
        route = routes[0]
        raise PermissionDenied(route.description or "commands.unnamed", needed)
    await call_next(ctx)


DEFAULT_MIDDLEWARE: tuple[Middleware, ...] = (
    log_events, ignore_bots, drop_duplicates, resolve_identity, check_permissions,
)
