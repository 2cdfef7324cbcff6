"""The Slack adapter: a Bolt ``AsyncApp`` in Socket Mode or HTTP mode, translating
Slack payloads into neutral events and neutral messages into Web API calls.

* Socket Mode when ``SLACK_APP_TOKEN`` is set; otherwise HTTP mode, with everything at
  ``/slack/events`` on the desk's one web server (``HELPDESK_HTTP_HOST``:``_PORT``),
  reached by Slack at ``HELPDESK_PUBLIC_URL`` + ``/slack/events``.
* ``SLACK_API_URL`` points every Web API call elsewhere (tests, GovSlack).
* A re-delivered event (``X-Slack-Retry-Num``, or Socket Mode's ``retry_attempt``) that
  this process already took is answered 200 by a Bolt middleware and goes no further;
  one taken by another instance is dropped by the router's database dedupe.
* Outbound pacing: about one message a second per channel (the dispatcher's pacer) and
  per-method tier buckets here; 429s come back as ``DeliveryError(retry_after=...)``.

The adapter only translates: what to say and when is the desk's business.
"""

from __future__ import annotations

from datetime import timedelta
import asyncio
import json
import logging
import time
from collections import OrderedDict

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core import Delivery, Event, EventSink, Inbox, OutboundMessage, WebRoutes
from bot.platforms.slack.http import SlackHttpEndpoint
from bot.platforms.slack.inbound import SlackInbound
from bot.platforms.slack.kept import inbox_key, replayed_body, stored_envelope
from bot.platforms.slack.limits import MethodLimiter
from bot.platforms.slack.outbound import SlackSender
from bot.platforms.slack.users import PeopleDirectory
from bot.platforms.slack.reactions import ReactedMessages
from bot.clock import Clock
from bot.core import Pacing
from bot.settings import Settings, SettingsError
from bot.templates import Templates, load_templates

logger = logging.getLogger(__name__)

# Bolt's own words we leave out: it warns on every start that the token is unused
# because it reads SLACK_BOT_TOKEN from the environment by itself, while the desk
# deliberately hands it a client that already carries that token.
_UNUSED_TOKEN = "As you gave `client` as well, `token` will be unused."


class _DropUnusedTokenWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _UNUSED_TOKEN


def bolt_logger() -> logging.Logger:
    """The base logger handed to Bolt, which copies its level to every logger it makes.
    At WARNING: Bolt logs whole request bodies, people's words, at INFO (a request
    whose signature fails verification, for one); the desk logs its own line without
    the body instead (bot/platforms/slack/http.py). At DEBUG, as asked, Bolt says all."""
    base = logging.getLogger("slack_bolt")
    base.setLevel(logging.DEBUG if logging.getLogger().level == logging.DEBUG
                  else logging.WARNING)
    if not any(isinstance(f, _DropUnusedTokenWarning) for f in base.filters):
        base.addFilter(_DropUnusedTokenWarning())
    return base

DEFAULT_API_URL = "https://slack.com/api/"
RECENT_EVENTS = 10_000
SOCKET_CONNECT_WAIT = 10.0
# Events handled at once. Measured (bench/slack_intake.py, PostgreSQL, 25 events/s):
# 4 kept the acknowledgements' p99 under 2 s where no cap let it reach 4-5 s, for the
# same throughput, because the outbox was no longer starved of connections.
MAX_HANDLING = 4
_AUTH_ERRORS = {"invalid_auth", "not_authed", "account_inactive", "token_revoked",
                "token_expired", "not_allowed_token_type"}


