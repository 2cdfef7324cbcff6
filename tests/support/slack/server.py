"""A local fake of Slack's Web API (and, with socket_mode.py, its Socket Mode).

It serves ``/api/<method>`` on 127.0.0.1 the way the real clients expect: bearer tokens,
form, query or JSON bodies, ``{"ok": ...}`` answers, HTTP 429 with ``Retry-After``. It
keeps the workspace's state that matters to the desk (users, DMs, messages with their
threads and metadata, ephemeral messages, modals, home views, ``response_url`` posts)
and records every call with its parsed arguments in :attr:`FakeSlack.calls`.

Switches make it misbehave on request: :meth:`throttle` (429s), :meth:`fail` (an
``ok: false`` error), :meth:`lose_response` (the call takes effect but the answer is an
HTTP 500, as when a connection drops after Slack stored a message) and :meth:`forbid`
(the bot may not post in a channel).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.support.slack.socket_mode import SocketModeFake
from tests.support.slack.state import SlackState

TEAM = "T0TEAM"
BOT_USER = "UBOT"
BOT_ID = "BBOT"
BOT_TOKEN = "xoxb-fake-bot-token"
APP_TOKEN = "xapp-fake-app-token"
# The bot scopes of bot/config/slack-manifest.yaml: what an app installed from it holds.
MANIFEST_SCOPES = (
    "app_mentions:read", "channels:history", "groups:history", "im:history", "chat:write",
    "chat:write.public", "files:write", "commands", "im:write", "reactions:read", "users:read",
    "users:read.email", "metadata.message:read",
)


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the fake received it."""

    method: str
    args: dict[str, Any]
    token: str | None
    at: float = field(default_factory=time.monotonic)
    status: int = 200


