"""Discord's rules for application commands, as its API enforces them on
``PUT /applications/{app}/guilds/{guild}/commands`` (a 400 with code 50035 otherwise).

From Discord's documentation of application commands (chat input commands, type 1):

- names: 1-32 characters matching ``^[-_\\p{L}\\p{N}]{1,32}$``, lower case; unique among
  the commands, and among the options at one level;
- descriptions: 1-100 characters, for commands and every option;
- at most 25 options (sub-commands count as options), 25 choices an option;
- required options before optional ones;
- an option's type: sub-command 1, group 2, string 3, integer 4, boolean 5, user 6,
  channel 7, role 8, mentionable 9, number 10, attachment 11; sub-commands and groups
  do not mix with other options at one level, and a sub-command holds no sub-commands;
- choices only on string, integer and number options, never with ``autocomplete``, each
  with a 1-100 character name and a value of the option's type (strings up to 100);
- ``autocomplete`` only on string, integer and number options;
- ``min_length``/``max_length`` (0-6000 and 1-6000) only on strings, ``min_value``/
  ``max_value`` only on integers and numbers (integers within +-2^53),
  ``channel_types`` only on channels;
- all names, descriptions and choice names and values of one command together at most
  4,000 characters.
"""

from __future__ import annotations

from typing import Any

SUB_COMMAND, GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, \
    ATTACHMENT = range(1, 12)
OPTION_TYPES = set(range(1, 12))
MAX_SAFE_INTEGER = 2 ** 53


def valid_name(name: Any) -> bool:
    """``^[-_\\p{L}\\p{N}]{1,32}$``, and lower case as chat input commands need."""
    return (isinstance(name, str) and 1 <= len(name) <= 32 and name == name.lower()
            and all(ch in "-_" or ch.isalpha() or ch.isnumeric() for ch in name))


def _text(value: Any, low: int, high: int) -> bool:
    return isinstance(value, str) and low <= len(value) <= high


def problems(commands: list[dict[str, Any]]) -> list[str]:
    """Every way ``commands`` (a bulk overwrite's body) breaks Discord's rules."""
    found: list[str] = []
    if not isinstance(commands, list):
        return ["the body must be a list of commands"]
    names = [c.get("name") for c in commands]
    if len(set(names)) != len(names):
        found.append(f"command names repeat: {names}")
    for command in commands:
        where = f"/{command.get('name')}"
        if command.get("type", 1) != 1:
            found.append(f"{where}: only chat input commands are checked here")
        if not valid_name(command.get("name")):
            found.append(f"{where}: invalid name")
        if not _text(command.get("description"), 1, 100):
            found.append(f"{where}: description must be 1-100 characters")
        found.extend(_options(command.get("options") or [], where, depth=0))
        if _characters(command) > 4000:
            found.append(f"{where}: {_characters(command)} characters in names, descriptions "
                         "and choices (at most 4000)")
    return found


def _characters(item: dict[str, Any]) -> int:
    total = len(item.get("name") or "") + len(item.get("description") or "")
    for choice in item.get("choices") or []:
        total += len(str(choice.get("name") or "")) + len(str(choice.get("value") or ""))
    return total + sum(_characters(option) for option in item.get("options") or [])


def _options(options: Any, where: str, depth: int) -> list[str]:
    found: list[str] = []
    if not isinstance(options, list):
        return [f"{where}: options must be a list"]
    if len(options) > 25:
        found.append(f"{where}: {len(options)} options (at most 25)")
    names = [o.get("name") for o in options]
    if len(set(names)) != len(names):
        found.append(f"{where}: option names repeat: {names}")
    kinds = {o.get("type") for o in options}
    if kinds & {SUB_COMMAND, GROUP} and kinds - {SUB_COMMAND, GROUP}:
        found.append(f"{where}: sub-commands mixed with other options")
    optional_seen = False
    for option in options:
        here = f"{where} {option.get('name')}"
        kind = option.get("type")
        if kind not in OPTION_TYPES:
            found.append(f"{here}: unknown type {kind!r}")
            continue
        if not valid_name(option.get("name")):
            found.append(f"{here}: invalid name")
        if not _text(option.get("description"), 1, 100):
            found.append(f"{here}: description must be 1-100 characters")
        if kind in (SUB_COMMAND, GROUP):
            if "required" in option:
                found.append(f"{here}: a sub-command is never required")
            if kind == SUB_COMMAND and depth > 1 or kind == GROUP and depth > 0:
                found.append(f"{here}: nested too deep")
            inner = option.get("options") or []
            if kind == SUB_COMMAND and any(o.get("type") in (SUB_COMMAND, GROUP) for o in inner):
                found.append(f"{here}: a sub-command holds no sub-commands")
            found.extend(_options(inner, here, depth + 1))
            continue
        if option.get("options"):
            found.append(f"{here}: only sub-commands and groups hold options")
        if option.get("required"):
            if optional_seen:
                found.append(f"{here}: a required option after an optional one")
        else:
            optional_seen = True
        found.extend(_value_rules(option, kind, here))
    return found


def _value_rules(option: dict[str, Any], kind: int, here: str) -> list[str]:
    found: list[str] = []
    choices = option.get("choices")
    if choices is not None:
        if kind not in (STRING, INTEGER, NUMBER):
            found.append(f"{here}: choices on a type that takes none")
        if option.get("autocomplete"):
            found.append(f"{here}: choices and autocomplete together")
        if not isinstance(choices, list) or len(choices) > 25:
            found.append(f"{here}: at most 25 choices")
        for choice in choices or []:
            value = choice.get("value")
            if not _text(choice.get("name"), 1, 100):
                found.append(f"{here}: choice name must be 1-100 characters")
            if kind == STRING and not _text(value, 1, 100):
                found.append(f"{here}: a string choice's value must be 1-100 characters")
            if kind == INTEGER and (not isinstance(value, int) or isinstance(value, bool)
                                    or abs(value) > MAX_SAFE_INTEGER):
                found.append(f"{here}: an integer choice's value must be an integer")
    if option.get("autocomplete") and kind not in (STRING, INTEGER, NUMBER):
        found.append(f"{here}: autocomplete on a type that takes none")
    for key in ("min_length", "max_length"):
        if key in option:
            low = 0 if key == "min_length" else 1
            value = option[key]
            if kind != STRING:
                found.append(f"{here}: {key} only on strings")
            elif not isinstance(value, int) or not low <= value <= 6000:
                found.append(f"{here}: {key} must be {low}-6000")
    for key in ("min_value", "max_value"):
        if key in option:
            value = option[key]
            if kind not in (INTEGER, NUMBER):
                found.append(f"{here}: {key} only on integers and numbers")
            elif not isinstance(value, (int, float)) or abs(value) > MAX_SAFE_INTEGER:
                found.append(f"{here}: {key} out of range")
    if "min_value" in option and "max_value" in option \
            and option["min_value"] > option["max_value"]:
        found.append(f"{here}: min_value above max_value")
    if "channel_types" in option and kind != CHANNEL:
        found.append(f"{here}: channel_types only on channels")
    return found
