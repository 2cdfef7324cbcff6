"""HTTP mode: one endpoint, ``POST /slack/events``, for events, slash commands and
interactivity alike, mounted on the desk's one web server (``bot.core.WebRoutes``).

The body is read as bytes and handed to Bolt unchanged (decoded as the UTF-8 Slack
sends), so the signature is checked over exactly what was signed. The endpoint checks it
itself before anything else runs (and Bolt again): a missing, bad or stale signature gets
401 and one log line, and the body is never parsed, kept or handed on.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from typing import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.core import Inbox, WebRoutes
from bot.platforms.slack.kept import inbox_key, parse_request, stored_http
from bot.templates import Templates

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackHttpEndpoint:
    """Serves a Bolt app at ``path`` on ``routes`` (added at once: the server must not
    have started yet). Until ``accepting()`` says so, requests are answered 503: the
    web server starts before the adapter, and Slack retries what it was refused,
    whereas a request taken before the desk is connected would be acknowledged and lost."""

    def __init__(self, app: AsyncApp, routes: WebRoutes, accepting: Callable[[], bool],
                 path: str = EVENTS_PATH, signing_secret: str = "",
                 templates: Templates | None = None) -> None:
        self.app = app
        # The words for a slash command the desk cannot take: Slack never delivers a
        # command again, so a 503 would only show the person Slack's bare
        # "dispatch_failed"; they are told instead that nothing was done, and to retry.
        self.templates = templates
        self.routes = routes
        self.accepting = accepting
        self.path = path
        self.signing_secret = signing_secret
        # Set by the adapter once it has an inbox: events are written to it before the
        # 200 (see handle), and ``taken(key)`` says whether a listener took one.
        self.inbox: Inbox | None = None
        self.taken: Callable[[str], bool] = lambda key: False
        self._unsigned = 0  # refused since the last line about them
        self._unkept = 0  # requests the inbox could not take since the last line
        self._unkept_logged_at: float | None = None
        self._unsigned_logged_at: float | None = None
        routes.add_route("POST", path, self.handle)

    @property
    def url(self) -> str:
        """Where Slack should send requests (the Request URL in the app's settings)."""
        return self.routes.url_for(self.path)

    async def handle(self, request: web.Request) -> web.Response:
        """One request from Slack, through Bolt's middleware and listeners. Its signature
        is checked first (401 otherwise: nothing unsigned is parsed, kept or logged
        beyond one line). An event, a slash command or an interaction (button, modal) is
        then written to the inbox, so that what Slack sees acknowledged is never only in
        memory; one the inbox cannot take is refused with 503 (Slack delivers an event
        again, and shows the person a press that failed), except a slash command, which
        Slack never sends again: its person is told privately that nothing was done."""
        raw = await request.read()
        body = raw.decode("utf-8", errors="replace")
        if not self._signed(body, request.headers):
            self._refused_unsigned()
            return web.Response(status=401, text="invalid request")
        fields = parse_request(body)
        if not self.accepting():
            command = self._command(fields)
            if command is not None:
                return self._not_taken("errors.command_restarting", command)
            return web.Response(status=503, text="not taking requests (starting or stopping)")
        if fields is None:
            # Signed, yet neither JSON, form fields nor an interaction payload: Slack
            # never sends this; Bolt would fail on it with a traceback.
            logger.warning("refused a signed request to %s that is not a Slack payload",
                           self.path)
            return web.Response(status=400, text="not a Slack payload")
        key = inbox_key(fields)
        if key is not None and self.inbox is not None:
            try:
                fresh = await self.inbox.keep("slack", key, _stored(body, request.headers))
            except Exception as error:  # nothing acknowledged: Slack retries, here or elsewhere
                self._keep_failed(key, error)
                command = self._command(fields)
                if command is not None:
                    return self._not_taken("errors.command_not_kept", command)
                return web.Response(status=503, text="try again")
            if not fresh:
                # Kept already: its owner, or whoever takes it over, handles it.
                logger.info("Slack request %s is already in the inbox; acknowledged", key)
                return web.Response(status=200, text="")
        return await self._dispatch(body, request.headers, key, request.query_string)

    async def replay(self, stored: str) -> None:
        """Handle a request kept in the inbox again (its first owner died or stopped),
        signed afresh with our own secret: Bolt refuses a signature older than five
        minutes, and the stored one may be."""
        saved = json.loads(stored)
        body = saved["body"]
        stamp = str(int(time.time()))
        signature = "v0=" + hmac.new(self.signing_secret.encode(), f"v0:{stamp}:{body}".encode(),
                                     hashlib.sha256).hexdigest()
        headers = {"content-type": saved.get("content_type") or "application/json",
                   "x-slack-request-timestamp": stamp, "x-slack-signature": signature}
        key = inbox_key(parse_request(body))
        response = await self._dispatch(body, headers, key)
        if response.status != 200:
            logger.warning("a replayed Slack event %s was answered %d", key, response.status)

    async def _dispatch(self, body: str, headers, key: str | None,
                        query: str = "") -> web.Response:
        bolt_request = AsyncBoltRequest(body=body, query=query,
                                        headers=headers)  # type: ignore[arg-type]
        try:
            bolt_response = await self.app.async_dispatch(bolt_request)
        except BaseException:
            if key is not None and self.inbox is not None and not self.taken(key):
                # Nothing took it: let any instance try it again (Slack was not
                # answered 200, and may retry too; the inbox's key keeps it one).
                try:
                    await self.inbox.retry_later("slack", key)
                except Exception:
                    logger.exception("could not hand Slack event %s back", key)
            raise
        if key is not None and self.inbox is not None and not self.taken(key):
            # Nothing will handle it (an event no listener takes, a retry this process
            # took already, a bad signature): it needs no keeping.
            try:
                await self.inbox.done("slack", key)
            except Exception:  # its lease runs out; a replay then finds nothing to do
                logger.exception("could not clear Slack event %s from the inbox", key)
        return await to_aiohttp_response(bolt_response)

    def _command(self, fields: dict | None) -> str | None:
        """The name of the slash command in a (signed) request's fields (``/ticket``),
        else None."""
        if not isinstance(fields, dict) or fields.get("type") is not None:
            return None
        command = fields.get("command")
        if not isinstance(command, str) or not command.startswith("/") or self.templates is None:
            return None
        return command[:40]

    def _not_taken(self, template: str, command: str) -> web.Response:
        """A slash command answered privately: not taken, nothing done, try again. (A
        200: Slack shows the text; nothing was kept, so nothing waits to be handled.)"""
        assert self.templates is not None
        text = self.templates.render(template, command=command)
        return web.json_response({"response_type": "ephemeral", "text": text})

    def _signed(self, body: str, headers) -> bool:
        """Whether Slack signed ``body`` within the last five minutes (the check Bolt
        makes, made first here so an unsigned body is never parsed, kept or handed on).
        A missing or garbled timestamp is simply unsigned."""
        timestamp = headers.get("x-slack-request-timestamp", "")
        if not (isinstance(timestamp, str) and timestamp.isdigit() and len(timestamp) < 16):
            return False
        verifier = SignatureVerifier(self.signing_secret)
        return verifier.is_valid(body=body, timestamp=timestamp,
                                 signature=headers.get("x-slack-signature", ""))

    def _keep_failed(self, key: str, error: Exception) -> None:
        """The first failure to keep a request is logged with its traceback; while the
        database stays away the rest are counted into one line a minute (an outage of
        a busy desk made one traceback per request, tens of thousands of lines)."""
        self._unkept += 1
        now = time.monotonic()
        if self._unkept_logged_at is None:
            logger.error("could not keep Slack request %s; refused for a retry", key,
                         exc_info=error)
        elif now - self._unkept_logged_at >= 60:
            logger.error("could not keep %d Slack request(s) in the last minute (%s); "
                         "refused for a retry", self._unkept, type(error).__name__)
        else:
            return
        self._unkept = 0
        self._unkept_logged_at = now

    def _refused_unsigned(self) -> None:
        """One line, at most once a minute with the count since: anyone can send
        unsigned requests, and they must not fill the log."""
        self._unsigned += 1
        now = time.monotonic()
        if self._unsigned_logged_at is None or now - self._unsigned_logged_at >= 60:
            # This says what to check, and nothing of what was sent (people's words).
            logger.warning("refused %d request(s) to %s: the Slack signature did not verify "
                           "(check SLACK_SIGNING_SECRET, and that this machine's clock is "
                           "within 5 minutes of the real time)", self._unsigned, self.path)
            self._unsigned = 0
            self._unsigned_logged_at = now


def _stored(body: str, headers) -> str:
    """What the inbox keeps of a request: its body and content type."""
    return stored_http(body, headers.get("content-type", ""))
