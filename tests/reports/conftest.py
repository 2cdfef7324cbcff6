"""The hand-built history every report test reads (tests/reports/test_figures.py)."""

from __future__ import annotations

import pytest

from bot.storage.uow import Database
from tests.reports.test_figures import build_history
from tests.support.harness import reset_schema


@pytest.fixture
async def history(db_url):
    db = Database.from_url(db_url)
    await reset_schema(db)
    ids = await build_history(db)
    yield db, ids
    await db.dispose()
