"""The desk's slash commands on Discord, typed: ``/ticket`` and ``/helpdesk`` with a
sub-command per action, the ticket number as an integer with autocomplete, people as
user options, priorities and other fixed words as choices, times and text as strings.

Both ways live here: :func:`command_payloads` is what the bot registers, and
:func:`read_command` turns what Discord sends back (options nested under the
sub-command, users resolved in ``data.resolved``) into the words the router already
reads (``assign 4 <@123|Kim>``), or into the problem to tell the person when a value
is one a Discord client would never send (a number out of range, a bot where a person
belongs, a missing option). Commands the router knows but this table does not describe
still appear, with one optional free-text option.

Every description and choice name is a template (``[discord]`` in messages.toml);
Discord's limits (names 1-32 lower-case characters, descriptions and choice names 1-100,
25 options and choices, required options first, 4,000 characters a command) are
checked by the tests against what this module builds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from bot.core.text import excerpt
from bot.templates import Templates

SUB_COMMAND, STRING, INTEGER, USER, CHANNEL = 1, 3, 4, 6, 7
TEXT_CHANNEL, FORUM_CHANNEL = 0, 15
COMMAND_NAMES = ("ticket", "helpdesk", "kb", "incident")
DESCRIPTION_LIMIT = 100
CHOICE_NAME_LIMIT = 100
MAX_OPTIONS = 25
# Ticket numbers are 32-bit integers in the database.
TICKET_NUMBER_MAX = 2**31 - 1


@dataclass(frozen=True)
class Option:
    """One typed option. ``choices`` are the values the router reads; ``compact`` options
    are one word to the router (spaces typed inside are dropped: ``mon - fri``);
    ``prefix`` is written before the value (``first=``)."""

    name: str
    kind: int
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    compact: bool = False
    prefix: str = ""
    channel_types: tuple[int, ...] = ()
    autocomplete: bool = False
    min_value: int | None = None
    max_value: int | None = None


@dataclass(frozen=True)
class SubCommand:
    """A sub-command's options, in the order the router reads them. ``one_of`` lists
    groups of options of which exactly one group must be given, whole."""

    options: tuple[Option, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()


def _text(name: str, limit: int, required: bool = True) -> Option:
    return Option(name, STRING, required=required, max_length=limit)


TICKET = Option("ticket", INTEGER, required=True, autocomplete=True, min_value=1,
                max_value=TICKET_NUMBER_MAX)
_LEVELS = ("high", "medium", "low")
_PEOPLE = (Option("person", USER, required=True),
           *(Option(f"person{n}", USER) for n in range(2, 6)))
_ADD_REMOVE = Option("action", STRING, required=True, choices=("add", "remove"))
_DURATION = {"kind": STRING, "max_length": 20, "compact": True}
_INCIDENT = Option("incident", STRING, required=True, max_length=20, compact=True)
# ``team <name>`` at the end of an admin command: the router reads it off first.
_TEAM = Option("team", STRING, max_length=30, compact=True, prefix="team ")
_PERIOD = Option("period", STRING, choices=("today", "7d", "30d", "week", "month"))

SPECS: dict[tuple[str, str], SubCommand] = {
    ("ticket", "new"): SubCommand((_text("text", 4000),)),
    ("ticket", "show"): SubCommand((TICKET,)),
    ("ticket", "mine"): SubCommand(),
    ("ticket", "help"): SubCommand(),
    ("ticket", "claim"): SubCommand((TICKET,)),
    ("ticket", "assign"): SubCommand((TICKET, Option("person", USER, required=True))),
    ("ticket", "reply"): SubCommand((TICKET, _text("text", 4000))),
    ("ticket", "note"): SubCommand((TICKET, _text("text", 4000))),
    # The words go after "| ", so the router never reads them as part of the time
    # (``when: tomorrow`` with ``text: 9am standup`` is tomorrow, not tomorrow 9am).
    ("ticket", "followup"): SubCommand((TICKET, _text("when", 60),
                                        Option("text", STRING, max_length=500, prefix="| "))),
    ("ticket", "priority"): SubCommand(
        (TICKET, Option("priority", STRING, choices=("P1", "P2", "P3", "P4")),
         Option("impact", STRING, choices=_LEVELS, prefix="impact="),
         Option("urgency", STRING, choices=_LEVELS, prefix="urgency=")),
        one_of=(("priority",), ("impact", "urgency"))),
    ("ticket", "wait"): SubCommand(
        (TICKET, Option("on", STRING, required=True, choices=("requester", "third-party")),
         _text("text", 500, False))),
    ("ticket", "escalate"): SubCommand((TICKET, _text("reason", 500, False))),
    ("ticket", "queue"): SubCommand(),
    ("ticket", "resolve"): SubCommand((TICKET, _text("summary", 4000, False))),
    ("ticket", "reopen"): SubCommand((TICKET,)),
    ("ticket", "transcript"): SubCommand((TICKET, Option("notes", STRING,
                                                         choices=("with-notes",)))),
    ("ticket", "stats"): SubCommand((_PERIOD,)),
    ("ticket", "kb"): SubCommand((TICKET, Option("article", STRING, required=True,
                                                 max_length=20, compact=True))),
    ("kb", "search"): SubCommand((_text("words", 500),)),
    ("kb", "show"): SubCommand((Option("article", STRING, required=True, max_length=20,
                                       compact=True),)),
    # The router reads "<title> :: <text>" (a #tag in the text tags the article); with
    # neither, an agent gets the form (a modal; the edit filled in with the article).
    ("kb", "add"): SubCommand((_text("title", 300, False),
                               Option("text", STRING, max_length=4000, prefix=":: "))),
    ("kb", "edit"): SubCommand((Option("article", STRING, required=True, max_length=20,
                                       compact=True), _text("title", 300, False),
                                Option("text", STRING, max_length=4000, prefix=":: "))),
    ("kb", "remove"): SubCommand((Option("article", STRING, required=True, max_length=20,
                                         compact=True),)),
    ("kb", "draft"): SubCommand((TICKET,)),
    ("ticket", "transfer"): SubCommand((TICKET, Option("team", STRING, required=True,
                                                       max_length=30, compact=True),
                                        _text("reason", 300, False))),
    ("ticket", "flag"): SubCommand((TICKET, _text("reason", 500))),
    ("ticket", "exception"): SubCommand(
        (TICKET, _text("reason", 300), Option("first", prefix="first=", **_DURATION),
         Option("update", prefix="update=", **_DURATION),
         Option("resolve", prefix="resolve=", **_DURATION))),
    ("helpdesk", "agents"): SubCommand((_ADD_REMOVE, *_PEOPLE, _TEAM)),
    ("helpdesk", "leads"): SubCommand((_ADD_REMOVE, *_PEOPLE, _TEAM)),
    ("helpdesk", "intake"): SubCommand((Option("channel", CHANNEL,
                                               channel_types=(TEXT_CHANNEL, FORUM_CHANNEL)),
                                        _TEAM)),
    ("helpdesk", "triage"): SubCommand((Option("channel", CHANNEL,
                                               channel_types=(TEXT_CHANNEL,)), _TEAM)),
    ("helpdesk", "status"): SubCommand((Option("channel", CHANNEL,
                                               channel_types=(TEXT_CHANNEL,)),)),
    ("helpdesk", "oncall"): SubCommand(
        (Option("team", STRING, required=True, max_length=30, compact=True),
         Option("person", USER),
         Option("from", STRING, max_length=60, prefix="from "),
         Option("until", STRING, max_length=60, prefix="until "),
         Option("rota", STRING, max_length=500, prefix="rota "),
         Option("shift", STRING, choices=("end",)))),
    ("helpdesk", "team"): SubCommand(
        (Option("action", STRING, required=True, choices=("add", "remove", "rename")),
         Option("name", STRING, required=True, max_length=30, compact=True),
         Option("new_name", STRING, max_length=30, compact=True))),
    ("helpdesk", "show"): SubCommand(),
    ("helpdesk", "promises"): SubCommand(),
    ("helpdesk", "report"): SubCommand((_PERIOD, Option("agent", USER, prefix="agent "))),
    ("helpdesk", "panel"): SubCommand(),
    ("helpdesk", "dashboard"): SubCommand(),
    ("helpdesk", "digest"): SubCommand((Option("switch", STRING, choices=("on", "off")),
                                        _TEAM)),
    ("helpdesk", "help"): SubCommand(),
    ("helpdesk", "hours"): SubCommand(
        (Option("days", STRING, required=True, max_length=40, compact=True),
         Option("hours", STRING, required=True, max_length=40, compact=True),
         Option("timezone", STRING, required=True, max_length=64, compact=True), _TEAM)),
    ("helpdesk", "holiday"): SubCommand(
        (_ADD_REMOVE, Option("date", STRING, required=True, max_length=10, compact=True),
         _TEAM)),
    ("helpdesk", "sla"): SubCommand(
        (Option("priority", STRING, required=True, choices=("P1", "P2", "P3", "P4")),
         Option("first", prefix="first=", **_DURATION),
         Option("update", prefix="update=", **_DURATION),
         Option("resolve", prefix="resolve=", **_DURATION), _TEAM)),
}
SPECS.update({
    # "from" is written by the router's reading of the title: ``VPN down from 1 2 3``.
    ("incident", "declare"): SubCommand((_text("title", 200),
                                         Option("tickets", STRING, max_length=200,
                                                prefix="from "))),
    ("incident", "link"): SubCommand((_INCIDENT, _text("tickets", 200))),
    ("incident", "unlink"): SubCommand((_INCIDENT, _text("tickets", 200))),
    ("incident", "update"): SubCommand((_INCIDENT, _text("text", 3000),
                                        Option("next", STRING, max_length=20, compact=True,
                                               prefix="next "))),
    ("incident", "resolve"): SubCommand((_INCIDENT, _text("summary", 3000, False))),
    ("incident", "list"): SubCommand(),
    ("incident", "show"): SubCommand((_INCIDENT,)),
    ("incident", "help"): SubCommand(),
})
# A word the router knows that the table above does not describe: free text.
_FREE = SubCommand((_text("text", 4000, False),))


# -- registering ---------------------------------------------------------------------------

def command_words(sink: Any) -> dict[str, dict[str, str]]:
    """The sub-command words the router knows, by command name, each with the template
    key of its description in the router (``commands.ticket_claim``); every word of the
    table when the sink does not say."""
    routes = getattr(sink, "commands", None)
    words: dict[str, dict[str, str]] = {name: {} for name in COMMAND_NAMES}
    if not isinstance(routes, Mapping):
        for name, word in SPECS:
            words[name][word] = ""
        return words
    for key, route in routes.items():
        if isinstance(key, tuple) and len(key) == 2 and key[0] in words and key[1]:
            words[key[0]][key[1]] = getattr(route, "description", "") or ""
    return words


def command_payloads(words: dict[str, dict[str, str]],
                     templates: Templates) -> list[dict[str, Any]]:
    """``/ticket`` and ``/helpdesk`` as Discord application commands (guild-only)."""
    commands = []
    for name in COMMAND_NAMES:
        known = sorted(words.get(name, {}).items())[:MAX_OPTIONS]
        subs = [{"type": SUB_COMMAND, "name": word,
                 "description": _describe_word(templates, name, word, router_key),
                 "options": [_option_payload(templates, name, word, option)
                             for option in SPECS.get((name, word), _FREE).options]}
                for word, router_key in known]
        commands.append({"name": name, "type": 1,
                         "description": _fit(templates.render(f"discord.{name}_command")),
                         "options": subs, "contexts": [0]})
    return commands


def _describe_word(templates: Templates, name: str, word: str, router_key: str) -> str:
    text = _maybe(templates, f"discord.describe.{name}_{word}")
    if text is None and router_key:
        text = templates.render(router_key)
        text = text[:1].upper() + text[1:]
    return _fit(text or word)


def _option_payload(templates: Templates, name: str, word: str, option: Option) -> dict[str, Any]:
    description = (_maybe(templates, f"discord.options.{name}_{word}_{option.name}")
                   or _maybe(templates, f"discord.options.{option.name}") or option.name)
    payload: dict[str, Any] = {"type": option.kind, "name": option.name,
                               "description": _fit(description), "required": option.required}
    if option.choices:
        payload["choices"] = [{"name": _fit(choice_name(templates, option, value),
                                            CHOICE_NAME_LIMIT), "value": value}
                              for value in option.choices]
    if option.max_length is not None:
        payload["max_length"] = option.max_length
    if option.autocomplete:
        payload["autocomplete"] = True
    if option.min_value is not None:
        payload["min_value"] = option.min_value
    if option.max_value is not None:
        payload["max_value"] = option.max_value
    if option.channel_types:
        payload["channel_types"] = list(option.channel_types)
    return payload


def choice_name(templates: Templates, option: Option, value: str) -> str:
    """What the picker shows for a choice: ``discord.choices.{option}_{value}``, or
    the value itself."""
    key = f"discord.choices.{option.name}_{value.lower().replace('-', '_')}"
    return _maybe(templates, key) or value


def _maybe(templates: Templates, key: str) -> str | None:
    try:
        return templates.render(key)
    except KeyError:
        return None


def _fit(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """``text`` on one line (runs of whitespace made one space), within ``limit``."""
    return excerpt(" ".join(text.split()), limit)


# -- reading what was sent -----------------------------------------------------------------

@dataclass(frozen=True)
class Reading:
    """A command as the router's words, or the problem (a ``[discord]`` template key and
    its fields) to answer instead of handing it on."""

    text: str = ""
    problem: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    def words(self, templates: Templates) -> str:
        """The problem in the workspace's words; a field holding several values (the
        choices an option takes) reads as choices do: "P1, P2, P3 or P4"."""
        assert self.problem is not None
        return templates.render(self.problem, **{
            name: templates.join(value, alternatives=True) if isinstance(value, tuple)
            else value for name, value in self.fields.items()})


def _sub_command(data: Mapping[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The sub-command word of a command's data and the options given to it (no word,
    and the command's own options, when it has no sub-command)."""
    options = list(data.get("options") or [])
    if options and options[0].get("type") == SUB_COMMAND:
        return str(options[0].get("name") or ""), list(options[0].get("options") or [])
    return "", options


