"""Shared fixtures: a network guard, and databases (SQLite always, PostgreSQL when
HELPDESK_TEST_POSTGRES_URL is set; its tests skip cleanly otherwise)."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket

import pytest
from sqlalchemy.engine import make_url

POSTGRES_URL = os.environ.get("HELPDESK_TEST_POSTGRES_URL", "")
_run_database: str | None = None

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock: socket.socket, address) -> None:
    # No test may reach the internet: only loopback and local (unix) sockets.
    if sock.family == socket.AF_UNIX:
        return
    host = address[0] if isinstance(address, tuple) else address
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        if host in ("localhost",):
            return
    raise RuntimeError(f"a test tried to reach {host}; tests must stay on this machine")


def _guarded_connect(self, address):
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(self, address)
    return _real_connect_ex(self, address)


def pytest_configure(config) -> None:
    """Install the network guard; give this run a PostgreSQL database of its own."""
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    global POSTGRES_URL, _run_database
    if POSTGRES_URL and _run_database is None:
        # Tests empty their database; two runs sharing one would break each other.
        url = make_url(POSTGRES_URL)
        _run_database = f"{url.database}_{os.getpid()}"
        asyncio.run(_admin(url, f'CREATE DATABASE "{_run_database}"'))
        POSTGRES_URL = url.set(database=_run_database).render_as_string(hide_password=False)


def pytest_unconfigure(config) -> None:
    """Drop this run's PostgreSQL database."""
    if _run_database is not None:
        asyncio.run(_admin(make_url(POSTGRES_URL),
                           f'DROP DATABASE IF EXISTS "{_run_database}" WITH (FORCE)'))


async def _admin(url, statement: str):
    """Run ``statement`` on the server's ``postgres`` database; returns its first value."""
    import asyncpg
    connection = await asyncpg.connect(host=url.host or "127.0.0.1", port=url.port or 5432,
                                       user=url.username, password=url.password,
                                       database="postgres")
    try:
        return await connection.fetchval(statement)
    finally:
        await connection.close()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    """A SQLite file of the test's own (never :memory:, see FACTS.md)."""
    return f"sqlite:///{tmp_path / 'desk.sqlite3'}"


@pytest.fixture
def postgres_url() -> str:
    """The PostgreSQL test database, or skip."""
    if not POSTGRES_URL:
        pytest.skip("HELPDESK_TEST_POSTGRES_URL is not set")
    return POSTGRES_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    if not POSTGRES_URL:
        pytest.skip("HELPDESK_TEST_POSTGRES_URL is not set")
    return POSTGRES_URL
