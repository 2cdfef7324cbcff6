"""Workspaces on Discord: a guild is a workspace; Slack and Discord run from one process
and one database without seeing each other's tickets; DMs belong to a shared guild."""

from __future__ import annotations


from bot.core import Actor, CommandInvoked, IncomingMessage
from tests.support.discord.server import ephemeral_texts
from tests.support.discord.desk import DiscordDesk
from tests.support.recording import RecordingAdapter

SLACK_TEAM = "T-acme"


def slack(kind, event_id: str, user: str, **fields):
    return kind(platform="slack", workspace_id=SLACK_TEAM, event_id=event_id,
                actor=Actor(user, user.removeprefix("U-").capitalize()), **fields)


async def test_slack_and_discord_at_once_each_see_only_their_own_tickets(sqlite_url, fake, world):
    recording = RecordingAdapter("slack")
    async with DiscordDesk(sqlite_url, fake, admins=("U-boss", world.sam),
                           extra={"slack": recording}) as desk:
        await desk.router(slack(IncomingMessage, "s1", "U-alice", channel_id="D-alice",
                                text="Slack: mailbox full", message_id="s1", is_direct=True))
        fake.dm(world.alice, "Discord: keyboard missing keys")
        await desk.step()
        await desk.router(slack(CommandInvoked, "s2", "U-alice", channel_id="D-alice",
                                name="ticket", text="show 1"))
        shown = fake.command(world.alice, world.general, "/ticket show 1")
        await desk.step()
        slack_answer = recording.sent[-1].text
        assert "mailbox full" in slack_answer and "keyboard" not in slack_answer
        discord_answer = ephemeral_texts(shown)[0]
        assert "keyboard missing keys" in discord_answer and "mailbox" not in discord_answer
        # Both acknowledgements say #1: numbering is per workspace.
        assert "#1" in recording.sent[0].text
        assert "#1" in fake.posts_in(fake.dm_channels[world.alice])[0]["content"]
        # HELPDESK_ADMINS names a Slack user and a Discord user in one list.
        await desk.router(slack(CommandInvoked, "s3", "U-boss", channel_id="D-boss",
                                name="helpdesk", text="show"))
        setup = fake.command(world.sam, world.general, "/helpdesk show")
        await desk.step()
        assert recording.sent[-1].text.startswith("How this desk is set up")
        assert ephemeral_texts(setup)[0].startswith("How this desk is set up")


async def test_a_dm_belongs_to_the_guild_the_person_shares_with_the_bot(sqlite_url, fake, world):
    beta = fake.add_guild("Beta")
    beta_triage = fake.add_channel(beta, "beta-triage")
    bob = fake.add_user("Bob")
    fake.add_member(beta, bob)
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(world.guild, triage=world.triage)
        await desk.configure(beta, triage=beta_triage)
        fake.dm(bob, "Beta: the build server is down")
        fake.dm(world.alice, "Acme: badge does not open the door")
        await desk.handled(2)
        assert "build server" in fake.posts_in(beta_triage)[0]["embeds"][0]["title"]
        assert "badge" in fake.posts_in(world.triage)[0]["embeds"][0]["title"]
        assert fake.calls_to("GET", rf"/guilds/{world.guild}/members/{bob}")
        assert {(e.actor.user_id, e.workspace_id) for e in desk.sink.events} == \
            {(bob, beta), (world.alice, world.guild)}


async def test_a_dm_from_someone_in_no_shared_guild_is_ignored(sqlite_url, fake, world):
    fake.add_guild("Beta")
    stranger = fake.add_user("Stranger")
    async with DiscordDesk(sqlite_url, fake) as desk:
        fake.dm(stranger, "hello?")
        await fake.wait_for(lambda: len(fake.calls_to("GET", rf"/guilds/\d+/members/{stranger}")) == 2)
        fake.dm(world.alice, "Acme: monitor is dark")
        await desk.handled(1)
        assert [e.actor.user_id for e in desk.sink.events] == [world.alice]
        assert fake.posts_in(fake.dm_channels[stranger]) == []
