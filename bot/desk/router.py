"""The router: matches an event to its handler and runs it through the middleware chain.

Every event gets one unit of work. Middleware (dedupe, identity, permissions, logging)
wraps every handler; one error handler turns a broken rule into a polite answer and
anything unexpected into a sincere apology with a reference, never a lost event.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable

from bot.core import (
    Actor, ButtonPressed, CommandInvoked, Event, Form, HomeOpened, IncomingMessage, ReactionAdded,
    clean_event, clean_text,
)
from bot.desk.choices import CHOICE_LIMIT, ticket_choices
from bot.desk.forms import FormProvider, FormRequest
from bot.desk.policy import Desk
from bot.domain.people import Role
from bot.domain.errors import DomainError, Phrase
from bot.desk.context import Context
from bot.desk.middleware import DEFAULT_MIDDLEWARE, Middleware
from bot.metrics import Metrics
from bot.logs import bound
from bot.storage.engine import RECONNECT_PAUSES, DatabaseUnavailable, lost_connection
from bot.storage.uow import Database

logger = logging.getLogger(__name__)

Handler = Callable[[Context], Awaitable[None]]


@dataclass(frozen=True)
class Route:
    """A handler and the least role allowed to use it. ``description`` names the template
    that says what the command does ("claiming tickets"): a refusal tells the person
    what they may not do in those words, and Discord lists sub-commands with them."""

    handler: Handler
    role: Role = Role.REQUESTER
    description: str = ""


class UnknownCommand(DomainError):
    """No handler knows this command: ``/name word``. The answer points to the help of
    the command the person used and, when one is near, the word they likely meant."""

    def __init__(self, command: str, *, name: str = "ticket") -> None:
        super().__init__("errors.unknown_command", command=command, name=name)


# How alike a mistyped sub-command must be to a real one to be offered (difflib's ratio):
# agnets and calim are, frobnicate is not.
NEAR_MISS_CUTOFF = 0.7


class Router:
    """Routes neutral events to handlers registered by feature modules."""

    def __init__(self, db: Database, desk: Desk,
                 middleware: tuple[Middleware, ...] = DEFAULT_MIDDLEWARE, *,
                 metrics: Metrics | None = None) -> None:
        self.db = db
        self.desk = desk
        self.metrics = metrics or Metrics()
        self.middleware = middleware
        self.message_handlers: list[Route] = []
        self.reaction_handlers: list[Route] = []
        self.commands: dict[tuple[str, str], Route] = {}
        self.buttons: dict[str, Route] = {}
        self.home_handlers: list[Route] = []
        self.forms: dict[tuple[str, str], FormProvider] = {}

    def on_message(self, handler: Handler) -> None:
        """Offer every message to ``handler``; handlers run in order until one handles it."""
        self.message_handlers.append(Route(handler))

    def on_reaction(self, handler: Handler) -> None:
        """Offer every reaction to ``handler``."""
        self.reaction_handlers.append(Route(handler))

    def on_home(self, handler: Handler) -> None:
        """Offer every home-surface opening to ``handler``."""
        self.home_handlers.append(Route(handler))

    def on_command(self, name: str, word: str, handler: Handler, *,
                   role: Role = Role.REQUESTER, description: str = "") -> None:
        """Route ``/name word ...`` to ``handler`` for people with at least ``role``;
        ``word`` "" is the command with no sub-command, ``description`` a template key."""
        self.commands[(name, word)] = Route(handler, role, description)

    def on_button(self, action: str, handler: Handler, *, role: Role = Role.REQUESTER) -> None:
        """Route presses of buttons with this ``action`` to ``handler``."""
        self.buttons[action] = Route(handler, role)

    def on_form(self, name: str, word: str, provider: FormProvider) -> None:
        """``/name word ...`` may open a form at once (a modal) instead of being handled:
        ``provider`` says which, or None to handle the command as usual."""
        self.forms[(name, word)] = provider

    async def command_form(self, platform: str, workspace_id: str, actor: Actor, name: str,
                           text: str) -> Form | None:
        """The form ``/name text`` opens at once for ``actor``, or None when it is handled
        as a command (no form for it, or not for this person: the command's own answer
        then explains). Read-only, so a platform can ask within its few seconds before
        it acknowledges the command; submitting the form is a button press, checked
        like any other."""
        word, _, rest = text.strip().partition(" ")
        provider = self.forms.get((name, word.lower()))
        if provider is None:
            return None
        return await provider(FormRequest(self.db, self.desk, platform, workspace_id, actor,
                                          clean_text(rest)))

    def match(self, event: Event) -> tuple[list[Route], str]:
        """The routes to try for ``event`` and the arguments left for them."""
        if isinstance(event, CommandInvoked):
            word, _, rest = event.text.strip().partition(" ")
            route = self.commands.get((event.name, word.lower()))
            if route is None and not word:
                route = self.commands.get((event.name, "help"))
            if route is None:
                raise UnknownCommand(f"/{event.name} {word}".strip(),
                                     name=self._help_name(event.name))
            # Arguments with nothing visible in them are no arguments.
            return [route], clean_text(rest)
        if isinstance(event, ButtonPressed):
            route = self.buttons.get(event.action)
            return ([route] if route else []), event.value
        if isinstance(event, ReactionAdded):
            return list(self.reaction_handlers), ""
        if isinstance(event, IncomingMessage):
            return list(self.message_handlers), event.text
        if isinstance(event, HomeOpened):
            return list(self.home_handlers), ""
        return [], ""

    async def __call__(self, event: Event) -> None:
        """Handle one event in its own unit of work. A lost database connection is
        retried on a fresh one (``RECONNECT_PAUSES``); only when the database stays
        away longer does it raise ``DatabaseUnavailable`` (the adapter keeps the event
        for later); nothing else raises. What people typed is
        cleaned first, the same for every platform (``bot.core.text``): no control
        character, escape sequence or NUL goes further than this."""
        event = clean_event(event)
        with bound(platform=event.platform, event=event.event_id):
            await self._handle(event)

    async def _handle(self, event: Event) -> None:
        begun = time.perf_counter()
        self.metrics.event(event.platform, _KINDS.get(type(event), "other"))
        route = "unknown"
        for pause in (*RECONNECT_PAUSES, None):
            try:
                route = await self._handle_once(event)
            except DomainError as error:
                await self._answer_error(event, error)
            except Exception as error:
                if lost_connection(error):
                    # A restart or a cut: the whole unit of work rolled back, so it runs
                    # again in full on a fresh connection (the pool pings before lending
                    # one); had it committed after all, the dedupe drops the repeat.
                    if pause is not None:
                        logger.warning("the database connection was lost while handling "
                                       "%s %s; trying again in %.1f s", event.platform,
                                       type(event).__name__, pause)
                        await asyncio.sleep(pause)
                        continue
                    # Not done, and not answered as a failure: the platform's adapter
                    # keeps the event (the inbox) for a later try.
                    raise DatabaseUnavailable("the database is unreachable") from error
                reference = uuid.uuid4().hex[:8]
                logger.exception("handling %s %s failed (reference %s)", event.platform,
                                 type(event).__name__, reference)
                await self._answer_error(event, None, reference)
            break
        self.metrics.handler_seconds.labels(route).observe(time.perf_counter() - begun)

    async def _handle_once(self, event: Event) -> str:
        """One try at the event in one unit of work; returns its route's name."""
        route = "unknown"
        async with self.db.unit_of_work() as uow:
            ctx = Context(event=event, uow=uow, desk=self.desk, now=self.db.clock.now(),
                          metrics=self.metrics)
            routes, ctx.args = self.match(event)
            route = route_name(event)
            await self._run(ctx, routes)
            kept = uow.promises.kept
            uow.after_commit(lambda: self.metrics.kept(p.kind.value for p in kept))
        return route

    def _help_name(self, name: str) -> str:
        """The command whose help to offer for ``/name``: its own, or /ticket's for a
        command the desk does not have at all."""
        return name if (name, "help") in self.commands else "ticket"

    def near_miss(self, event: Event, role: Role) -> str | None:
        """``/name word`` the person most likely meant by an unknown sub-command, among
        those their ``role`` may use; None when nothing is near."""
        if not isinstance(event, CommandInvoked):
            return None
        word = event.text.strip().partition(" ")[0].lower()
        allowed = [known for (name, known), route in self.commands.items()
                   if name == event.name and known and role.at_least(route.role)]
        near = difflib.get_close_matches(word, allowed, n=1, cutoff=NEAR_MISS_CUTOFF)
        return f"/{event.name} {near[0]}" if near else None

    async def ticket_choices(self, platform: str, workspace_id: str, actor: Actor, typed: str,
                             *, limit: int = CHOICE_LIMIT) -> list[tuple[int, str]]:
        """``(number, subject)`` of the tickets ``actor`` may pick as they type ``typed``
        (a platform's autocomplete): see bot/desk/choices.py. Read-only, one query."""
        return await ticket_choices(self.db, self.desk, platform, workspace_id, actor, typed,
                                    limit)

    async def _run(self, ctx: Context, routes: list[Route]) -> None:
        async def run_routes(ctx: Context) -> None:
            for route in routes:
                await route.handler(ctx)
                if ctx.handled:
                    return

        # Middleware wraps the whole event once, so dedupe and identity run once even
        # when several message handlers are offered the same message in turn.
        ctx.extras["routes"] = routes
        await _chain(self.middleware, run_routes)(ctx)

    async def _answer_error(self, event: Event, error: DomainError | None,
                            reference: str = "") -> None:
        """Tell the person what went wrong, privately, in a fresh unit of work."""
        try:
            async with self.db.unit_of_work() as uow:
                ctx = Context(event=event, uow=uow, desk=self.desk, now=self.db.clock.now())
                await _chain(self.middleware, _noop)(ctx)
                if ctx.extras.get("duplicate"):
                    return
                text = None
                if isinstance(error, UnknownCommand):
                    # Asked once the person's role is known: only a command they may use.
                    near = self.near_miss(event, ctx.role)
                    if near is not None:
                        error = DomainError("errors.unknown_command_near", **error.fields,
                                            near=near)
                if error is not None:
                    try:
                        text = ctx.error_text(_quoting_briefly(error))
                    except KeyError:  # a template or field missing: a bug, not their fault
                        reference = uuid.uuid4().hex[:8]
                        # The template and its fields' names: their values may be
                        # what the person typed, which the log never holds.
                        logger.exception("cannot word %s (fields: %s) (reference %s)",
                                         error.template, ", ".join(sorted(error.fields)),
                                         reference)
                if text is None:
                    text = ctx.t("errors.internal", reference=reference)
                await ctx.answer(text)
        except Exception:
            logger.exception("could not tell %s about a failed %s", event.actor.user_id,
                             type(event).__name__)


