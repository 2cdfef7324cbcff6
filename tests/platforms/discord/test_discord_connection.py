"""The Discord connection: the gateway handshake, resuming after a drop, and the
start-up failures an operator must be told about in one line."""

from __future__ import annotations

import asyncio

import pytest

from bot.platforms.discord.adapter import DiscordAdapter, intents
from bot.settings import Secret, Settings, SettingsError
from tests.support.discord.server import FakeDiscord
from tests.support.discord.desk import DiscordDesk


def settings_for(fake: FakeDiscord, token: str = "fake-token") -> Settings:
    return Settings(discord_bot_token=Secret(token), discord_api_url=fake.api_url,
                    discord_gateway_url=fake.gateway_url)


async def test_the_bot_identifies_with_the_intents_it_needs_and_heartbeats(sqlite_url, fake,
                                                                          world):
    async with DiscordDesk(sqlite_url, fake):
        assert fake.identified[0]["token"] == "fake-token"
        assert fake.identified[0]["intents"] == intents().value
        await fake.wait_for(lambda: fake.heartbeats >= 1)


async def test_a_dropped_gateway_is_resumed_and_events_keep_coming(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await fake.close_sessions()
        await fake.wait_for(lambda: fake.resumed and any(s.ready for s in fake.sessions))
        assert len(fake.identified) == 1  # resumed, not a new session
        fake.dm(world.alice, "Still there?")
        await desk.step()
        assert "#1" in fake.posts_in(fake.dm_channels[world.alice])[0]["content"]


async def test_a_refused_token_is_a_settings_error(fake, world):
    adapter = DiscordAdapter(settings_for(fake, "wrong-token"))
    with pytest.raises(SettingsError, match="DISCORD_BOT_TOKEN"):
        await adapter.start(lambda event: None)


async def test_a_refused_message_content_intent_says_what_to_enable(fake, world):
    fake.privileged_intents_allowed = False
    adapter = DiscordAdapter(settings_for(fake), guild_ready_timeout=0.05)
    with pytest.raises(SettingsError, match="MESSAGE CONTENT INTENT"):
        await adapter.start(lambda event: None)


def test_no_token_no_adapter():
    with pytest.raises(SettingsError):
        DiscordAdapter(Settings())


async def test_the_desk_is_handed_a_few_events_at_a_time(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        gate, router, inside, most = asyncio.Event(), desk.sink.router, [0], [0]

        async def held(event):
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            await gate.wait()
            await router(event)
            inside[0] -= 1

        desk.sink.router = held
        for n in range(5):
            fake.dm(world.alice, f"problem {n}")
        for _ in range(500):  # until two are inside, then a little longer for a third
            if inside[0] == 2:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert most[0] == 2  # SQLite: two at a time, the rest wait in order
        gate.set()
        await desk.handled(5)
