"""A PostgreSQL database of a test's own, for tests whose desk processes migrate it
themselves (the run's shared test database holds the other tests' schema)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy.engine import URL, make_url

from tests import conftest


@asynccontextmanager
async def own_database(postgres_url: str, suffix: str) -> AsyncIterator[URL]:
    """A fresh, empty database named after the run's one and ``suffix``, dropped after."""
    url = make_url(postgres_url)
    name = f"{url.database}_{suffix}"
    await conftest._admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conftest._admin(url, f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name)
    finally:
        await conftest._admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
