"""The console, played: the real App run over a script of typed lines."""

from __future__ import annotations

import io
import tempfile
from datetime import datetime
from pathlib import Path

from bot.app import App, run_app
from bot.clock import OffsetClock
from bot.settings import Settings
from tests.flows.story import pin_clock


async def play(url: str, script: str, *, start: datetime | None = None,
               files_dir: Path | None = None) -> str:
    """Run the desk over ``script`` as piped input on ``url``; return what it printed.
    With ``start``, the clock is pinned there (``/wait`` still moves it). Files the desk
    sends (transcripts) are written to ``files_dir``, by default a fresh temporary
    folder: never the folder the tests run in."""
    clock = None
    if start is not None:
        clock = OffsetClock()
        pin_clock(clock, start)
    out = io.StringIO()
    app = App(Settings(database_url=url), console=True, clock=clock, stdin=io.StringIO(script),
              stdout=out)
    assert app.console is not None
    app.console.files_dir = files_dir or Path(tempfile.mkdtemp(prefix="console-files-"))
    await run_app(app)
    return out.getvalue()
