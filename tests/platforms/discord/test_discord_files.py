"""Transcripts on Discord: a message with the files attached (multipart, as discord.py
sends it), in the asker's DM with the bot and nowhere else."""

from __future__ import annotations

import pytest

from tests.support.discord.desk import DiscordDesk
from tests.support.discord.server import ephemeral_texts


@pytest.fixture
async def desk(sqlite_url, fake, world):
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


async def test_a_transcript_arrives_as_files_in_the_askers_dm(fake, world, desk):
    fake.say(world.alice, world.help, "VPN drops <script>x</script> every hour")
    await desk.step()
    fake.command(world.sam, world.triage, "/ticket note 1 SECRET-NOTE checked the logs")
    await desk.step()
    run = fake.command(world.alice, world.general, "/ticket transcript 1")
    await desk.step()
    await fake.wait_for(lambda: any(m.get("attachments")
                                    for m in fake.posts_in(fake.dm_channel_for(world.alice))))
    assert ephemeral_texts(run) == ["I've sent the transcript of #1 to our direct messages."]
    [sent] = [m for m in fake.posts_in(fake.dm_channel_for(world.alice)) if m.get("attachments")]
    assert sent["content"].startswith("Here's the transcript of #1")
    names = {a["filename"]: a for a in sent["attachments"]}
    assert set(names) == {"ticket-1.html", "ticket-1.md"}
    page = fake.uploads[names["ticket-1.html"]["id"]].decode()
    assert "VPN drops &lt;script&gt;x&lt;/script&gt; every hour" in page
    assert "SECRET-NOTE" not in page
    # No file went anywhere else.
    for channel in (world.general, world.help, world.triage):
        assert not [m for m in fake.posts_in(channel) if m.get("attachments")]


async def test_an_agent_can_ask_for_the_notes_by_option(fake, world, desk):
    fake.say(world.alice, world.help, "Printer jammed")
    await desk.step()
    fake.command(world.sam, world.triage, "/ticket note 1 SECRET-NOTE toner")
    await desk.step()
    fake.command(world.sam, world.triage, "/ticket transcript", ticket=1, notes="with-notes")
    await desk.step()
    await fake.wait_for(lambda: any(m.get("attachments")
                                    for m in fake.posts_in(fake.dm_channel_for(world.sam))))
    [sent] = [m for m in fake.posts_in(fake.dm_channel_for(world.sam)) if m.get("attachments")]
    markdown = next(a for a in sent["attachments"] if a["filename"].endswith(".md"))
    assert "SECRET-NOTE toner" in fake.uploads[markdown["id"]].decode()
