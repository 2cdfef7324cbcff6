"""Words the user reads are data: message templates from ``config/messages.toml``
(shipped in ``bot/config/``; an operator's own, in ``HELPDESK_CONFIG_DIR``, is laid over
it key by key: see :mod:`bot.config_files`).

Templates use ``str.format`` fields. A workspace may override any key (stored in its
settings under ``templates``). A missing key or field is a bug, so it raises rather
than showing a half-filled sentence to someone.

A whole number chooses its own word: ``{misses:once|# times}`` reads "once" for 1 and
"2 times" for 2, and ``{count:ticket|tickets}`` reads "1 ticket" and "3 tickets" (the
word for one, then for any other count; the number comes first unless the template
places it with ``#``). So no template needs "time(s)".
"""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from bot.config_files import ConfigFolder, read_toml, shipped
from bot.settings import SettingsError


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


class _Count(int):
    """A whole number that, given a ``one|many`` format spec, writes its own word."""

    def __format__(self, spec: str) -> str:
        if "|" not in spec:
            return int.__format__(int(self), spec)
        one, _, many = spec.partition("|")
        word = one if self == 1 else many
        if "#" in spec:  # the template places the number itself (or leaves it out)
            return word.replace("#", str(int(self)))
        return f"{int(self)} {word}"


def _counted(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _Count(value) if type(value) is int else value
            for name, value in fields.items()}


class Templates:
    """Renders message keys like ``intake.ack`` with their fields."""

    def __init__(self, messages: Mapping[str, Any]) -> None:
        self._messages = _flatten(messages)
        self._plain: dict[str, str] = {}

    @classmethod
    def load(cls, folder: ConfigFolder | None = None) -> "Templates":
        """The shipped templates, with the operator's ``messages.toml`` in ``folder`` (if
        it holds one) laid over them key by key. A key the shipped file does not have is
        a SettingsError naming it: a misspelt key would otherwise be silently ignored."""
        templates = cls(read_toml(shipped("messages.toml")))
        own = folder.own_file("messages.toml") if folder else None
        if own is None:
            return templates
        theirs = _flatten(read_toml(own))
        for key in theirs:
            if key not in templates._messages:
                close = difflib.get_close_matches(key, list(templates._messages), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise SettingsError(f"{own}: there is no message template {key}{hint}; "
                                    "every key must be one of the shipped messages.toml.")
        templates._messages.update(theirs)
        return templates

    def keys(self) -> list[str]:
        """Every template key, for tests and documentation."""
        return sorted(self._messages)

    def raw(self, key: str) -> Any:
        """The template (or list of strings) under ``key``."""
        try:
            return self._messages[key]
        except KeyError:
            raise KeyError(f"no message template named {key!r}") from None

    def render(self, key: str, **fields: Any) -> str:
        """The message ``key`` filled with ``fields``."""
        if not fields:
            # Labels (a card's field names, a button's text) are rendered thousands of
            # times in a burst; with no fields their text never changes.
            plain = self._plain.get(key)
            if plain is None:
                plain = self._plain[key] = self._fill(key, fields)
            return plain
        return self._fill(key, fields)

    def _fill(self, key: str, fields: Mapping[str, Any]) -> str:
        try:
            return str(self.raw(key)).format_map(_counted(fields)).strip()
        except KeyError as missing:
            if missing.args and str(missing.args[0]).startswith("no message template"):
                raise
            raise KeyError(f"template {key!r} needs a value for {{{missing.args[0]}}}") from None

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> "Templates":
        """A copy where the workspace's own wording replaces the defaults."""
        if not overrides:
            return self
        merged = Templates({})
        merged._messages = {**self._messages, **_flatten(overrides)}
        merged._plain = {}
        return merged


def load_templates(configured: str = "") -> Templates:
    """The templates in force when ``HELPDESK_CONFIG_DIR`` is ``configured`` (empty:
    the shipped ones); a SettingsError names a folder or file that cannot be used."""
    return Templates.load(ConfigFolder.of(configured))
