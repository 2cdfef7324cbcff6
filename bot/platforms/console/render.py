"""What the console shows: personas, help, and how a desk message is printed."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import Mapping
from datetime import datetime, timedelta, timezone

from bot.core import OutboundMessage

HELP = """Help desk console: you are talking to the desk as if in Slack or Discord.
  <text>                       a direct message to the bot (opens a ticket)
  /thread <n> <text>           write in ticket #n's thread
  /in <channel> <text>         write in a channel (an intake channel opens a ticket)
  /ticket help                 the desk's commands (/ticket ..., /helpdesk ...)
  /incident help               major incidents (agents): declare, link, update, resolve
  /press <label> [| text]      press a button the bot showed you (text fills its form)
  /as requester|agent|admin [name]   switch persona (agents are added to the desk)
                               (commands name people by name: /helpdesk leads add Kim;
                               end with team <name> for one team: /helpdesk agents add Kim team hr)
  /wait <duration>             let time pass (90s, 45m, 2h, 3d) so scheduled messages arrive
  /help                        this list     /quit   leave"""

_DEFAULT_NAMES = {"requester": "Alex", "agent": "Sam", "admin": "Morgan"}
# A persona's name is a display name: no markup (<, >, |, @) that would turn the
# mention the console writes for it into something else, and no control characters.
_NAME = re.compile(r"[^\W_](?:[\w .'-]{0,38}[\w.])?")


@dataclass(frozen=True)
class Persona:
    """Who the console user is pretending to be."""

    kind: str
    name: str

    @classmethod
    def default(cls, kind: str, name: str | None = None) -> "Persona":
        """A persona of ``kind`` (requester, agent, admin), named or with a default name."""
        if kind not in _DEFAULT_NAMES or (name and not _NAME.fullmatch(name)):
            raise ValueError("Usage: /as requester|agent|admin [name] (a name is letters, "
                             "digits, spaces, dots, dashes or apostrophes: /as agent Kim)")
        return cls(kind, name or _DEFAULT_NAMES[kind])

    @property
    def user_id(self) -> str:
        """A stable id from the name, like a platform user id."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or self.kind

    @property
    def prompt(self) -> str:
        """The input prompt."""
        return f"{self.name} ({self.kind})> "

    def describe(self) -> str:
        """``Sam, an agent``."""
        article = "an" if self.kind[0] in "aeiou" else "a"
        return f"{self.name}, {article} {self.kind}"


# The desk's commands whose arguments after the first ``skip`` words are people, as
# Discord's typed user options are (bot/platforms/discord/commands.py).
_PEOPLE_ARGS = {("helpdesk", "agents"): 1, ("helpdesk", "leads"): 1, ("ticket", "assign"): 1}
_TEAM_SUFFIX = re.compile(r"\s+team\s+\S+\s*$", re.I)


def name_people(command: str, text: str) -> str:
    """``text`` of ``/<command>`` with the people it names by name written as mentions
    (``<@id|Name>``), the way Slack and Discord hand them to the desk: in the console a
    person is known by name, and ``/as agent Sam`` acts as exactly the person
    ``/helpdesk agents add Sam`` names. Several people are separated by spaces or
    commas (``/ticket assign`` takes one, whose name may hold spaces); ``@`` before a
    name is optional, and a word that is no name is left for the desk to answer."""
    sub, _, rest = text.partition(" ")
    if (command, sub.lower()) == ("helpdesk", "oncall"):
        return _name_on_duty(sub, rest)
    skip = _PEOPLE_ARGS.get((command, sub.lower()))
    if skip is None:
        return text
    # ``team <name>`` at the end names a team, never two more people.
    team = _TEAM_SUFFIX.search(rest) if command == "helpdesk" else None
    if team is not None:
        return f"{name_people(command, f'{sub} {rest[:team.start()]}'.strip())}{team.group(0)}"
    words = rest.split(None, skip)
    if len(words) <= skip:
        return text
    fixed, people = words[:skip], words[skip]
    if command == "ticket":
        names = [people.strip()]
    else:
        names = [n for n in re.split(r"[,\s]+", people) if n]
    mentioned = []
    for name in names:
        bare = name[1:] if name.startswith("@") else name
        if _NAME.fullmatch(bare):
            person = Persona("requester", bare)
            name = f"<@{person.user_id}|{bare}>"
        mentioned.append(name)
    return " ".join([sub, *fixed, " ".join(mentioned)])


def _name_on_duty(sub: str, rest: str) -> str:
    """``oncall <team> [rota] <names...> [from ...] [until ...]`` with the names (and only
    them: never the team, ``rota`` or the times) written as mentions."""
    team, _, after = rest.strip().partition(" ")
    rota = after.split(None, 1)[0].lower() == "rota" if after.strip() else False
    if rota:
        after = after.split(None, 1)[1] if len(after.split(None, 1)) > 1 else ""
    bounds = re.search(r"\s(from|until)\s", " " + after, re.I)
    head, tail = (after, "") if bounds is None else (after[:max(bounds.start() - 1, 0)],
                                                      after[max(bounds.start() - 1, 0):])
    names = []
    for name in (n for n in re.split(r"[,\s]+", head) if n):
        bare = name[1:] if name.startswith("@") else name
        names.append(f"<@{Persona('requester', bare).user_id}|{bare}>"
                     if _NAME.fullmatch(bare) else name)
    words = [sub, team] + (["rota"] if rota else []) + names
    return " ".join(w for w in words if w) + (" " + tail.strip() if tail.strip() else "")


