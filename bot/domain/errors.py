"""Broken rules, told to people in the desk's own words.

A :class:`DomainError` carries no sentence: it names a message template under
``config/messages.toml`` and the fields that fill it, and the desk renders it in the
workspace's wording. A field may itself be a :class:`Phrase`, a template rendered first
(a command's description inside a refusal, say). ``str(error)`` shows the key and the
fields, for logs.
"""

from __future__ import annotations

from typing import Any


class Phrase:
    """Words from a template, used as a field of another: ``key`` and its own fields."""

    __slots__ = ("key", "fields")

    def __init__(self, key: str, **fields: Any) -> None:
        self.key = key
        self.fields = fields

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Phrase) and (self.key, self.fields) == (other.key, other.fields)

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        return f"Phrase({self.key!r}{''.join(f', {k}={v!r}' for k, v in self.fields.items())})"


class DomainError(Exception):
    """A rule of the desk was broken. ``template`` names the message that tells the
    person so, ``fields`` fill it."""

    def __init__(self, template: str, **fields: Any) -> None:
        super().__init__(template)
        self.template = template
        self.fields = fields

    def __str__(self) -> str:
        filled = ", ".join(f"{name}={value!r}" for name, value in self.fields.items())
        return f"{self.template} ({filled})" if filled else self.template


class Unreadable(DomainError, ValueError):
    """Text a person wrote (a time, a duration, a priority, opening hours, a time zone)
    that cannot be read as one. It is a ValueError too, so a settings file with the same
    mistake fails the way any bad value does."""
