"""Fixtures shared by the Discord adapter tests: a local fake Discord and its world."""

from __future__ import annotations

import pytest

from tests.support.discord.server import FakeDiscord
from tests.support.discord.desk import World


@pytest.fixture
async def fake():
    """A fake Discord (REST and gateway) on loopback, for one test."""
    fake = await FakeDiscord().start()
    yield fake
    await fake.stop()


@pytest.fixture
def world(fake):
    """The guild, channels and people the fake knows."""
    return World(fake)
