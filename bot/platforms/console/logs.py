"""The console's logs go to a file, never into the conversation on the terminal.

The transcript is what the desk said; a log line in the middle of it reads as if the
desk had said it. So in the console every log record goes to a file, and an error
(something went wrong inside the desk) also gets one line on stderr naming the file.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Callable

from bot.settings import RedactingFormatter

LOG_FILE = "helpdesk-console.log"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _OneLine(RedactingFormatter):
    """``helpdesk-bot: error: <message> (details in <file>)``, without the traceback."""

    def __init__(self, path: Path, redact: Callable[[str], str]) -> None:
        super().__init__(None, redact)
        self.path = path

    def format(self, record: logging.LogRecord) -> str:
        first = (record.getMessage().splitlines() or [""])[0]
        return self.redact(f"helpdesk-bot: error: {first} (details in {self.path})")


class _Levelled(RedactingFormatter):
    """``helpdesk-bot: warning: <message>``: the level in the words the desk's other
    one-line errors use."""

    def format(self, record: logging.LogRecord) -> str:
        return f"helpdesk-bot: {record.levelname.lower()}: {super().format(record)}"


def log_to_file(path: str | Path = LOG_FILE, level: str = "WARNING",
                redact: Callable[[str], str] = lambda line: line,
                formatter: logging.Formatter | None = None,
                fallback: str | Path | None = None) -> Path | None:
    """Send the logs to ``path`` at ``level`` (errors also as one line on stderr), each
    line through ``redact``; returns the file. When ``path`` cannot be written (the
    image's working folder /app belongs to root, the desk runs as another user), the
    logs go to ``fallback`` (the composition root passes the folder of the console's
    database, which the desk must be able to write anyway); when neither can, None,
    and every record at ``level`` goes to stderr, one line each, rather than vanish.
    ``formatter`` writes the file's lines (the composition root's, for
    HELPDESK_LOG_FORMAT; it must redact as ``redact`` does)."""
    path = Path(path)
    if not _writable(path) and fallback is not None and _writable(Path(fallback)):
        path = Path(fallback)
    root = logging.getLogger()
    root.setLevel(level)
    brief = logging.StreamHandler(sys.stderr)
    brief.setLevel(logging.ERROR)
    if not _writable(path):
        brief.setLevel(level)
        brief.setFormatter(_Levelled("%(message)s", redact))
        root.addHandler(brief)
        return None
    # Made on the first record: a run that logs nothing leaves no file behind.
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setFormatter(formatter or RedactingFormatter(FORMAT, redact))
    brief.setFormatter(_OneLine(path, redact))
    root.addHandler(handler)
    root.addHandler(brief)
    return path


def _writable(path: Path) -> bool:
    if path.exists():
        return path.is_file() and os.access(path, os.W_OK)
    return os.access(path.parent if str(path.parent) else Path("."), os.W_OK)
