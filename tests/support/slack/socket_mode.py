"""Socket Mode, faked: the websocket ``apps.connections.open`` points at.

On connect it says ``hello``, as Slack does. :meth:`SocketModeFake.send` wraps a payload
in an envelope (``events_api``, ``slash_commands`` or ``interactive``, with
``retry_attempt``/``retry_reason`` for re-deliveries) and waits for the app's
acknowledgement, which it records with its arrival time in :attr:`SocketModeFake.acks`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass

from aiohttp import WSMsgType, web


@dataclass(frozen=True)
class Ack:
    """An envelope's acknowledgement: its payload (if any) and how long it took."""

    envelope_id: str
    payload: dict | None
    seconds: float


class SocketModeFake:
    """The server side of Socket Mode for one app."""

    def __init__(self, fake) -> None:
        self.fake = fake
        self.connections: list[web.WebSocketResponse] = []
        self.acks: list[Ack] = []
        self.received: list[dict] = []
        self._waiting: dict[str, tuple[float, asyncio.Future]] = {}
        self._ids = itertools.count(1)
        self._connected = asyncio.Event()
        self._none_open = asyncio.Event()
        self._none_open.set()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """The websocket endpoint."""
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections.append(ws)
        self._none_open.clear()
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self.connections),
                                      "connection_info": {"app_id": "A0FAKE"},
                                      "debug_info": {"host": "fake"}}))
        self._connected.set()
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                data = json.loads(message.data)
                self.received.append(data)
                waiting = self._waiting.pop(data.get("envelope_id", ""), None)
                if waiting is not None:
                    sent_at, future = waiting
                    ack = Ack(data["envelope_id"], data.get("payload"), time.monotonic() - sent_at)
                    self.acks.append(ack)
                    if not future.done():
                        future.set_result(ack)
        finally:
            if ws in self.connections:
                self.connections.remove(ws)
            if not self.connections:
                self._none_open.set()
        return ws

    async def wait_connected(self, timeout: float = 5.0) -> None:
        """Until the app has connected."""
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def wait_disconnected(self, timeout: float = 5.0) -> None:
        """Until no connection is open."""
        await asyncio.wait_for(self._none_open.wait(), timeout)

    async def send(self, kind: str, payload: dict, *, retry_attempt: int | None = None,
                   retry_reason: str | None = None, timeout: float = 3.0) -> Ack | None:
        """Send one envelope and wait (up to Slack's 3 s) for its acknowledgement."""
        if not self.connections:
            raise RuntimeError("no Socket Mode connection")
        envelope_id = f"env-{next(self._ids)}"
        envelope = {"envelope_id": envelope_id, "type": kind, "payload": payload,
                    "accepts_response_payload": kind != "events_api"}
        if retry_attempt is not None:
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason or "timeout"
        future = asyncio.get_running_loop().create_future()
        self._waiting[envelope_id] = (time.monotonic(), future)
        await self.connections[-1].send_str(json.dumps(envelope))
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self._waiting.pop(envelope_id, None)
            return None

    async def close(self) -> None:
        """Close every connection."""
        for ws in list(self.connections):
            await ws.close()
