"""A TCP proxy that can go silent (connections stay open but nothing passes, as when a
route drops or a machine dies without closing anything) or down (every connection
closed and new ones refused, as while a database restarts)."""

from __future__ import annotations

import asyncio


class SilentProxy:
    """Forwards 127.0.0.1:<port> to ``target``; ``silence()`` stops carrying bytes
    both ways while every socket stays open."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.silent = False
        self.down = False
        self.port = 0
        self._server: asyncio.AbstractServer | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def silence(self) -> None:
        """From now on nothing passes; nothing is closed either."""
        self.silent = True

    def go_down(self) -> None:
        """As a database restarting: every connection is closed, new ones are refused
        until :meth:`come_back`."""
        self.down = True
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    def come_back(self) -> None:
        self.down = False

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.close()  # refused, as a server that is not up
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                             return_exceptions=True)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                return
            if self.silent:
                continue  # swallowed: the peer waits for ever
            writer.write(data)
            await writer.drain()
