"""Whether the web server could listen where it is told: asked by ``check`` before
anything starts, and said in the same words ``run`` uses when binding fails."""

from __future__ import annotations

import os
import socket


def cannot_listen(host: str, port: int, error: OSError) -> str:
    """The one line both ``check`` and ``run`` say when ``host:port`` cannot be bound.
    The reason is the system's words for the error number (asyncio wraps them in its
    own sentence, repeating the address)."""
    reason = os.strerror(error.errno) if error.errno else (error.strerror or str(error))
    return (f"the web server cannot listen on {host}:{port} ({reason}); "
            "set HELPDESK_HTTP_HOST or HELPDESK_HTTP_PORT to an address this machine may use")


def listen_problem(host: str, port: int) -> str | None:
    """None when every address ``host`` names can be bound at ``port`` (as the web
    server binds them: SO_REUSEADDR, as asyncio sets on POSIX, so a port lingering in
    TIME_WAIT is not called taken); otherwise :func:`cannot_listen`'s line. The sockets
    are closed at once: nothing listens."""
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                       flags=socket.AI_PASSIVE)
    except OSError as error:
        return cannot_listen(host, port, error)
    for family, kind, proto, _, address in addresses:
        try:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind(address)
        except OSError as error:
            return cannot_listen(host, port, error)
    return None
