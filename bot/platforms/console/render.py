"""What the console shows: personas, help, and how a desk message is printed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.core import OutboundMessage

HELP = """Help desk console: you are talking to the desk as if in Slack or Discord.
  <text>                       a direct message to the bot (opens a ticket)
  /thread <n> <text>           write in ticket #n's thread
  /ticket help                 the desk's commands (/ticket ..., /helpdesk ...)
  /press <label> [| text]      press a button the bot showed you (text fills its form)
  /as requester|agent|admin [name]   switch persona (agents are added to the desk)
  /wait <duration>             let time pass (90s, 45m, 2h, 3d) so scheduled messages arrive
  /help                        this list     /quit   leave"""

_DEFAULT_NAMES = {"requester": "Alex", "agent": "Sam", "admin": "Morgan"}


@dataclass(frozen=True)
class Persona:
    """Who the console user is pretending to be."""

    kind: str
    name: str

    @classmethod
    def default(cls, kind: str, name: str | None = None) -> "Persona":
        """A persona of ``kind`` (requester, agent, admin), named or with a default name."""
        if kind not in _DEFAULT_NAMES:
            raise ValueError("Usage: /as requester|agent|admin [name]")
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


# Outbound text names people and channels as <@id> and <#id>, as Slack and Discord do.
_MENTION = re.compile(r"<([@#])!?([^>|]+)(?:\|[^>]*)?>")
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


def render(message: OutboundMessage) -> str:
    """One desk message as console text: where it appears, then what it says."""
    if message.ephemeral_to:
        where = f"only {message.ephemeral_to} sees this"
    elif message.audience == "agents":
        where = "triage"
    elif message.channel_id.startswith("dm-"):
        where = f"DM with {message.channel_id[3:]}"
    else:
        where = f"#{message.channel_id}"
    if message.ticket_number is not None:
        where += f" · ticket #{message.ticket_number}"
    if message.edit_of:
        where += " · updated"
    lines = [f"[{where}] Help Desk:"]
    if message.title:
        lines.append(f"  {message.title}")
    text = _MENTION.sub(lambda m: ("#" if m.group(1) == "#" else "@") + m.group(2), message.text)
    lines.extend(f"  {line}" for line in text.splitlines() or [""])
    lines.extend(f"  {name}: {value}" for name, value in message.fields)
    if message.buttons:
        lines.append("  " + "  ".join(f"[{b.label}]" for b in message.buttons)
                     + "   (press with /press <label>)")
    return "\n".join(lines)
