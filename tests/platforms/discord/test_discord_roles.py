"""Agents and leads by Discord role (HELPDESK_DISCORD_AGENT_ROLES / _LEAD_ROLES).

A member holding an agent role works the desk without `/helpdesk agents add`, by
command, button, message or reaction; a lead role is stored, so escalations reach the
lead; taking the role away takes the desk role with it, but never a role the desk
granted by command.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.people import Role
from bot.desk.middleware import settle_role
from tests.support.discord.server import ephemeral_texts
from tests.support.discord.desk import DiscordDesk


@pytest.fixture
def roles(fake, world):
    """An "IT Agents" and an "IT Leads" role; Kim is a member with neither yet."""
    world.agents_role = fake.add_role(world.guild, "IT Agents")
    world.leads_role = fake.add_role(world.guild, "IT Leads")
    world.kim = fake.add_user("Kim")
    fake.add_member(world.guild, world.kim)
    return world


@pytest.fixture
async def desk(sqlite_url, fake, roles):
    async with DiscordDesk(sqlite_url, fake, discord_agent_roles=(roles.agents_role,),
                           discord_lead_roles=(roles.leads_role,)) as desk:
        # Channels only: nobody is an agent by command.
        await desk.configure(roles.guild, intake=(roles.help,), triage=roles.triage)
        yield desk


async def stored_role(desk, world, user_id: str) -> Role:
    async with desk.db.unit_of_work() as uow:
        workspace = await uow.workspaces.ensure("discord", world.guild, world.guild,
                                                desk.clock.now())
        person = await uow.people.find(workspace.id, user_id)
        return person.role


async def open_ticket(fake, world, desk, text="VPN drops every hour") -> dict:
    asked = fake.say(world.alice, world.help, text)
    await desk.step()
    return asked


async def test_a_member_with_the_agent_role_claims_by_command(fake, roles, desk):
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    asked = await open_ticket(fake, roles, desk)
    run = fake.command(roles.sam, roles.triage, "/ticket claim 1")
    await desk.step()
    assert "You now own #1" in ephemeral_texts(run)[0]
    assert any("Sam" in m["content"] for m in fake.posts_in(asked["id"]))
    assert await stored_role(desk, roles, roles.sam) is Role.AGENT


async def test_a_member_with_the_agent_role_presses_claim_on_the_card(fake, roles, desk):
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    await open_ticket(fake, roles, desk)
    pressed = fake.press(roles.sam, fake.posts_in(roles.triage)[0]["id"], "Claim")
    await desk.step()
    assert "You now own #1" in ephemeral_texts(pressed)[0]


async def test_a_member_with_neither_role_is_refused_politely(fake, roles, desk):
    await open_ticket(fake, roles, desk)
    run = fake.command(roles.sam, roles.triage, "/ticket claim 1")
    await desk.step()
    assert ephemeral_texts(run)[0].startswith("Sorry, claiming tickets is for agents")
    assert await stored_role(desk, roles, roles.sam) is Role.REQUESTER


async def test_the_agent_role_counts_in_messages_and_reactions(fake, roles, desk):
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    asked = await open_ticket(fake, roles, desk)
    card = fake.posts_in(roles.triage)[0]
    fake.create_thread(roles.triage, card["id"], "Ticket #1", roles.sam)
    fake.say(roles.sam, card["id"], "Please restart the VPN client")
    await desk.step()
    assert any("restart the VPN" in m["content"] for m in fake.posts_in(asked["id"]))
    # 🎫 by an agent on someone else's message opens a ticket for its author.
    said = fake.say(roles.alice, roles.general, "The printer on 2 is jammed")
    fake.react(roles.sam, said["id"])
    await desk.handled(len(desk.sink.events) + 2)
    assert "#2" in fake.posts_in(said["id"])[0]["content"]


async def test_a_lead_role_member_is_stored_as_lead_and_escalated_to(fake, roles, desk):
    fake.give_role(roles.guild, roles.kim, roles.leads_role)
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    fake.command(roles.kim, roles.triage, "/ticket queue")  # Kim acts once
    await desk.step()
    assert await stored_role(desk, roles, roles.kim) is Role.LEAD
    await open_ticket(fake, roles, desk, "The whole office is offline")
    fake.command(roles.sam, roles.triage, "/ticket priority 1 P1")
    await desk.step()
    await desk.advance(timedelta(days=3))  # the P1 first response passes unanswered
    dms = fake.posts_in(fake.dm_channels[roles.kim])
    assert any(m["content"].startswith("Escalation: #1") for m in dms)


async def test_losing_the_role_lowers_the_role_it_gave(fake, roles, desk):
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    await open_ticket(fake, roles, desk)
    fake.command(roles.sam, roles.triage, "/ticket queue")
    await desk.step()
    assert await stored_role(desk, roles, roles.sam) is Role.AGENT
    fake.give_role(roles.guild, roles.sam, roles.agents_role, given=False)
    run = fake.command(roles.sam, roles.triage, "/ticket claim 1")
    await desk.step()
    assert ephemeral_texts(run)[0].startswith("Sorry")
    assert await stored_role(desk, roles, roles.sam) is Role.REQUESTER


async def test_a_role_granted_by_command_outlives_the_discord_role(fake, roles, desk):
    # Sam: an agent by role, then added by command too. Kim: an agent by command,
    # and a lead by role for a while.
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    fake.give_role(roles.guild, roles.kim, roles.leads_role)
    for who in (roles.sam, roles.kim):
        fake.command(who, roles.triage, "/ticket queue")
        await desk.step()
    fake.command(roles.ada, roles.general, f"/helpdesk agents add <@{roles.sam}> <@{roles.kim}>")
    await desk.step()
    fake.command(roles.kim, roles.triage, "/ticket queue")  # the lead role raises Kim again
    await desk.step()
    assert await stored_role(desk, roles, roles.kim) is Role.LEAD
    fake.give_role(roles.guild, roles.sam, roles.agents_role, given=False)
    fake.give_role(roles.guild, roles.kim, roles.leads_role, given=False)
    for who in (roles.sam, roles.kim):
        fake.command(who, roles.triage, "/ticket queue")
        await desk.step()
    assert await stored_role(desk, roles, roles.sam) is Role.AGENT
    assert await stored_role(desk, roles, roles.kim) is Role.AGENT


async def test_without_role_settings_nobody_is_an_agent_by_role(sqlite_url, fake, roles):
    fake.give_role(roles.guild, roles.sam, roles.agents_role)
    async with DiscordDesk(sqlite_url, fake) as desk:
        await desk.configure(roles.guild, intake=(roles.help,), triage=roles.triage)
        run = fake.command(roles.sam, roles.triage, "/ticket queue")
        await desk.step()
        assert ephemeral_texts(run)[0].startswith("Sorry")


@pytest.mark.parametrize("stored, platform, raised_to, granted, expected", [
    # Never raised: a higher platform role raises and remembers the grant.
    (Role.REQUESTER, Role.AGENT, None, None, (Role.AGENT, Role.AGENT, Role.REQUESTER)),
    (Role.AGENT, Role.LEAD, None, None, (Role.LEAD, Role.LEAD, Role.AGENT)),
    # A lower platform role never lowers the desk's own grant.
    (Role.AGENT, Role.REQUESTER, None, None, (Role.AGENT, None, None)),
    # Raised earlier: the platform role going (or shrinking) gives back what it gave.
    (Role.AGENT, Role.REQUESTER, Role.AGENT, Role.REQUESTER, (Role.REQUESTER, None, None)),
    (Role.LEAD, Role.REQUESTER, Role.LEAD, Role.AGENT, (Role.AGENT, None, None)),
    (Role.LEAD, Role.AGENT, Role.LEAD, Role.REQUESTER, (Role.AGENT, Role.AGENT, Role.REQUESTER)),
    # The desk changed the role since the raise: it is the desk's grant now.
    (Role.LEAD, Role.REQUESTER, Role.AGENT, Role.REQUESTER, (Role.LEAD, None, None)),
    (Role.REQUESTER, Role.AGENT, Role.AGENT, Role.REQUESTER,
     (Role.AGENT, Role.AGENT, Role.REQUESTER)),
])
def test_settle_role(stored, platform, raised_to, granted, expected):
    assert settle_role(stored, platform, raised_to, granted) == expected