# Outbound text names people and channels as <@id> and <#id> (optionally <@id|name>), as
# Slack and Discord do; the console shows the name.
_MENTION = re.compile(r"<([@#])!?([^>|]+)(?:\|([^>]*))?>")


def _mention(match: re.Match[str], names: Mapping[str, str]) -> str:
    sign, ref, label = match.group(1), match.group(2), match.group(3)
    if sign == "#":
        return "#" + (label or ref)
    return "@" + (label or name_of(ref, names))


def name_of(user_id: str, names: Mapping[str, str]) -> str:
    """A console person's name by user id: the persona's, or, for one not played in this
    run (the desk remembers people across runs), the id as a name ("kim" is Kim), as
    the desk itself calls them."""
    return names.get(user_id) or " ".join(w.capitalize() for w in user_id.split("-"))
_WAIT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)\s*$", re.I)
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_wait(text: str) -> timedelta:
    """``90s``, ``45m``, ``2h`` or ``3d`` as a timedelta (at most 30 days)."""
    match = _WAIT.match(text)
    if not match:
        raise ValueError("Usage: /wait <duration>, like 90s, 45m, 2h or 3d.")
    delta = timedelta(**{_UNIT[match.group(2).lower()]: float(match.group(1))})
    if delta > timedelta(days=30):
        raise ValueError("/wait goes up to 30 days at a time.")
    return delta


def moment_label(moment: datetime) -> str:
    """A moment /wait stops at, in UTC: ``Friday 7 Jun, 16:00 UTC``."""
    moment = moment.astimezone(timezone.utc)
    return f"{moment:%A} {moment.day} {moment:%b, %H:%M} UTC"


# What a terminal would act on instead of showing: C0 controls but tab and newline, DEL,
# C1 controls (0x9b alone starts an escape sequence on some terminals), and the bidi
# overrides and isolates that reorder how a line reads.
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_BREAKS = re.compile("\r\n?|[\u2028\u2029]")


def clean(text: str) -> str:
    """``text`` safe to print: line breaks as newlines, every control character shown
    as an escape (``\\x1b``) rather than sent to the terminal, so nothing a person typed
    (or the database holds) can move the cursor, retitle the window or hide text."""
    text = _BREAKS.sub("\n", text)
    return _RAW.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                    else f"\\u{ord(m.group()):04x}", text)


def _lines(text: str, width: int | None) -> list[str]:
    """``text`` as indented lines; with ``width``, wrapped at spaces (a link or a long
    word is never cut: it gets a line of its own instead)."""
    if width is None:
        return [f"  {line}" for line in text.splitlines() or [""]]
    lines = []
    for line in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(line, max(width, 20), initial_indent="  ",
                                   subsequent_indent="  ", break_long_words=False,
                                   break_on_hyphens=False, tabsize=4) or [""])
    return lines


def render(message: OutboundMessage, width: int | None = None,
           names: Mapping[str, str] | None = None,
           saved: Mapping[str, str] | None = None) -> str:
    """One desk message as console text: where it appears, then what it says, whole.
    ``width`` wraps long lines (at a terminal); piped output keeps each line whole.
    ``names`` gives the personas' names by user id: people are named, not numbered.
    ``saved`` says, by file name, where the console wrote each attached file (or why
    it could not), so a transcript can be opened."""
    saved = saved or {}
    names = names or {}
    if message.ephemeral_to:
        where = f"only {name_of(message.ephemeral_to, names)} sees this"
    elif message.audience == "agents":
        # A team's own triage channel is named; the default one reads as before.
        where = ("triage" if message.channel_id in ("", "triage")
                 else f"triage #{message.channel_id}")
    elif message.channel_id.startswith("dm-"):
        where = f"DM with {name_of(message.channel_id[3:], names)}"
    else:
        where = f"#{message.channel_id}"
    if message.ticket_number is not None:
        where += f" · ticket #{message.ticket_number}"
    if message.edit_of:
        where += " · updated"
    lines = [clean(f"[{where}] Help Desk:")]
    if message.title:
        lines.extend(_lines(clean(message.title), width))
    text = _MENTION.sub(lambda m: _mention(m, names), message.text)
    lines.extend(_lines(clean(text), width))
    for name, value in message.fields:
        lines.extend(_lines(clean(f"{name}: {value}"), width))
    for attachment in message.attachments:
        # A terminal shows that a file came, not its bytes.
        line = f"  [file: {clean(attachment.filename)}, {attachment.size:,} bytes]"
        if attachment.filename in saved:
            line += f" {clean(saved[attachment.filename])}"
        lines.append(line)
    if message.buttons:
        lines.append("  " + "  ".join(f"[{clean(b.label)}]" for b in message.buttons)
                     + "   (press with /press <label>)")
    return "\n".join(lines)