class FakeSlack(SlackState):
    """The fake workspace and its Web API. ``await start()``, then point
    ``SLACK_API_URL`` at :attr:`api_url`."""

    def __init__(self, team_id: str = TEAM) -> None:
        super().__init__(team_id, BOT_USER, BOT_ID)
        self.calls: list[ApiCall] = []
        self.responses: list[tuple[str, dict]] = []  # (response_url, body)
        self.latency = 0.0  # seconds each Web API answer waits (benchmarks)
        self.method_latency: dict[str, float] = {}  # more for some methods (by name)
        self._throttled: dict[str, list[float]] = defaultdict(list)
        self._failing: dict[str, list[str]] = defaultdict(list)
        self._losing: dict[tuple[str, str | None], int] = defaultdict(int)
        self._forbidden: dict[str, str] = {}
        self._response_ids = itertools.count(1)
        # Granted to the bot token; Slack lists them in X-OAuth-Scopes on every answer to
        # an accepted token (auth.test included). Tests take some away to see it noticed.
        self.scopes: list[str] = list(MANIFEST_SCOPES)
        # Files started with files.getUploadURLExternal, by id: name, declared length,
        # the bytes POSTed to their upload URL, and where they were shared.
        self.files: dict[str, dict[str, Any]] = {}
        self._file_ids = itertools.count(1)
        self.socket = SocketModeFake(self)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ------------------------------------------------------------

    async def start(self) -> "FakeSlack":
        """Listen on 127.0.0.1:<free port>."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{id}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self.socket.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        return self

    async def stop(self) -> None:
        """Close the websocket and stop listening."""
        await self.socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "FakeSlack":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """The value for SLACK_API_URL."""
        return f"{self.url}/api/"

    def response_url(self) -> str:
        """A fresh ``response_url`` for a command or interaction payload."""
        return f"{self.url}/response/{next(self._response_ids)}"

    # -- switches -------------------------------------------------------------

    def throttle(self, method: str, retry_after: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 and ``Retry-After``."""
        self._throttled[method].extend([retry_after] * times)

    def fail(self, method: str, error: str, times: int = 1, *, skip: int = 0) -> None:
        """Answer the next ``times`` calls of ``method`` with ``ok: false, error``, after
        letting ``skip`` of them through."""
        self._failing[method].extend([None] * skip + [error] * times)

    def lose_response(self, method: str, times: int = 1, *, channel: str | None = None) -> None:
        """Let the next ``times`` calls of ``method`` (to ``channel``, or to any) take
        effect, then answer HTTP 500."""
        self._losing[(method, channel)] += times

    def forbid(self, channel: str, error: str = "not_in_channel") -> None:
        """The bot may not post (or post ephemerally) in ``channel``."""
        self._forbidden[channel] = error

    # -- what tests read --------------------------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        """Every recorded call of ``method``, in order."""
        return [c for c in self.calls if c.method == method]

    # -- the endpoints ------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _arguments(request)
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.pop("token", None)
        wait = self.latency + self.method_latency.get(method, 0.0)
        if wait:
            await asyncio.sleep(wait)
        status, body, headers = self._answer(method, args, token)
        if token in (BOT_TOKEN, APP_TOKEN) and body.get("error") != "invalid_auth":
            granted = self.scopes if token == BOT_TOKEN else ["connections:write"]
            headers = {**headers, "X-OAuth-Scopes": ",".join(granted)}
        self.calls.append(ApiCall(method, args, token, status=status))
        return web.json_response(body, status=status, headers=headers)

    def _answer(self, method: str, args: dict, token: str | None):
        if self._throttled.get(method):
            wait = self._throttled[method].pop(0)
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": f"{wait:g}"}
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token != expected:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if self._failing.get(method):
            error = self._failing[method].pop(0)
            if error is not None:
                return 200, {"ok": False, "error": error}, {}
        channel = args.get("channel")
        if channel in self._forbidden and method in ("chat.postMessage", "chat.postEphemeral"):
            return 200, {"ok": False, "error": self._forbidden[channel]}, {}
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        body = handler(args) if handler else {"ok": True}
        for key in ((method, channel), (method, None)):
            if self._losing.get(key):
                self._losing[key] -= 1
                return 500, {"ok": False, "error": "internal_error"}, {}
        return 200, body, {}

    async def _response_url(self, request: web.Request) -> web.Response:
        self.responses.append((str(request.url), await request.json()))
        return web.Response(text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        """The upload URL of a file: takes its bytes once (no token, as Slack's)."""
        found = self.files.get(request.match_info["file_id"])
        if found is None or found["data"] is not None:
            return web.Response(status=404, text="unknown or used upload URL")
        found["data"] = await request.read()
        found["content_type"] = request.content_type
        return web.Response(text="OK - %d" % len(found["data"]))

    def api_files_getUploadURLExternal(self, args: dict) -> dict:
        """Start a file: where to POST its bytes."""
        if "files:write" not in self.scopes:
            return {"ok": False, "error": "missing_scope", "needed": "files:write"}
        try:
            length = int(args.get("length", ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not args.get("filename") or length <= 0:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._file_ids):08d}"
        self.files[file_id] = {"filename": args["filename"], "length": length, "data": None,
                               "shared_in": None, "comment": None}
        return {"ok": True, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}

    def api_files_completeUploadExternal(self, args: dict) -> dict:
        """Finish files whose bytes arrived (all of them, as declared) and share them in
        ``channel_id`` as one message with ``initial_comment``."""
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not files:
            return {"ok": False, "error": "invalid_arguments"}
        for item in files:
            found = self.files.get(item.get("id", ""))
            if found is None or found["data"] is None or len(found["data"]) != found["length"]:
                return {"ok": False, "error": "file_upload_not_completed"}
        channel = args.get("channel_id")
        for item in files:
            self.files[item["id"]].update(shared_in=channel, comment=args.get("initial_comment"),
                                          title=item.get("title"))
        if channel:
            self.messages.append({
                "type": "message", "channel": channel, "ts": self.next_ts(),
                "user": self.bot_user, "bot_id": self.bot_id,
                "text": args.get("initial_comment", ""), "blocks": [],
                "files": [{"id": item["id"], "name": self.files[item["id"]]["filename"]}
                          for item in files]})
        return {"ok": True, "files": [{"id": item["id"], "title": item.get("title")}
                                      for item in files]}

    def api_apps_connections_open(self, args: dict) -> dict:
        """Socket Mode: where to connect."""
        return {"ok": True, "url": self.url.replace("http://", "ws://") + "/socket"}


async def _arguments(request: web.Request) -> dict[str, Any]:
    """Query, form and JSON arguments merged, JSON-encoded form fields decoded."""
    args: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            args.update(await request.json())
        else:
            for key, value in (await request.post()).items():
                args[key] = value
    for key in ("blocks", "metadata", "view", "attachments"):
        if isinstance(args.get(key), str) and args[key][:1] in "[{":
            args[key] = json.loads(args[key])
    return args
