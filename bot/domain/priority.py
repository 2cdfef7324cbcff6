"""Ticket priority: impact/urgency levels, the priority matrix and decisions.

Priority is derived from an ITIL-style impact x urgency matrix. An agent may
override the computed priority, but only with a recorded reason, so that the
audit trail can explain every priority a ticket ever had.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.domain.errors import Unreadable

__all__ = [
    "Impact",
    "Urgency",
    "Priority",
    "PriorityDecision",
    "priority_from",
    "read_priority",
]

_LEVEL_RANK = {"high": 0, "medium": 1, "low": 2}


def _parse_level(cls: type[Enum], text: object, what: str) -> Any:
    """Parse a case-insensitive level word into a member of ``cls``."""
    if isinstance(text, cls):
        return text
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text like 'high', 'medium' or 'low', got {text!r}")
    word = text.strip().lower()
    for member in cls:
        if member.value == word:
            return member
    raise Unreadable(f"input.unknown_{what}", text=text.strip())


class Impact(str, Enum):
    """How many people or how much of the business a problem affects."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def parse(cls, text: str) -> Impact:
        """Parse ``"High"``, ``" low "`` etc.; raise ``ValueError`` otherwise."""
        return _parse_level(cls, text, "impact")


class Urgency(str, Enum):
    """How quickly the affected people need the problem solved."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @classmethod
    def parse(cls, text: str) -> Urgency:
        """Parse ``"High"``, ``" low "`` etc.; raise ``ValueError`` otherwise."""
        return _parse_level(cls, text, "urgency")


class Priority(str, Enum):
    """Ticket priority, P1 (most urgent) to P4 (least urgent)."""

    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @classmethod
    def parse(cls, text: str) -> Priority:
        """Parse ``"p1"``, ``"P1"``, ``" P2 "`` or a bare ``"3"``.

        Raises :class:`Unreadable` (a ValueError) for text that names no priority.
        """
        if isinstance(text, cls):
            return text
        if not isinstance(text, str):
            raise ValueError(f"priority must be text like 'P1'..'P4', got {text!r}")
        word = text.strip().upper()
        if len(word) == 1:
            # Chat users often type just the digit ("priority 2").
            word = "P" + word
        try:
            return cls(word)
        except ValueError:
            raise Unreadable("input.unknown_priority", text=text.strip()) from None

    @property
    def rank(self) -> int:
        """Numeric rank, 1 for P1 (most urgent) up to 4 for P4."""
        return int(self.value[1])


def priority_from(impact: Impact | str, urgency: Impact | Urgency | str) -> Priority:
    """Look up the priority matrix for ``impact`` and ``urgency``.

    high/high is P1; high/medium and medium/high are P2; high/low,
    medium/medium and low/high are P3; everything else is P4.
    """
    score = _LEVEL_RANK[Impact.parse(impact).value] + _LEVEL_RANK[Urgency.parse(urgency).value]
    # The matrix is symmetric, so the sum of the two ranks decides the cell.
    return (Priority.P1, Priority.P2, Priority.P3)[score] if score < 3 else Priority.P4


_NAMED = ("impact", "urgency")


def _is_level(word: str) -> bool:
    return word.strip().lower() in _LEVEL_RANK


def read_priority(words: list[str]) -> tuple[Priority, Impact | None, Urgency | None]:
    """What an agent wrote after ``/ticket priority <n>``: a priority (``P2``, ``2``) or
    an impact and an urgency (``high low``, ``impact=high urgency=low``).

    Returns ``(priority, None, None)`` for a priority given outright and ``(priority,
    impact, urgency)`` for one read from the matrix. Anything else raises
    :class:`Unreadable` saying what was wrong: nothing given, an unknown word (naming
    which of the two it was read as), one level alone, one of two named twice, or words
    left over after a complete answer."""
    words = [w.strip() for w in words if w.strip()]
    if not words:
        raise Unreadable("input.need_priority")
    try:
        given = Priority.parse(words[0])
    except Unreadable:
        given = None
    extra = " ".join(words[1:] if given is not None else words[2:])
    if given is not None:
        if extra:
            raise Unreadable("input.priority_extra", text=extra, priority=given.value)
        return given, None, None
    pairs = []
    for word in words[:2]:
        key, eq, value = word.partition("=")
        key = key.strip().lower()
        pairs.append((key, value.strip()) if eq and key in _NAMED else ("", word))
    if len(words) == 1:
        key, value = pairs[0]
        missing = {"impact": "input.need_urgency", "urgency": "input.need_impact"}
        if key:
            raise Unreadable(missing[key])
        if _is_level(value):
            raise Unreadable("input.priority_needs_both", text=value)
        raise Unreadable("input.unknown_priority", text=value)
    named = {key: value for key, value in reversed(pairs) if key}
    plain = [value for key, value in pairs if not key]
    impact = named.get("impact") if "impact" in named else (plain.pop(0) if plain else None)
    urgency = named.get("urgency") if "urgency" in named else (plain.pop(0) if plain else None)
    if not impact:
        raise Unreadable("input.need_impact")
    if not urgency:
        raise Unreadable("input.need_urgency")
    level_of_impact, level_of_urgency = Impact.parse(impact), Urgency.parse(urgency)
    if extra:
        raise Unreadable("input.priority_levels_extra", text=extra)
    return priority_from(level_of_impact, level_of_urgency), level_of_impact, level_of_urgency


def _clean(text: str | None, what: str) -> str:
    if text is None or not str(text).strip():
        raise ValueError(f"a priority override needs a non-empty {what}")
    return str(text).strip()


@dataclass(frozen=True)
class PriorityDecision:
    """A ticket's priority together with how it was arrived at.

    Either computed from impact and urgency (``override_reason`` and
    ``overridden_by`` are ``None``), or an override set by a person with a
    mandatory reason (impact/urgency then optional, kept for context).
    """

    priority: Priority
    impact: Impact | None = None
    urgency: Urgency | None = None
    override_reason: str | None = None
    overridden_by: str | None = None

    def __post_init__(self) -> None:
        """Normalise enum fields and enforce the computed/override invariants."""
        set_ = object.__setattr__
        set_(self, "priority", Priority.parse(self.priority))
        if self.impact is not None:
            set_(self, "impact", Impact.parse(self.impact))
        if self.urgency is not None:
            set_(self, "urgency", Urgency.parse(self.urgency))
        if self.override_reason is None and self.overridden_by is None:
            if self.impact is None or self.urgency is None:
                raise ValueError("a computed priority needs both impact and urgency")
            expected = priority_from(self.impact, self.urgency)
            if self.priority is not expected:
                raise ValueError(
                    f"{self.impact.value}/{self.urgency.value} gives {expected.value}, "
                    f"not {self.priority.value}; use PriorityDecision.override()"
                )
        else:
            set_(self, "override_reason", _clean(self.override_reason, "reason"))
            set_(self, "overridden_by", _clean(self.overridden_by, "author (overridden_by)"))

    @classmethod
    def computed(cls, impact: Impact | str, urgency: Urgency | str) -> PriorityDecision:
        """Decision taken straight from the impact x urgency matrix."""
        imp, urg = Impact.parse(impact), Urgency.parse(urgency)
        return cls(priority=priority_from(imp, urg), impact=imp, urgency=urg)

    @classmethod
    def override(
        cls,
        priority: Priority | str,
        reason: str,
        by: str,
        impact: Impact | str | None = None,
        urgency: Urgency | str | None = None,
    ) -> PriorityDecision:
        """Decision forced by ``by`` for ``reason``; an empty reason raises ``ValueError``."""
        return cls(
            priority=Priority.parse(priority),
            impact=impact,  # type: ignore[arg-type]  # normalised in __post_init__
            urgency=urgency,  # type: ignore[arg-type]
            override_reason=_clean(reason, "reason"),
            overridden_by=_clean(by, "author (overridden_by)"),
        )

    def to_dict(self) -> dict[str, str | None]:
        """JSON-friendly form; inverse of :meth:`from_dict`."""
        return {
            "priority": self.priority.value,
            "impact": self.impact.value if self.impact else None,
            "urgency": self.urgency.value if self.urgency else None,
            "override_reason": self.override_reason,
            "overridden_by": self.overridden_by,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PriorityDecision:
        """Rebuild a decision stored with :meth:`to_dict` (validating it again)."""
        return cls(
            priority=data["priority"],
            impact=data.get("impact"),
            urgency=data.get("urgency"),
            override_reason=data.get("override_reason"),
            overridden_by=data.get("overridden_by"),
        )
