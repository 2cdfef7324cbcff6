"""The console adapter: try the desk in a terminal, with no platform account.

Every line is a message or command from the current persona. Lines starting with ``/``
are commands: the desk's own (``/ticket ...``, ``/helpdesk ...``) and the console's
(``/as``, ``/wait``, ``/thread``, ``/press``, ``/help``, ``/quit``). Plain lines are
direct messages to the bot. Fed from a pipe, it runs the lines in order, delivers
what is due after each, and exits 0 at the end of input.
"""

from __future__ import annotations

import asyncio
import difflib
import itertools
import logging
import shutil
import sys
import threading
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Awaitable, Callable, Protocol, TextIO

from bot.core import (
    Actor, ButtonPressed, CommandInvoked, Delivery, EventSink, IncomingMessage, OutboundMessage,
)
from bot.platforms.console.render import (
    HELP, Persona, clean, moment_label, name_people, parse_wait, render,
)
from bot.clock import OffsetClock

logger = logging.getLogger(__name__)

WORKSPACE = "console"
# What the console answers to, its own words and the desk's commands (for a near miss).
CONSOLE_COMMANDS = ("quit", "exit", "help", "as", "wait", "thread", "press", "in", "ticket",
                    "helpdesk", "incident")
TRIAGE_CHANNEL = "triage"


class ConsoleTime(Protocol):
    """What the composition root lets the console do with time (bot/console_world.py)."""

    async def ensure_alone(self) -> None:
        """Raise SettingsError when a platform's workspaces share the database."""

    async def pass_time(self, delta: timedelta,
                        on_moment: Callable[[datetime], Awaitable[None]] | None = None) -> None:
        """Let ``delta`` pass, stopping at each due moment to sweep and deliver."""

    async def works_the_desk(self, user_id: str) -> bool:
        """Whether the console's person ``user_id`` is an agent (or more) already."""


@dataclass
class _Thread:
    channel_id: str
    thread_id: str


