"""The composition root: settings -> database -> desk -> router -> adapters -> ticker,
and the process's one web server (health, readiness, metrics, Slack's HTTP mode)."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta
from typing import Awaitable, Callable, TextIO

from bot.core import ChatAdapter, WebRoutes, event_from_json
from bot.core.tasks import bounded
from bot.platforms.console.adapter import ConsoleAdapter
from bot.clock import Clock, OffsetClock
from bot.console_world import ConsoleWorld
from bot.desk.policy import Desk
from bot.desk.features import register_all
from bot.desk.alerts import dead_letter_alerter
from bot.desk.cards import CardRenderer
from bot.desk.router import Router
from bot.failover import POLL_SECONDS, HeldGateway
from bot.ledger.sweeper import PromiseSweeper
from bot.metrics import Metrics
from bot.outbox.dispatcher import OutboxDispatcher
from bot.ticker import Ticker
from bot.settings import Settings, SettingsError
from bot.storage import migrate
from bot.storage.gateway_lock import GatewayLock
from bot.storage.health import DatabaseProbe
from bot.storage.inbox import DurableInbox
from bot.storage.retention import Retention
from bot.storage.uow import Database
from bot.web import Readiness, WebServer, mount_service_routes
from bot.web.dashboard import mount_dashboard
from bot.web.listening import cannot_listen

logger = logging.getLogger(__name__)



# What a stop may take after the acknowledged events' grace: the ticker's own 5 s to
# record what it sent, the web server, the adapters and the database (20 s in all with
# the default grace of 8 s: Docker's default stop timeout is 10 s, so compose.yaml
# gives 30 s).
STOP_AFTER_GRACE_S = 12.0

class App:
    """One running desk: its database, router, adapters and scheduler."""

    def __init__(self, settings: Settings, *, console: bool = False, clock: Clock | None = None,
                 stdin: TextIO | None = None, stdout: TextIO | None = None,
                 run_migrations: bool | None = None) -> None:
        self.settings = settings
        self.use_console = console or not (settings.slack_enabled or settings.discord_enabled)
        # The console lets time pass on request (/wait), so it needs a clock it can move.
        self.clock = clock or OffsetClock()
        self.run_migrations = settings.auto_migrate if run_migrations is None else run_migrations
        self.db = Database.from_url(settings.database_url, self.clock)
        if settings.kb_embeddings:
            # Loaded now, so a desk without the extra says so at start, not at intake.
            from bot.storage.kb_vectors import Embedder, KbVectors
            self.db.kb_vectors = KbVectors(Embedder())
        self.desk = Desk.from_settings(settings, self.clock)
        # Its own registry, so several Apps in one process (tests) count apart.
        self.metrics = Metrics()
        self.router = Router(self.db, self.desk, metrics=self.metrics)
        register_all(self.router)
        self.adapters: dict[str, ChatAdapter] = {}
        self.console: ConsoleAdapter | None = None
        if self.use_console:
            if not isinstance(self.clock, OffsetClock):
                raise SettingsError("the console needs an OffsetClock")
            self.console = ConsoleAdapter(self.clock, self.settle, stdin, stdout)
            self.adapters["console"] = self.console
        # One web server per process: whenever a platform runs, and for the console only
        # when HELPDESK_HTTP_PORT was given. Platforms add their routes to it now, before
        # it starts (Slack's HTTP mode).
        platforms = settings.slack_enabled or settings.discord_enabled
        self.web: WebServer | None = None
        if (platforms and not console) or "http_port" in settings.given:
            self.web = WebServer(settings.http_host, settings.http_port, settings.public_url)
        self.adapters.update(_platform_adapters(settings, console_only=console, clock=self.clock,
                                                desk=self.desk, web=self.web))
        self.metrics.prepare(self.adapters)
        self.dispatcher = OutboxDispatcher(self.db, self.adapters,
                                           on_dead=dead_letter_alerter(self.desk),
                                           render_cards=CardRenderer(self.desk),
                                           metrics=self.metrics)
        self.db.deliver_outbox_to(self.dispatcher)
        if "discord" in self.adapters and self.db.engine.dialect.name == "postgresql":
            # Several instances may share this database, and Discord allows one gateway
            # per bot token: the instance holding the advisory lock connects, the others
            # stand by and take over when it dies (bot/failover.py).
            self.adapters["discord"] = HeldGateway(
                self.adapters["discord"], GatewayLock(settings.database_url, "discord",
                                                    ttl=4 * POLL_SECONDS, timeout=2.0),
                self.dispatcher)
        self.sweeper = PromiseSweeper(
            self.db, self.desk, prepare_ahead=timedelta(seconds=max(0, settings.prepare_seconds)),
            metrics=self.metrics)
        # Events acknowledged to a platform that will not deliver them again are kept
        # in the database until handled (bot/storage/inbox.py); any instance finishes
        # those of an instance that died.
        self.inbox = DurableInbox(self.db)
        self.stopped_cleanly = True  # False when a step of stop() was cut short
        for adapter in self.adapters.values():
            use_inbox = getattr(adapter, "use_inbox", None)
            if use_inbox is not None and use_inbox(self.inbox):
                # Slack's events go through Bolt again (its adapter clears them);
                # Discord keeps the neutral event, which goes straight to the router.
                replay = getattr(adapter, "replay", None) or self._replay_event
                self.inbox.replay_with(adapter.platform, replay)
        self.ticker = Ticker(settings.tick_seconds, self.dispatcher, self.sweeper,
                             Retention(self.db, settings.retention_days),
                             metrics=self.metrics,
                             inbox=self.inbox if self.inbox.replays else None)
        self.database_probe = DatabaseProbe(self.db, settings.database_url)
        if self.web is not None:
            readiness = Readiness(self.database_probe, self.adapters,
                                  self.ticker if self.runs_ticker else None)
            mount_service_routes(self.web, readiness, self.metrics, self.db)
            if settings.secret_key:
                # The dashboard signs its sessions with the key: no key, no dashboard
                # (`/helpdesk dashboard` then says how to switch it on).
                mount_dashboard(self.web, self.db, self.desk.templates,
                                settings.secret_key.reveal(), settings.public_url, self.clock,
                                self.desk.policy, places=tuple(self.adapters),
                                admins=frozenset(self.desk.admins))
                self.desk.web_url = self.web.url_for
        if self.console is not None:
            # Its own time, in a database no platform shares (bot/console_world.py).
            self.console.world = ConsoleWorld(self.db, self.clock, self.settle, self.sweeper,
                                              tuple(self.adapters), settings.database_url)

    async def _replay_event(self, stored: str) -> None:
        """Handle a neutral event an instance kept in the inbox and did not finish."""
        event = event_from_json(stored)
        await self.router(event)
        await self.inbox.done(event.platform, event.event_id)

    async def settle(self) -> None:
        """Tick once and deliver what is due (the console's heartbeat)."""
        await self.ticker.tick()
        await self.dispatcher.drain()

    @property
    def runs_ticker(self) -> bool:
        """Whether a background ticker runs. A piped console alone is driven line by
        line through `settle`; a background ticker would race it and print scheduled
        messages out of order."""
        return not (self.console is not None and not self.console.interactive
                    and len(self.adapters) == 1)

    async def start(self) -> None:
        """Migrate (unless told not to), start the web server (so /healthz answers while
        the platforms connect), connect the adapters and start ticking."""
        if self.run_migrations:
            await migrate.upgrade(self.db.engine)
        self.database_probe.remember()
        if self.web is not None:
            try:
                await self.web.start()
            except OSError as error:  # a port taken or not ours: settings, not the database
                raise SettingsError(
                    cannot_listen(self.web.host, self.web.port, error)) from None
        for adapter in self.adapters.values():
            await adapter.start(self.router)
        if self.runs_ticker:
            self.ticker.start()

    async def serve(self) -> None:
        """Run until the console's input ends, or until SIGINT/SIGTERM."""
        loop = asyncio.get_running_loop()
        if self.console is not None:
            # `docker stop` sends SIGTERM: the console stops as at end of input (exit 0)
            # instead of being killed after the stop timeout (exit 143).
            loop.add_signal_handler(signal.SIGTERM, self.console.stop_reading)
            try:
                await self.console.serve()
            finally:
                loop.remove_signal_handler(signal.SIGTERM)
            return
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        logger.info("help desk running with %s", ", ".join(self.adapters))
        await stop.wait()

    async def stop(self) -> None:
        """Stop gracefully, within ``HELPDESK_STOP_GRACE_SECONDS`` + 12 s of SIGTERM
        (20 s by default): refuse new events (Slack delivers them again, to an instance
        that runs), let the events already acknowledged finish for a while and hand the
        rest back to the inbox for any instance to take at once, stop serving HTTP (a
        load balancer sees us go), stop ticking (recording what was sent and handing
        claimed outbox rows back), disconnect the adapters and close the database.

        Every step is bounded: a database that stops answering without refusing (a
        silent network) would otherwise hold the stop for ever. A step cut short is
        named in one ERROR line, ``stopped_cleanly`` turns False, and whatever it held
        returns to the other instances when its lease runs out."""
        loop = asyncio.get_running_loop()
        # A second of the promised time is left for what follows (the process's exit).
        deadline = loop.time() + self.settings.stop_grace_seconds + STOP_AFTER_GRACE_S - 1
        for adapter in self.adapters.values():
            stop_accepting = getattr(adapter, "stop_accepting", None)
            if stop_accepting is not None:
                stop_accepting()
        steps: list[tuple[str, Callable[[], Awaitable[None]]]] = []
        if self.inbox.replays:
            steps.append(("handing unfinished events back", self._finish_acknowledged))
        if self.web is not None:
            steps.append(("stopping the web server", self.web.stop))
        steps.append(("stopping the ticker", self.ticker.stop))
        steps += [(f"stopping the {adapter.platform} adapter", adapter.stop)
                  for adapter in self.adapters.values()]
        steps.append(("closing the database", self.db.dispose))
        cut_short: list[str] = []
        for name, step in steps:
            try:
                # Past the deadline a step gets a moment only: the whole stop must end
                # within the promised time, process exit included.
                if not await bounded(step(), max(0.1, deadline - loop.time())):
                    cut_short.append(name)
            except Exception:
                logger.exception("%s failed", name)
        if cut_short:
            self.stopped_cleanly = False
            logger.error("could not finish stopping in time (%s did not finish; the database "
                         "is most likely unreachable or silent); exiting anyway: events and "
                         "outbox rows this instance held return to the other instances when "
                         "their leases run out", ", ".join(cut_short))

    async def _finish_acknowledged(self) -> None:
        """Give the events already acknowledged ``HELPDESK_STOP_GRACE_SECONDS`` (8 by
        default, so the whole stop stays within 20 s: the ticker then has 5) to be
        handled; hand back to the inbox those still unfinished (any instance, or this
        one restarted, takes them at once)."""
        grace = self.settings.stop_grace_seconds
        waiting = [getattr(adapter, "idle") for adapter in self.adapters.values()
                   if hasattr(adapter, "idle") and hasattr(adapter, "use_inbox")]
        waiting.append(self.inbox.idle)  # rows taken over from a dead instance, replaying
        try:
            await asyncio.wait_for(asyncio.gather(*(idle(grace) for idle in waiting)), grace + 1)
        except asyncio.TimeoutError:
            pass
        try:
            await self.inbox.hand_back()
        except Exception:  # their leases run out and they are taken over then
            logger.exception("could not hand unfinished events back to the inbox")


def _platform_adapters(settings: Settings, *, console_only: bool, clock: Clock,
                       desk: Desk, web: WebRoutes | None) -> dict[str, ChatAdapter]:
    """Adapters for every platform whose credentials are configured."""
    if console_only:
        return {}
    adapters: dict[str, ChatAdapter] = {}
    # Imported only when configured: each pulls in its platform's SDK.
    if settings.slack_enabled:
        from bot.platforms.slack.adapter import SlackAdapter
        # The limiter's Retry-After must be on the clock the dispatcher re-schedules by.
        adapters["slack"] = SlackAdapter(settings, clock=clock,
                                         ticket_emojis=(desk.defaults.ticket_emoji,
                                                        desk.defaults.flag_emoji), web=web,
                                         templates=desk.templates)
    if settings.discord_enabled:
        from bot.platforms.discord.adapter import DiscordAdapter
        adapters["discord"] = DiscordAdapter(settings, templates=desk.templates)
    return adapters


async def run_app(app: App) -> None:
    """Start ``app``, serve until done, and always stop it."""
    try:
        await app.start()
        await app.serve()
    finally:
        await app.stop()
