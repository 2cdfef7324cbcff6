"""Odd input through discord.py and the fake gateway: invisible and NUL-laden
messages, unprintable names, and a custom_id naming no ticket; on SQLite and
PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.storage.tables import PersonRow, TicketRow
from tests.support.discord.desk import DiscordDesk
from tests.support.discord.server import ephemeral_texts


@pytest.fixture
async def desk(db_url, fake, world):
    async with DiscordDesk(db_url, fake) as desk:
        await desk.configure(world.guild, intake=(world.help,), triage=world.triage,
                             agents=((world.sam, "Sam"),))
        yield desk


async def _tickets(desk) -> list[TicketRow]:
    async with desk.db.unit_of_work() as uow:
        return list((await uow.session.execute(select(TicketRow))).scalars())


async def test_messages_with_nothing_visible_open_no_ticket(fake, world, desk):
    for text in ("\u0000", "\u200b\u2060", "\x1b[0m", "\u3164"):
        fake.dm(world.alice, text)
        await desk.step()
    assert await _tickets(desk) == []
    fake.dm(world.alice, "My VPN keeps dropping")
    await desk.step()
    assert len(await _tickets(desk)) == 1


async def test_nul_escapes_and_a_long_unprintable_name_are_stored_clean(fake, world, desk):
    odd = fake.add_user("x")
    fake.users[odd]["global_name"] = "\x1b[5mZed\x00\u202e" + "z" * 500
    fake.add_member(world.guild, odd)
    fake.say(odd, world.help, "Printer\x00 jammed\x1b[2J again\r\nplease")
    await desk.step()
    [ticket] = await _tickets(desk)
    assert ticket.first_message == "Printer jammed again\nplease"
    async with desk.db.unit_of_work() as uow:
        person = (await uow.session.execute(
            select(PersonRow).where(PersonRow.external_id == odd))).scalar_one()
    assert person.display_name.startswith("Zedzzz") and len(person.display_name) <= 80


async def test_a_custom_id_naming_no_ticket_is_answered_not_crashed(fake, world, desk):
    fake.dm(world.alice, "My VPN keeps dropping")
    await desk.step()
    card = fake.posts_in(world.triage)[0]
    # The card's Claim button, as a stale or tampered message would carry it.
    [claim] = [b for b in fake.buttons(card["id"]) if b.get("label") == "Claim"]
    claim["custom_id"] = "hd:card.claim:99999999999999999999"
    pressed = fake.press(world.sam, card["id"], "Claim")
    await desk.step()
    assert ephemeral_texts(pressed) == ["I can't find the ticket this button is about."]
    [ticket] = await _tickets(desk)
    assert ticket.owner_id is None