def read_command(data: Mapping[str, Any]) -> Reading:
    """``claim 4`` from an application command's data, checked against the table."""
    name = str(data.get("name") or "")
    word, given = _sub_command(data)
    spec = SPECS.get((name, word))
    if spec is None:  # a word this table does not describe: its values as they came
        return Reading(" ".join(p for p in [word, *(_plain(o.get("value")) for o in given)]
                                if p).strip())
    values = {str(o.get("name")): o.get("value") for o in given}
    resolved = data.get("resolved") or {}
    where = f"/{name} {word}".strip()
    words = [word]
    for option in spec.options:
        value = values.get(option.name)
        if not _given(value):
            if option.required:
                return Reading(problem="discord.missing", fields={"option": option.name,
                                                                  "command": where})
            continue
        written, problem = _written(option, value, resolved)
        if problem is not None:
            return Reading(problem=problem[0], fields=problem[1])
        words.append(option.prefix + written)
    if spec.one_of:
        given_groups = [group for group in spec.one_of
                        if any(_given(values.get(n)) for n in group)]
        if len(given_groups) != 1 or not all(_given(values.get(n)) for n in given_groups[0]):
            return Reading(problem=f"discord.one_of_{name}_{word}")
    return Reading(" ".join(w for w in words if w))


def _given(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _written(option: Option, value: Any,
             resolved: Mapping[str, Any]) -> tuple[str, tuple[str, dict] | None]:
    """The value as the router reads it, or the problem with it."""
    if option.kind == INTEGER:
        if isinstance(value, bool) or not isinstance(value, int):
            return "", ("discord.not_a_number", {"option": option.name})
        low = option.min_value if option.min_value is not None else -2**53
        high = option.max_value if option.max_value is not None else 2**53
        if not low <= value <= high:
            # Only the ticket number is an integer option; a client that ignored its
            # range asked for a ticket no desk has.
            return "", ("discord.no_such_ticket", {"value": value, "option": option.name})
        return str(value), None
    if option.kind == USER:
        return _person(option, str(value), resolved)
    if option.kind == CHANNEL:
        return f"<#{_snowflake(value)}>", None
    text = " ".join(str(value).split())
    if option.choices:
        chosen = next((c for c in option.choices if c.lower() == text.lower()), None)
        if chosen is None:
            return "", ("discord.bad_choice", {"option": option.name,
                                               "choices": tuple(option.choices)})
        return chosen, None
    if option.max_length is not None and len(text) > option.max_length:
        return "", ("discord.too_long", {"option": option.name, "limit": option.max_length,
                                         "length": len(text)})
    return (text.replace(" ", "") if option.compact else text), None


def _person(option: Option, user_id: str, resolved: Mapping[str, Any]):
    user_id = _snowflake(user_id)
    user = (resolved.get("users") or {}).get(user_id) or {}
    member = (resolved.get("members") or {}).get(user_id) or {}
    name = member.get("nick") or user.get("global_name") or user.get("username") or ""
    name = re.sub(r"[<>|@\s]+", " ", str(name)).strip()
    if user.get("bot"):
        return "", ("discord.a_bot", {"name": name or user_id, "option": option.name})
    # The name travels with the id, as a Slack mention carries it, so the desk can call
    # someone it has never seen by their name.
    return (f"<@{user_id}|{name}>" if name else f"<@{user_id}>"), None


def _snowflake(value: Any) -> str:
    return re.sub(r"\D", "", str(value)) or str(value)


# -- autocomplete ------------------------------------------------------------------------

def focused_option(data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The option being typed in, or None."""
    _, options = _sub_command(data)
    return next((option for option in options if option.get("focused")), None)


def ticket_choice_name(templates: Templates, number: int, subject: str) -> str:
    """``#12 VPN drops every hour``, on one line and at most 100 characters."""
    subject = "".join(ch if ch.isprintable() else " " for ch in subject)
    return _fit(templates.render("discord.ticket_choice", number=number, subject=subject),
                CHOICE_NAME_LIMIT)
