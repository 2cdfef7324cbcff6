"""``helpdesk-bot run`` as a real process, and a way to ask its web server things.

:class:`DeskProcess` starts the desk with a clean environment plus what the test gives
(the console, piped, when no platform is configured), feeds it lines, and waits for its
web server. :class:`TcpProxy` stands between the desk and PostgreSQL so a test can take
the database away (close it) and give it back.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
from pathlib import Path

import aiohttp

_PREFIXES = ("HELPDESK_", "SLACK_", "DISCORD_")
# How long a process may take to get somewhere before the test gives up on it.
PATIENCE = 60.0


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DeskProcess:
    """``helpdesk-bot run`` in ``folder`` with ``env`` added to a clean environment."""

    def __init__(self, folder: Path, *args: str, **env: str) -> None:
        self.folder = folder
        self.args = args
        self.port = int(env.setdefault("HELPDESK_HTTP_PORT", str(free_port())))
        env.setdefault("HELPDESK_HTTP_HOST", "127.0.0.1")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
        self.env.update(env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.output = ""
        self._reader: asyncio.Task | None = None

    async def __aenter__(self) -> "DeskProcess":
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", *self.args, cwd=self.folder, env=self.env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        self._reader = asyncio.create_task(self._read())
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        await self.until(self._healthy, "the web server to answer /healthz")
        return self

    async def __aexit__(self, *exc) -> None:
        await self.session.close()
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.stdin.close()  # the console ends with its input
            if "--console" not in self.args:
                self.proc.terminate()  # a platform desk stops on SIGTERM
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except asyncio.TimeoutError:
                self.proc.kill()  # stuck in its stop: the test fails on what it saw
                await self.proc.wait()
        await self._reader

    async def _read(self) -> None:
        while line := await self.proc.stdout.readline():
            self.output += line.decode("utf-8", "replace")

    async def _healthy(self) -> bool:
        if self.proc.returncode is not None:
            raise AssertionError(f"the desk exited ({self.proc.returncode}):\n{self.output}")
        try:
            status, _ = await self.get("/healthz")
        except aiohttp.ClientError:
            return False
        return status == 200

    async def get(self, path: str) -> tuple[int, str]:
        """GET ``path``: (status, body)."""
        async with self.session.get(self.url + path) as response:
            return response.status, await response.text()

    async def say(self, line: str) -> None:
        """Type ``line`` into the console."""
        self.proc.stdin.write(line.encode() + b"\n")
        await self.proc.stdin.drain()

    async def until(self, check, what: str) -> None:
        """Wait until ``check()`` is true (polling), or fail saying ``what`` never came."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PATIENCE
        while not await check():
            if loop.time() > deadline:
                raise AssertionError(f"waited in vain for {what}; the desk said:\n{self.output}")
            await asyncio.sleep(0.1)

    async def metric(self, name: str, **labels: str) -> float | None:
        """One sample of ``/metrics`` (None: the series is not there)."""
        _, text = await self.get("/metrics")
        return sample(text, name, **labels)


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of ``name{labels}`` in a Prometheus text exposition, or None."""
    for line in exposition.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if found == labels:
            return float(match.group(3))
    return None


class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``target``; :meth:`close` drops every connection and
    stops listening (the database "stops"), :meth:`open` listens again on the same port."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def open(self) -> "TcpProxy":
        """Listen (on the same port as before, once it has one)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening and cut every connection."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.transport.abort()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}
