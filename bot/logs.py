"""The desk's log lines: plain text or one JSON object per line, with the ids of what the
desk was doing bound to every line.

Where the desk handles one thing (the router an event, the outbox a row, the sweeper a
promise) it binds that thing's ids with :func:`bound`; every line logged inside, by any
module, carries them, so an operator can follow one ticket or one outbox row through the
log without each call site repeating them. The ids live in a context variable, so each
asyncio task sees its own.

Both formats go through the same redaction (:func:`bot.settings.mask` with the
configured secrets), traceback included. Only ids are bound, never text people wrote.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# The ids bound where the current task is working; read when a line is formatted.
_bound: ContextVar[dict[str, Any]] = ContextVar("helpdesk_log_fields", default={})

# What a LogRecord carries of its own; anything else on a record came through ``extra=``.
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message", "asctime", "taskName"}


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind ``fields`` (ids: ``workspace=3, ticket=12``) to every log line written inside
    this block, on top of what is bound already; a field given None is left out."""
    token = _bound.set({**_bound.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _bound.reset(token)


def bind(**fields: Any) -> None:
    """Add ``fields`` to what is bound until the enclosing :func:`bound` block ends (for
    an id learnt half-way, such as the ticket a message turns out to be about)."""
    _bound.set({**_bound.get(), **{k: v for k, v in fields.items() if v is not None}})


def bound_fields() -> dict[str, Any]:
    """The fields bound here and now."""
    return dict(_bound.get())


def _fields_of(record: logging.LogRecord) -> dict[str, Any]:
    extra = {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}
    return {**_bound.get(), **extra}


class TextFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...``, every line through ``redact``."""

    def __init__(self, redact: Callable[[str], str] = lambda line: line,
                 fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _fields_of(record)
        if fields:
            head, newline, rest = line.partition("\n")
            line = head + " " + " ".join(f"{k}={v}" for k, v in fields.items()) + newline + rest
        return self.redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
    ``message``, the bound fields, and ``exception`` with the traceback when there is one.
    Every string goes through ``redact`` before it is encoded, so a secret is masked
    however JSON would have escaped it."""

    def __init__(self, redact: Callable[[str], str] = lambda text: text) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc)
            .isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        for key, value in _fields_of(record).items():
            if key not in entry:
                entry[key] = self._value(value)
        if record.exc_info:
            entry["exception"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = self.redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = self.redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False)

    def _value(self, value: Any) -> Any:
        if isinstance(value, (bool, int, float)) or value is None:
            return value
        return self.redact(str(value))


def formatter(log_format: str, redact: Callable[[str], str] = lambda text: text
              ) -> logging.Formatter:
    """The formatter for ``HELPDESK_LOG_FORMAT`` (``text`` or ``json``)."""
    if log_format.lower() == "json":
        return JsonFormatter(redact)
    return TextFormatter(redact)