class ConsoleAdapter:
    """A terminal platform. ``settle`` runs the desk's scheduler once (sweep + deliver)."""

    platform = "console"

    def __init__(self, clock: OffsetClock, settle: Callable[[], Awaitable[None]],
                 stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.clock = clock
        self.settle = settle
        self.stdin = stdin or sys.stdin
        # Bytes that are not UTF-8 (a pasted binary, a terminal in another encoding) are
        # read as replacement characters rather than ending the console with an error.
        if getattr(self.stdin, "errors", None) == "strict" and hasattr(self.stdin, "reconfigure"):
            self.stdin.reconfigure(errors="replace")
        self.stdout = stdout or sys.stdout
        self.persona = Persona.default("requester")
        self.dispatch: EventSink | None = None
        self._ids = itertools.count(1)
        # Ids must stay unique across runs on one database: a repeated event id is a
        # platform retry to the desk, and a repeated thread id would find an old ticket.
        self._run = uuid.uuid4().hex[:6]
        self._threads: dict[tuple[str, int], _Thread] = {}  # (audience, ticket) -> thread
        self._shown: list[OutboundMessage] = []  # messages with buttons, oldest first
        self._pressed: set[tuple[int, str]] = set()  # (message's place in _shown, label)
        self._stopping = asyncio.Event()  # set by stop_reading(): input ends here
        self._print_lock = asyncio.Lock()
        self._at_prompt = False
        # Set by the composition root: how time passes, and the check that the database
        # is the console's alone. Without it, /wait just moves the clock.
        self.world: ConsoleTime | None = None
        self._moment: str | None = None  # a stop of /wait, printed before what it brings
        self._agents: set[str] = set()  # personas made agents in this run
        self._names: dict[str, str] = {}  # user id -> name, of every persona played
        self._met(self.persona)
        # Where files the desk sends (transcripts) are written so they can be opened:
        # the folder the console runs in, under transcripts/ (made when first needed).
        self.files_dir = Path("transcripts")

    @property
    def interactive(self) -> bool:
        """True when a person is typing (stdin is a terminal)."""
        return self.stdin.isatty()

    async def start(self, dispatch: EventSink) -> None:
        """Remember where to send events; the console has nothing to connect to, but
        refuses a database that a platform's workspaces use (SettingsError)."""
        if self.world is not None:
            await self.world.ensure_alone()
        self.dispatch = dispatch

    async def stop(self) -> None:
        """Nothing to release."""

    async def is_connected(self) -> bool:
        """Always: the terminal is in this process."""
        return True

    async def send(self, message: OutboundMessage, *, idempotency_key: str,
                   attempt: int = 1, since: timedelta | None = None) -> Delivery:
        """Print a message the desk sends, labelled with where it appears."""
        if message.direct_to:
            message = replace(message, channel_id=f"dm-{message.direct_to}")
        message_id = self._next_id()
        if message.ticket_number is not None:
            thread = message.thread_id or message_id
            key = (message.audience, message.ticket_number)
            if message.audience == "agents" and message.title and not message.edit_of:
                # A ticket's newest card (a transfer posts one in the new team's triage
                # channel): `/thread` writes under it, as an agent would.
                self._threads[key] = _Thread(message.channel_id, thread)
            else:
                self._threads.setdefault(key, _Thread(message.channel_id, thread))
        if message.buttons:
            self._shown.append(message)
        saved = self._save_files(message) if message.attachments else None
        await self._say(render(message, self._width(), self._names, saved))
        return Delivery(message_id, message.channel_id, message.thread_id)

    def _save_files(self, message: OutboundMessage) -> dict[str, str]:
        """Write the message's files under :attr:`files_dir`, each named after whom it
        was for (a requester's copy and an agent's differ), and say where, by file
        name; a folder that cannot be written is said too, and loses nothing else."""
        who = re.sub(r"[^A-Za-z0-9_.-]", "_", message.direct_to or message.channel_id) or "desk"
        saved = {}
        for attachment in message.attachments:
            name = re.sub(r"[^A-Za-z0-9_.-]", "_", attachment.filename).lstrip(".") or "file"
            path = self.files_dir / f"{who}-{name}"
            try:
                self.files_dir.mkdir(parents=True, exist_ok=True)
                path.write_text(attachment.text, encoding="utf-8")
            except OSError as error:
                saved[attachment.filename] = (f"(not saved: {self.files_dir} could not be "
                                              f"written, {error.strerror or error})")
                continue
            saved[attachment.filename] = f"saved as {path}"
        return saved

    def _width(self) -> int | None:
        """The terminal's width when a person reads the output (long lines wrap), else
        None: piped output keeps each line whole."""
        isatty = getattr(self.stdout, "isatty", None)
        return shutil.get_terminal_size().columns if isatty is not None and isatty() else None

    async def serve(self) -> None:
        """Read lines until end of input (or ``/quit``), then deliver what is due."""
        if self.interactive:
            await self._write(HELP.splitlines()[0] + "  Type /help for more.")
        while True:
            if self.interactive:
                self.stdout.write(self.persona.prompt)
                self.stdout.flush()
            self._at_prompt = True
            line = await self._readline()
            self._at_prompt = False
            if not line:
                break
            if await self.handle_line(line.rstrip("\n")) is False:
                break
        await self._settle()

    async def _readline(self) -> str:
        """One line of input, read on a daemon thread: when the console is stopped
        (SIGTERM) while waiting at the prompt, the blocked read must not keep the
        process alive, as a worker of the loop's default executor would at shutdown."""
        loop = asyncio.get_running_loop()
        line: asyncio.Future[str] = loop.create_future()

        def read() -> None:
            try:
                got = self.stdin.readline()
            except BaseException as error:  # handed to the waiting coroutine
                loop.call_soon_threadsafe(_settle, line, None, error)
            else:
                loop.call_soon_threadsafe(_settle, line, got, None)

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({line, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        return line.result() if line.done() else ""  # "": as at the end of input

    def stop_reading(self) -> None:
        """End the conversation as end of input would (SIGTERM: ``docker stop``): the
        line being handled, if any, is finished and what is due is delivered first."""
        self._stopping.set()

    async def handle_line(self, line: str) -> bool:
        """Act on one line; returns False when the person asked to quit."""
        text = line.strip()
        if not text:
            return True
        checked = False  # whether the database was just checked to be the console's alone
        if text.startswith("/"):
            word, _, rest = text[1:].partition(" ")
            word, rest = word.lower(), rest.strip()
            if word in ("quit", "exit"):
                return False
            if word == "help":
                await self._write(HELP)
            elif word == "as":
                await self._switch(rest)
            elif word == "wait":
                checked = await self._wait(rest)
            elif word == "thread":
                await self._thread_message(rest)
            elif word == "in":
                await self._channel_message(rest)
            elif word == "press":
                await self._press(rest)
            elif word in ("ticket", "helpdesk", "incident"):
                if word == "helpdesk":
                    self._agents.clear()  # an admin may have removed one
                await self._dispatch(CommandInvoked(
                    **self._common(self._dm()), name=word, text=name_people(word, rest),
                    is_direct=True))
            else:
                near = difflib.get_close_matches(word, CONSOLE_COMMANDS, n=1, cutoff=0.7)
                guess = f" Did you mean /{near[0]}?" if near else ""
                await self._write(f"(console) I don't know /{word}.{guess} Type /help for the "
                                  "list.")
        else:
            message_id = self._next_id()
            await self._dispatch(IncomingMessage(
                **self._common(self._dm(), message_id), text=text, message_id=message_id,
                is_direct=True))
        await self._settle(check=not checked)
        return True

    async def _settle(self, check: bool = True) -> None:
        """Sweep and deliver what is due. Once /wait has moved the clock, "due" means
        due on the console's clock: check first (unless ``check`` is False: the caller
        just did) that no platform has come to share the database meanwhile."""
        if check and self.world is not None and self.clock.offset > timedelta(0):
            await self.world.ensure_alone()
        try:
            await self.settle()
        except Exception:
            # The database went away mid-session (a restart, a network cut): what was
            # committed stays queued and goes out at a later settle; the console lives on.
            logger.exception("the console's tick could not reach the database")
            await self._write("(console) The desk could not reach its database just now. "
                              "Anything already recorded goes out once it answers again.")

    def _met(self, persona: Persona) -> None:
        """Remember ``persona``'s name, to name them where the desk gives their id."""
        self._names.setdefault(persona.user_id, persona.name)

    def _next_id(self) -> str:
        return f"{self._run}-{next(self._ids)}"

    def _dm(self) -> str:
        return f"dm-{self.persona.user_id}"

    def _common(self, channel_id: str, event_id: str | None = None) -> dict:
        actor = Actor(self.persona.user_id, self.persona.name,
                      is_platform_admin=self.persona.kind == "admin")
        return dict(platform=self.platform, workspace_id=WORKSPACE,
                    event_id=event_id or self._next_id(), actor=actor, channel_id=channel_id)

    async def _dispatch(self, event) -> None:
        assert self.dispatch is not None, "start() was not called"
        await self.dispatch(event)

    async def _switch(self, rest: str) -> None:
        kind, _, name = rest.partition(" ")
        try:
            self.persona = Persona.default(kind.lower(), name.strip() or None)
        except ValueError as error:
            await self._write(f"(console) {error}")
            return
        self._met(self.persona)
        await self._write(f"(console) You are now {self.persona.describe()}.")
        if self.persona.kind == "agent" and self.persona.user_id not in self._agents:
            if self.world is not None and await self.world.works_the_desk(self.persona.user_id):
                # An agent from an earlier run: nobody to add, so nothing to say.
                self._agents.add(self.persona.user_id)
                return
            await self._make_agent()

    async def _make_agent(self) -> None:
        # The console stands in for a workspace admin who makes this persona an agent,
        # and says so: the admin's answer that follows is then no riddle.
        admin = Persona.default("admin")
        self._met(admin)
        await self._write(f"(console) {admin.name}, the console's admin, adds "
                          f"{self.persona.name} to the desk's agents:")
        self._agents.add(self.persona.user_id)
        await self._dispatch(CommandInvoked(
            platform=self.platform, workspace_id=WORKSPACE, event_id=self._next_id(),
            actor=Actor(admin.user_id, admin.name, is_platform_admin=True),
            channel_id=f"dm-{admin.user_id}", name="helpdesk",
            text=f"agents add <@{self.persona.user_id}|{self.persona.name}>"))

    async def _wait(self, rest: str) -> bool:
        """Let the time ``rest`` says pass; True when the world did it, which checked the
        database first (the settle after it need not check again)."""
        try:
            delta = parse_wait(rest)
        except ValueError as error:
            await self._write(f"(console) {error}")
            return False
        await self._write(f"(console) {rest.strip()} pass…")
        if self.world is None:
            self.clock.advance(delta)
            return False
        await self.world.pass_time(delta, self._reached)
        return True

    async def _reached(self, moment: datetime) -> None:
        # Said only if the desk says something at this moment (see _say).
        self._moment = f"(console) {moment_label(moment)}"

    async def _thread_message(self, rest: str) -> None:
        number, _, text = rest.partition(" ")
        audience = "requester" if self.persona.kind == "requester" else "agents"
        digits = number.lstrip("#")
        thread = self._threads.get((audience, int(digits))) \
            if digits.isascii() and digits.isdigit() and len(digits) < 12 else None
        if thread is None or not text.strip():
            await self._write("(console) Usage: /thread <ticket number> <text>, for a ticket "
                              "whose thread you can see.")
            return
        message_id = self._next_id()
        await self._dispatch(IncomingMessage(
            **self._common(thread.channel_id, message_id), text=text.strip(),
            message_id=message_id, thread_id=thread.thread_id,
            is_direct=thread.channel_id.startswith("dm-")))

    async def _channel_message(self, rest: str) -> None:
        """``/in <channel> <text>``: a message in a channel (an intake channel opens a
        ticket there, for the team it belongs to)."""
        channel, _, text = rest.partition(" ")
        channel = channel.lstrip("#")
        if not channel or channel.startswith("dm-") or not text.strip():
            await self._write("(console) Usage: /in <channel> <text>, like /in hr-help "
                              "How many vacation days do I have left?")
            return
        message_id = self._next_id()
        await self._dispatch(IncomingMessage(
            **self._common(channel, message_id), text=text.strip(), message_id=message_id))

    def _visible(self, message: OutboundMessage) -> bool:
        """Whether the current persona can see ``message`` (and so press its buttons)."""
        me = self.persona.user_id
        if message.ephemeral_to or message.direct_to:
            return me in (message.ephemeral_to, message.direct_to)
        if message.audience == "agents":
            return self.persona.kind != "requester"
        return message.channel_id == f"dm-{me}" or not message.channel_id.startswith("dm-")

    async def _press(self, rest: str) -> None:
        """Press the newest button with that label the persona can see and has not pressed
        yet (so two questions asked in a row are each reached); when every one was
        pressed already, the newest again, and the desk says what became of it."""
        wanted, _, form_text = rest.strip().partition(" | ")
        wanted = wanted.strip().lower()
        found = [(place, message, button)
                 for place, message in reversed(list(enumerate(self._shown)))
                 if self._visible(message) for button in message.buttons
                 if wanted in (button.label.lower(), button.action.lower())]
        if found:
            place, message, button = next(
                ((p, m, b) for p, m, b in found
                 if not (b.once and any((p, other.label) in self._pressed
                                        for other in m.buttons))),
                found[0])
            self._pressed.add((place, button.label))
            # A button that asks for input gets it after " | " on the same line.
            form = {button.form[0].name: form_text.strip()} if button.form else {}
            await self._dispatch(ButtonPressed(
                **self._common(message.channel_id or self._dm()), action=button.action,
                value=button.value, form=form))
            return
        labels = sorted({b.label for m in self._shown if self._visible(m) for b in m.buttons})
        await self._write(f"(console) No button “{rest.strip()}” for you. Buttons you can see: "
                          f"{', '.join(f'“{label}”' for label in labels) or 'none yet'}.")

    async def _say(self, text: str) -> None:
        """Print what the desk said (``render`` cleaned every piece of it already), after
        the moment of /wait it came at, if any."""
        if self._moment is not None:
            text, self._moment = f"{self._moment}\n{text}", None
        await self._print(text)

    async def _write(self, text: str) -> None:
        # What the console says itself echoes what was typed: none of it may reach the
        # terminal as a control character.
        await self._print(clean(text))

    async def _print(self, text: str) -> None:
        """Print ``text``, already cleaned, on lines of its own."""
        async with self._print_lock:
            if self._at_prompt and self.interactive:
                # A scheduled message arrived while the person was typing: print it on
                # its own lines and show the prompt again.
                self.stdout.write("\n" + text + "\n" + self.persona.prompt)
            else:
                self.stdout.write(text + "\n")
            self.stdout.flush()


def _settle(future: "asyncio.Future[str]", value: str | None,
            error: BaseException | None) -> None:
    """Hand a read's outcome to ``future`` unless it was given up meanwhile."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value or "")