class SlackAdapter:
    """Slack, as the desk needs it: ``start(dispatch)``, ``send(...)``, ``stop()``."""

    platform = "slack"
    # Read by the outbox dispatcher: Slack takes about one message a second per channel.
    pacing = Pacing(per_channel=1.0)

    def __init__(self, settings: Settings, *, clock: Clock | None = None,
                 ticket_emojis: tuple[str, ...] = ("ticket",), allow_bots: bool = False,
                 max_handling: int | None = MAX_HANDLING, timeout: int = 10,
                 web: WebRoutes | None = None, templates: Templates | None = None) -> None:
        """``clock`` should be the dispatcher's (its time decides when a rate-limited row
        is due again); ``ticket_emojis`` are the reactions that open tickets (the desk
        checks the workspace's own choice too); ``allow_bots`` lets other bots' messages
        in as if people wrote them; ``max_handling`` caps how many events the desk handles
        at once (the rest wait here, already acknowledged; 0 or None: no cap), so a burst
        cannot take every database connection from the outbox. ``web`` is the process's
        web server, which HTTP mode adds ``/slack/events`` to (it must not have started);
        ``templates`` the desk's words (the shipped ones and the operator's by default)."""
        token = settings.slack_bot_token.reveal()
        if not token:
            raise SettingsError("SLACK_BOT_TOKEN is not set.")
        self.settings = settings
        self.app_token = settings.slack_app_token.reveal()
        self.socket_mode = bool(self.app_token)
        secret = settings.slack_signing_secret.reveal()
        if not self.socket_mode and not secret:
            raise SettingsError("SLACK_SIGNING_SECRET is needed for HTTP mode (or set "
                                "SLACK_APP_TOKEN to use Socket Mode).")
        base_url = api_base_url(settings.slack_api_url)
        # Bolt's client keeps the SDK's retry of connection errors (inbound look-ups);
        # the outbox's has none: the outbox retries, idempotently, by itself.
        self.client = AsyncWebClient(token=token, base_url=base_url, timeout=timeout)
        self.outbound_client = AsyncWebClient(token=token, base_url=base_url, timeout=timeout,
                                              retry_handlers=[])
        self.app = AsyncApp(client=self.client, signing_secret=secret or None, name="helpdesk",
                            request_verification_enabled=not self.socket_mode,
                            logger=bolt_logger())
        self.app.middleware(self._drop_known_retries)
        self.limiter = MethodLimiter(
            clock=(lambda: clock.now().timestamp()) if clock is not None else time.monotonic)
        self.sender = SlackSender(self.outbound_client, self.limiter)
        self.people = PeopleDirectory(self.client)
        self.inbound = SlackInbound(self.people, ReactedMessages(self.client),
                                    self.sender.dm_channel, self._dispatch,
                                    ticket_emojis=ticket_emojis, allow_bots=allow_bots)
        self.inbound.register(self.app, self._run, taken=self._take)
        self.http: SlackHttpEndpoint | None = None
        self._started = False  # requests are refused (503, Slack retries) until then
        if not self.socket_mode:
            if web is None:
                raise ValueError("Slack's HTTP mode needs the desk's web server (web=)")
            self.http = SlackHttpEndpoint(self.app, web, lambda: self._started,
                                          signing_secret=secret or "",
                                          templates=templates or load_templates(
                                              settings.config_dir))
            self.http.taken = self._was_taken
        self.socket: AsyncSocketModeHandler | None = None
        self._connecting: asyncio.Future | None = None
        self.bot_user_id: str | None = None
        self._sink: EventSink | None = None
        self._session: aiohttp.ClientSession | None = None
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._in_flight = _InFlight()
        self._listeners: set[asyncio.Task] = set()
        self._handling = asyncio.Semaphore(max_handling) if max_handling else None
        self._inbox: Inbox | None = None
        self._taken: set[str] = set()  # event ids a listener took, until the endpoint asks

    async def start(self, dispatch: EventSink) -> None:
        """Check the token, then listen (Socket Mode or HTTP); returns once listening."""
        self._sink = dispatch
        self.inbound.command_form = getattr(dispatch, "command_form", None)
        self._session = aiohttp.ClientSession()
        self.client.session = self.outbound_client.session = self._session
        await self._check_token()
        if self.socket_mode:
            await self._connect_socket()
        elif not self.settings.public_url:
            # The local address is no Request URL: Slack posts from the internet, https.
            logger.warning("Slack HTTP mode: HELPDESK_PUBLIC_URL is not set, and Slack needs "
                           "a public https:// URL to send events to (this desk answers "
                           "locally at %s); set HELPDESK_PUBLIC_URL to where that is reached "
                           "from outside (the Request URL is it plus %s), or use Socket Mode",
                           self.http.url, self.http.path)
        else:
            logger.info("Slack HTTP mode: the app's Request URL is %s", self.http.url)
        self._started = True

    def use_inbox(self, inbox: Inbox) -> bool:
        """Keep every event, slash command and interaction in ``inbox`` before
        acknowledging it (a 200 in HTTP mode, an ack over the socket in Socket Mode),
        and clear it once the desk has handled it. True: :meth:`replay` is given the
        requests a dead instance left behind."""
        self._inbox = inbox
        if self.http is not None:
            self.http.inbox = inbox
        return True

    async def replay(self, stored: str) -> None:
        """Handle a request another instance kept and did not finish
        (bot/storage/inbox.py): an HTTP request is signed afresh and served as Slack
        sent it; an envelope kept in Socket Mode (or any request, in an instance with no
        HTTP endpoint) goes through Bolt as an envelope's payload, which Bolt does not
        ask to be signed."""
        if self.http is not None and "socket" not in json.loads(stored):
            await self.http.replay(stored)
            return
        body = replayed_body(stored)
        key = inbox_key(body)
        if body is None or key is None:
            logger.warning("a kept Slack request could not be read again; dropped")
            return
        response = await self._dispatch_kept(key, lambda: self.app.async_dispatch(
            AsyncBoltRequest(mode="socket_mode", body=body)))
        if response.status != 200:
            logger.warning("a replayed Slack request %s was answered %d", key, response.status)

    async def _dispatch_kept(self, key: str, dispatch):
        """Run Bolt on a kept request; then clear its row if no listener took it (a
        listener clears its own once handled), or, when Bolt failed, hand it back."""
        assert self._inbox is not None
        try:
            response = await dispatch()
        except BaseException:
            if not self._was_taken(key):
                try:
                    await self._inbox.retry_later("slack", key)
                except Exception:
                    logger.exception("could not hand Slack request %s back", key)
            raise
        if not self._was_taken(key):
            try:
                await self._inbox.done("slack", key)
            except Exception:  # its lease runs out; a replay then finds nothing to do
                logger.exception("could not clear Slack request %s from the inbox", key)
        return response

    async def _on_envelope(self, client, request) -> None:
        """One Socket Mode envelope: kept in the inbox before it is acknowledged over the
        socket. One the inbox cannot take is not acknowledged at all: Slack sends an
        event again, and shows the person a command or press that failed."""
        started = time.time()
        key = inbox_key(request.payload) if self._inbox is not None else None
        if key is not None and not self._started:
            # Stopping (or not started): what this process acknowledged now would wait
            # out its lease in the inbox; unacknowledged, Slack gives it to another
            # connection at once.
            logger.info("stopping: Slack request %s left unacknowledged for another "
                        "connection", key)
            return
        if key is None:
            response = await run_async_bolt_app(self.app, request)
        else:
            try:
                fresh = await self._inbox.keep("slack", key,
                                               stored_envelope(request.type, request.payload))
            except Exception:
                logger.exception("could not keep Slack request %s; not acknowledged, so "
                                 "Slack can send it again", key)
                return
            if not fresh:
                logger.info("Slack request %s is already in the inbox; acknowledged", key)
                await client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=request.envelope_id))
                return
            response = await self._dispatch_kept(
                key, lambda: run_async_bolt_app(self.app, request))
        await send_async_response(client, request, response, started)

    def stop_accepting(self) -> None:
        """Stopping: answer new requests 503 (Slack delivers them again, to an instance
        that is running), and let those already taken finish."""
        self._started = False

    async def is_connected(self) -> bool:
        """Whether Slack can reach the desk: the Socket Mode connection is up, or (HTTP
        mode) the adapter has started and its route is served."""
        if not self._started:
            return False
        if self.socket_mode:
            return self.socket is not None and await self.socket.client.is_connected()
        return True

    async def _connect_socket(self) -> None:
        """Open the Socket Mode connection; a refused app token is a settings error. When
        Slack cannot be reached the SDK keeps trying in the background."""
        self.socket = AsyncSocketModeHandler(self.app, self.app_token)
        # Bolt's own envelope handler acknowledges whatever its listeners took; ours
        # keeps the envelope in the inbox first.
        self.socket.client.socket_mode_request_listeners[:] = [self._on_envelope]
        try:
            response = await self.client.apps_connections_open(app_token=self.app_token)
            self.socket.client.wss_uri = response["url"]
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else ""
            if code in _AUTH_ERRORS:
                await self.socket.close_async()
                self.socket = None
                raise SettingsError(f"Slack refused SLACK_APP_TOKEN ({code}).") from None
            logger.warning("apps.connections.open failed (%s); retrying in the background", code)
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            logger.warning("cannot reach Slack yet (%s); retrying in the background",
                           type(error).__name__)
        self._connecting = asyncio.ensure_future(self.socket.connect_async())
        self._connecting.add_done_callback(_log_connect_failure)
        done, _ = await asyncio.wait({self._connecting}, timeout=SOCKET_CONNECT_WAIT)
        if not done:
            logger.warning("Socket Mode is not connected yet; it keeps trying")
        elif self._connecting.exception() is None:
            logger.info("Slack Socket Mode connected")

    async def _check_token(self) -> None:
        try:
            identity = await self.client.auth_test()
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else ""
            if code in _AUTH_ERRORS:
                raise SettingsError(f"Slack refused SLACK_BOT_TOKEN ({code}).") from None
            logger.warning("auth.test failed (%s); Bolt will try again on the first event", code)
            return
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as error:
            logger.warning("cannot reach Slack yet (%s); carrying on", type(error).__name__)
            return
        self.bot_user_id = identity.get("user_id")
        logger.info("Slack: signed in as %s in team %s", identity.get("user"),
                    identity.get("team_id"))

    async def stop(self) -> None:
        """Stop listening, let in-flight events reach the desk, and close connections
        (in HTTP mode the desk's web server, which the composition root stops first,
        is what listens)."""
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self.socket is not None:
            await self.socket.close_async()
            self.socket = None
        self._started = False
        # With an inbox, what is unfinished was handed back to it (bot/app.py): waiting
        # longer would only delay the stop.
        await self.idle(timeout=1 if self._inbox is not None else 5)
        if self._inbox is not None:
            # Whatever is still being handled is in the inbox: stop it here rather than
            # let it run on into a closing session and database.
            cut = list(self._listeners)
            for task in cut:
                task.cancel()
            if cut:
                await asyncio.wait(cut, timeout=2)
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Post, edit, show privately or publish ``message``; raises DeliveryError."""
        return await self.sender.send(message, idempotency_key, attempt, since)

    async def idle(self, timeout: float | None = None) -> None:
        """Wait until the desk has handled every request Bolt took so far (at most
        ``timeout`` seconds)."""
        await self._in_flight.until_none(timeout)

    async def _take(self, body, resp, next_):
        """Bolt middleware on every listener: the request is ours from here. It runs
        before Slack is acknowledged and before Bolt starts the listener in a task of its
        own, so a request is counted in flight before anyone can be told it was taken."""
        self._in_flight.begin()
        key = inbox_key(body)
        if key and self._inbox is not None:
            self._taken.add(key)
        await next_()
        return resp

    def _was_taken(self, key: str) -> bool:
        """Whether a listener took the request (and will clear it from the inbox); asked
        once per request, after Bolt has answered it."""
        if key in self._taken:
            self._taken.discard(key)
            return True
        return False

    async def _run(self, work, body: dict | None = None) -> None:
        """Await a listener's work; it is no longer in flight once this returns. Bolt
        keeps no reference to the task it runs a listener in, so it is held here. A
        request's inbox row is cleared once the desk has handled it, whatever became of
        it (an error is answered by the desk's error handler, and a replay would meet it
        again)."""
        task = asyncio.current_task()
        self._listeners.add(task)
        event_id = inbox_key(body)
        handled = cancelled = False
        try:
            await work
            handled = True
        except asyncio.CancelledError:
            # A stop cut it short, after handing the inbox rows back: touch nothing.
            cancelled = True
            raise
        except Exception:
            logger.exception("translating a Slack request failed")
        finally:
            self._listeners.discard(task)
            try:
                if event_id and self._inbox is not None and not cancelled:
                    # Cleared once handled; after a failure any instance tries it again.
                    await (self._inbox.done("slack", event_id) if handled
                           else self._inbox.retry_later("slack", event_id))
            except Exception:  # its lease runs out; a replay is dropped by the dedupe
                logger.exception("could not update Slack request %s in the inbox", event_id)
            finally:
                self._in_flight.end()

    async def _dispatch(self, event: Event) -> None:
        assert self._sink is not None, "start() was not called"
        if self._handling is None:
            await self._sink(event)
            return
        async with self._handling:
            await self._sink(event)

    def _remember(self, event_id: str) -> None:
        self._recent[event_id] = None
        self._recent.move_to_end(event_id)
        while len(self._recent) > RECENT_EVENTS:
            self._recent.popitem(last=False)

    async def _drop_known_retries(self, req, body, next_):
        """Answer 200, and do nothing more, for a re-delivery of an event this process
        has taken already (even one still being translated). A middleware that stops
        without a response makes Bolt answer 404, and Slack would retry yet again."""
        event_id = body.get("event_id")
        if event_id:
            if req.headers.get("x-slack-retry-num") and event_id in self._recent:
                logger.info("retry %s of event %s already taken; acknowledged",
                            req.headers["x-slack-retry-num"][0], event_id)
                return BoltResponse(status=200, body="")
            self._remember(event_id)
        return await next_()


class _InFlight:
    """How many requests Bolt has taken whose listener has not finished, and a way to
    wait until there are none."""

    def __init__(self) -> None:
        self._count = 0
        self._none = asyncio.Event()
        self._none.set()

    def begin(self) -> None:
        """A request was taken."""
        self._count += 1
        self._none.clear()

    def end(self) -> None:
        """A taken request's listener has finished."""
        self._count -= 1
        if self._count == 0:
            self._none.set()

    async def until_none(self, timeout: float | None) -> None:
        """Return once no request is in flight, or after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._none.wait(), timeout)
        except asyncio.TimeoutError:
            logger.warning("%d Slack request(s) still being handled after %s s",
                           self._count, timeout)


def _log_connect_failure(connecting: asyncio.Future) -> None:
    """Log why the Socket Mode connection failed, whenever it does (its future is not
    awaited once start-up has stopped waiting for it)."""
    if not connecting.cancelled() and connecting.exception() is not None:
        logger.error("Slack Socket Mode could not connect", exc_info=connecting.exception())


def api_base_url(configured: str) -> str:
    """The Web API base URL, ending in "/" as the SDK needs."""
    url = (configured or DEFAULT_API_URL).strip()
    return url if url.endswith("/") else url + "/"
