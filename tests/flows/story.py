"""What every flow test shares: a staffed desk whose clock stands still on a known
Monday morning, and ways to read what each person was shown.

The harness's clock is real time plus an offset; here it is pinned to ``MONDAY`` (10:00
UTC on Monday 3 June 2030), so every time the desk states reads the same on every run
("today at 18:00 UTC"). ``advance`` still moves it forward, and asyncio's own clock is
untouched, so nothing hangs. The default calendar is Mon-Fri 09:00-17:00 UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from bot.core import Button, HomeOpened
from bot.domain.promises import Promise
from bot.domain.tickets import Ticket, TimelineEntry
from bot.storage.promise_repository import promise_from_row
from bot.storage.tables import PromiseRow
from tests.support.harness import WORKSPACE, DeskHarness
from tests.support.recording import Sent

MONDAY = datetime(2030, 6, 3, 10, 0, tzinfo=timezone.utc)
TRIAGE = "C-triage"


def pin_clock(clock, start: datetime) -> None:
    """Make an OffsetClock read ``start`` plus whatever has been advanced since."""
    clock.offset = timedelta(0)
    clock.now = lambda: start + clock.offset


class FlowDesk(DeskHarness):
    """A DeskHarness on a pinned clock, with helpers to set up people and read transcripts."""

    def __init__(self, url: str, *, start: datetime = MONDAY, **kw) -> None:
        super().__init__(url, **kw)
        pin_clock(self.clock, start)

    async def staffed(self, *, agents: tuple[str, ...] = ("sam",), leads: tuple[str, ...] = (),
                      triage: str | None = TRIAGE, intake: str | None = None) -> None:
        """Agents, leads and channels set up by the admin "boss"; the setup's own
        answers are forgotten so transcripts start with the story."""
        mark = len(self.adapter.sent)
        if agents:
            await self.command("boss", "helpdesk agents add "
                               + " ".join(f"<@{a}|{a.capitalize()}>" for a in agents))
        if leads:
            await self.command("boss", "helpdesk leads add "
                               + " ".join(f"<@{a}|{a.capitalize()}>" for a in leads))
        if triage:
            await self.command("boss", f"helpdesk triage <#{triage}|triage>")
        if intake:
            await self.command("boss", f"helpdesk intake <#{intake}|help>")
        setup = self.adapter.sent[mark:]
        assert all("Done" in s.text or "is now the desk's" in s.text
                   or "is already an agent" in s.text for s in setup), \
            self.adapter.transcript()
        del self.adapter.sent[mark:]

    async def claimed(self, text: str = "The VPN drops every few minutes", **staff) -> None:
        """Ann's ticket #1 (her first message ``text``), claimed by Sam at once, on a desk
        ``staffed(**staff)``."""
        await self.staffed(**staff)
        await self.dm("ann", text)
        await self.command("sam", "ticket claim 1")

    # ---- reading what was said -------------------------------------------------------

    def texts(self) -> list[str]:
        """Every text the desk sent, titles and fields included, in order."""
        return [full_text(s) for s in self.adapter.sent]

    def last(self) -> Sent:
        """The last message sent to a person or a thread. Ticket cards are left out: they
        are the agents' board, redrawn after the messages of any change (``cards``)."""
        said = [s for s in self.adapter.sent
                if not (s.message.audience == "agents" and s.message.title)]
        assert said, "the desk said nothing"
        return said[-1]

    def since(self, mark: int) -> list[Sent]:
        """Messages sent after ``mark`` (a previous ``len(desk.adapter.sent)``)."""
        return self.adapter.sent[mark:]

    def requester_said(self, mark: int) -> list[str]:
        """What the requester was told after ``mark``, wherever they were told it."""
        return [s.text for s in self.since(mark) if s.message.audience == "requester"]

    def private_to(self, user: str) -> list[Sent]:
        """Messages only ``user`` sees: ephemeral answers and direct messages."""
        return [s for s in self.adapter.sent
                if s.message.ephemeral_to == user or s.message.direct_to == user]

    def ack(self, number: int) -> Sent:
        """The acknowledgement of ticket ``number``."""
        for s in self.adapter.sent:
            m = s.message
            if (m.ticket_number == number and m.audience == "requester" and not m.ephemeral_to
                    and f"opened ticket #{number} " in m.text):
                return s
        raise AssertionError(f"no acknowledgement for #{number}:\n{self.adapter.transcript()}")

    def thread_of(self, number: int) -> tuple[str, str]:
        """(channel, thread) of ticket ``number``'s requester thread, from its acknowledgement."""
        ack = self.ack(number)
        return ack.message.channel_id, (ack.message.thread_id or ack.message_id)

    def requester_thread(self, number: int) -> list[Sent]:
        """What the requester reads in their ticket's thread, oldest first."""
        channel, thread = self.thread_of(number)
        return [s for s in self.adapter.sent
                if s.message.channel_id == channel and not s.message.ephemeral_to
                and (s.message.thread_id == thread or s.message_id == thread)]

    def cards(self, number: int) -> list[Sent]:
        """Every version of ticket ``number``'s card in the triage channel."""
        return [s for s in self.adapter.sent
                if s.message.audience == "agents" and s.message.ticket_number == number
                and s.message.title]

    def triage_thread(self, number: int) -> list[Sent]:
        """Messages in the thread under ticket ``number``'s card."""
        first = self.cards(number)[0]
        return [s for s in self.adapter.sent if s.message.thread_id == first.message_id]

    def card_thread_id(self, number: int) -> str:
        """The message id of the first card: agents write under it."""
        return self.cards(number)[0].message_id

    def buttons(self, sent: Sent) -> dict[str, Button]:
        """A message's buttons by label."""
        return {b.label: b for b in sent.message.buttons}

    # ---- acting in threads ---------------------------------------------------------

    async def requester_says(self, user: str, number: int, text: str):
        """``user`` writes in ticket ``number``'s requester thread."""
        channel, thread = self.thread_of(number)
        if channel == f"D-{user}":
            return await self.dm(user, text, thread_id=thread)
        return await self.channel_message(user, channel, text, thread_id=thread)

    async def in_triage_thread(self, user: str, number: int, text: str):
        """``user`` writes under ticket ``number``'s card."""
        return await self.channel_message(user, TRIAGE, text,
                                          thread_id=self.card_thread_id(number))

    async def press_button(self, user: str, sent: Sent, label: str, *, form: dict | None = None):
        """``user`` presses the button labelled ``label`` on message ``sent``."""
        button = self.buttons(sent)[label]
        return await self.press(user, button.action, button.value, channel=sent.message.channel_id,
                                form=form)

    async def home(self, user: str) -> None:
        """``user`` opens the bot's home surface (Slack's App Home tab)."""
        await self.deliver(HomeOpened(platform=self.platform, workspace_id=WORKSPACE,
                                      event_id=self.next_id("home"), actor=self.actor(user),
                                      channel_id=""))

    # ---- reading the database --------------------------------------------------------

    async def ticket(self, number: int) -> Ticket:
        """Ticket ``number`` as stored now."""
        async with self.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure(self.platform, WORKSPACE, WORKSPACE, self.clock.now())
            ticket = await uow.tickets.by_number(ws.id, number)
        assert ticket is not None, f"no ticket #{number}"
        return ticket

    async def ticket_count(self) -> int:
        """How many tickets the workspace has."""
        async with self.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure(self.platform, WORKSPACE, WORKSPACE, self.clock.now())
            return len(await uow.tickets.list(ws.id, limit=10_000))

    async def timeline(self, number: int) -> list[TimelineEntry]:
        """Ticket ``number``'s timeline, oldest first."""
        ticket = await self.ticket(number)
        async with self.db.unit_of_work() as uow:
            return await uow.tickets.timeline(ticket.id)

    async def promises(self, number: int) -> list[Promise]:
        """Every promise ever made on ticket ``number``, in the order made."""
        ticket = await self.ticket(number)
        async with self.db.unit_of_work() as uow:
            rows = (await uow.session.execute(select(PromiseRow).where(
                PromiseRow.ticket_id == ticket.id).order_by(PromiseRow.id))).scalars().all()
            return [promise_from_row(r) for r in rows]

    async def incident_of(self, number: int) -> int | None:
        """The id of the incident ticket #``number`` is linked to, if any."""
        ticket = await self.ticket(number)
        async with self.db.unit_of_work() as uow:
            return (await uow.incidents.links_of([ticket.id])).get(ticket.id)

    async def open_promises(self, number: int) -> list[Promise]:
        """Ticket ``number``'s promises not yet kept, missed or cancelled, soonest first."""
        ticket = await self.ticket(number)
        async with self.db.unit_of_work() as uow:
            return await uow.promises.open_for_ticket(ticket.id)

    async def open_incident_promise(self, number: int = 1) -> Promise:
        """INC-``number``'s open promise: its next update."""
        async with self.db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure(self.platform, WORKSPACE, WORKSPACE, self.clock.now())
            incident = await uow.incidents.by_number(ws.id, number)
            promise = await uow.incidents.promise(incident.id)
        assert promise is not None, f"INC-{number} owes no update"
        return promise


async def live(desk: FlowDesk, until: datetime, step: timedelta = timedelta(minutes=30)):
    """Let time pass in steps, as a running desk would see it; returns (when, message)
    for everything said meanwhile."""
    heard = []
    while desk.clock.now() < until:
        mark = len(desk.adapter.sent)
        await desk.advance(min(step, until - desk.clock.now()))
        heard += [(desk.clock.now(), s) for s in desk.since(mark)]
    return heard


def requester_heard(heard: list[tuple[datetime, Sent]]) -> list[str]:
    """What the requester was told in ``heard`` (as :func:`live` returns it)."""
    return [s.text for _, s in heard if s.message.audience == "requester"]


def full_text(sent: Sent) -> str:
    """Everything a person can read on a message: title, text, fields and button labels."""
    m = sent.message
    parts = [m.title or "", m.text]
    parts += [f"{name}: {value}" for name, value in m.fields]
    parts += [b.label for b in m.buttons]
    return "\n".join(p for p in parts if p)