# helpdesk_events_total's ``kind``, by the neutral event's type.
_KINDS = {IncomingMessage: "message", CommandInvoked: "command", ButtonPressed: "button",
          ReactionAdded: "reaction", HomeOpened: "home"}


def route_name(event: Event) -> str:
    """helpdesk_handler_seconds's ``route`` for an event that matched a route: the
    command and its first word (``ticket claim``; only registered ones get here, so the
    label's values stay few), ``button``, ``message``, ``reaction`` or ``home``."""
    if isinstance(event, CommandInvoked):
        word = event.text.strip().partition(" ")[0].lower()
        return f"{event.name} {word}".strip()
    return _KINDS.get(type(event), "other")


# A refusal repeats at most this much of any one thing the person wrote.
QUOTE_LIMIT = 60


def _brief(value):
    if isinstance(value, str) and len(value) > QUOTE_LIMIT:
        return value[:QUOTE_LIMIT - 1] + "…"
    if isinstance(value, Phrase):
        return Phrase(value.key, **{k: _brief(v) for k, v in value.fields.items()})
    return value


def _quoting_briefly(error: DomainError) -> DomainError:
    """``error`` with every text it repeats cut to ``QUOTE_LIMIT`` characters: a
    100 KB word where a ticket number belongs is answered in a line, not echoed."""
    return DomainError(error.template, **{k: _brief(v) for k, v in error.fields.items()})


async def _noop(ctx: Context) -> None:
    ctx.handled = True


def _chain(middleware: tuple[Middleware, ...], handler: Handler) -> Handler:
    """Wrap ``handler`` in ``middleware``, the first one outermost."""
    call = handler
    for layer in reversed(middleware):
        call = _bind(layer, call)
    return call


def _bind(layer: Middleware, inner: Handler) -> Handler:
    async def bound(ctx: Context) -> None:
        await layer(ctx, inner)
    return bound
