"""The console's world is its own: its own database by default, never a platform's
workspaces, and ``/wait`` walks through every due moment in order, as if lived."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import App, run_app
from bot.clock import OffsetClock
from bot.settings import CONSOLE_DATABASE_URL, DEFAULT_DATABASE_URL, Settings, SettingsError
from bot.settings import for_console
from bot.storage.tables import PromiseRow
from tests.flows.story import pin_clock
from tests.support.console import play
from tests.support.harness import DeskHarness, reset_schema

FRIDAY = datetime(2030, 6, 7, 15, 0, tzinfo=timezone.utc)  # Friday 7 June 2030, 15:00 UTC


def console_app(url: str, script: str = "", *, start: datetime = FRIDAY) -> tuple[App, io.StringIO]:
    clock = OffsetClock()
    pin_clock(clock, start)
    out = io.StringIO()
    app = App(Settings(database_url=url), console=True, clock=clock,
              stdin=io.StringIO(script), stdout=out, run_migrations=False)
    return app, out


async def slack_ticket(url: str) -> None:
    """A Slack workspace in the database (whose schema exists), with a ticket and its
    pending promise."""
    harness = DeskHarness(url, platform="slack")
    await harness.adapter.start(harness.router)
    await harness.dm("alice", "The VPN is down")
    await harness.db.dispose()


async def pending_promises(app: App) -> list[tuple[str, datetime]]:
    async with app.db.reading() as uow:
        rows = (await uow.session.execute(select(PromiseRow))).scalars()
        return [(row.status, row.due_at) for row in rows]


# --- its own database -----------------------------------------------------------------


def test_the_console_defaults_to_a_database_of_its_own():
    assert CONSOLE_DATABASE_URL == "sqlite:///helpdesk-console.sqlite3"
    assert for_console(Settings()).database_url == CONSOLE_DATABASE_URL
    assert Settings().database_url == DEFAULT_DATABASE_URL  # the platforms' default stays
    named = Settings(database_url="sqlite:///mine.sqlite3")
    assert for_console(named).database_url == "sqlite:///mine.sqlite3"


def _cli(tmp_path: Path, *args: str, input: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("HELPDESK_", "SLACK_", "DISCORD_"))}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path,
                          env={**clean, **env}, input=input, capture_output=True, text=True,
                          timeout=60)


def test_run_console_with_no_database_setting_uses_the_console_file(tmp_path):
    result = _cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n")
    assert result.returncode == 0, result.stderr
    assert "#1" in result.stdout
    assert (tmp_path / "helpdesk-console.sqlite3").is_file()
    assert not (tmp_path / "helpdesk.sqlite3").exists()
    assert result.stderr == ""  # logs go to helpdesk-console.log, never the transcript


# --- never a platform's workspaces ------------------------------------------------------


async def test_the_console_refuses_to_start_on_a_database_with_slack_workspaces(sqlite_url):
    app, out = console_app(sqlite_url, "/wait 3h\n")
    await reset_schema(app.db)
    await slack_ticket(sqlite_url)
    before = await pending_promises(app)
    with pytest.raises(SettingsError) as refused:
        await run_app(app)
    message = str(refused.value)
    assert "\n" not in message and "slack" in message.lower()
    assert "helpdesk-console.sqlite3" in message
    app, _ = console_app(sqlite_url)
    assert await pending_promises(app) == before  # nothing of Slack's was touched
    await app.db.dispose()
    assert "pass" not in out.getvalue()


def test_the_cli_refuses_with_one_line_and_a_non_zero_exit(tmp_path):
    import asyncio
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"

    async def prepare() -> None:
        from bot.storage import migrate
        from bot.storage.engine import create_engine
        engine = create_engine(url)
        await migrate.upgrade(engine)
        await engine.dispose()
        await slack_ticket(url)

    asyncio.run(prepare())
    result = _cli(tmp_path, "run", "--console", input="/wait 3h\n", HELPDESK_DATABASE_URL=url)
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("helpdesk-bot: "), result.stderr
    assert "slack" in lines[0].lower() and "Traceback" not in result.stderr
    assert "pass" not in result.stdout


async def test_wait_refuses_once_a_platform_workspace_shares_the_database(sqlite_url):
    app, out = console_app(sqlite_url)
    await reset_schema(app.db)
    await app.start()
    try:
        await app.console.handle_line("My VPN keeps dropping")
        await slack_ticket(sqlite_url)
        before, clock_before = await pending_promises(app), app.clock.now()
        with pytest.raises(SettingsError, match="(?i)slack"):
            await app.console.handle_line("/wait 3h")
        assert await pending_promises(app) == before
        assert app.clock.now() - clock_before < timedelta(minutes=1)
    finally:
        await app.stop()


# --- /wait steps through time -----------------------------------------------------------


async def test_wait_reaches_each_due_moment_in_order(sqlite_url):
    # Friday 15:00: Alex opens #1 (a reply is due Monday 15:00) and Sam resolves #2, so
    # Alex is asked to confirm (a reminder, then a close at a time announced in advance).
    printed = await play(sqlite_url, "My VPN keeps dropping\n/as agent\n"
                                     "/ticket followup 1 1h\n/wait 4d\n", start=FRIDAY)
    tail = printed.split("(console) 4d pass…", 1)[1]
    # The follow-up lapsed Friday 16:00: covered then, on time, not four days late.
    assert "is late" not in tail, tail
    assert "Friday 7 Jun, 16:00 UTC" in tail, tail
    # Each moment is announced before what it brought, in order.
    moments = re.findall(r"^\(console\) (\w+day \d+ \w+, \d\d:\d\d) UTC$", tail, re.M)
    assert moments, tail
    parsed = [datetime.strptime(f"{m} 2030", "%A %d %b, %H:%M %Y") for m in moments]
    assert parsed == sorted(parsed) and len(set(parsed)) == len(parsed)
    assert parsed[-1] <= datetime(2030, 6, 11, 15, 0)


def moment_before(printed: str, position: int) -> str:
    """The /wait stop a printed line came at."""
    return re.findall(r"^\(console\) (\w+day \d+ \w+, \d\d:\d\d UTC)$", printed[:position],
                      re.M)[-1]


async def test_a_close_happens_when_the_reminder_said_it_would(sqlite_url):
    # Resolved on Friday: the reminder goes out when due and names the close time; the
    # close then comes at exactly that time, not at the end of the wait.
    printed = await play(sqlite_url, "My VPN keeps dropping\n/as agent\n/ticket claim 1\n"
                                     "/ticket resolve 1 Replaced the cable\n/wait 6d\n",
                         start=FRIDAY)
    reminder = printed.find("Has #1 been solved for you?")
    closed = printed.find("We've closed #1")
    assert 0 <= reminder < closed, printed
    day, time = re.search(r"we'll close it (\w+day) at (\d\d:\d\d) UTC",
                          printed[reminder:]).groups()
    assert moment_before(printed, closed).startswith(day)
    assert f", {time} UTC" in moment_before(printed, closed)
    assert not moment_before(printed, reminder).startswith(day)


async def test_wait_on_its_own_still_lets_the_time_pass(sqlite_url):
    # Friday 15:00 and two hours pass with nothing due: at 17:00 the desk has closed.
    printed = await play(sqlite_url, "/wait 2h\nMy VPN keeps dropping\n", start=FRIDAY)
    assert "(console) 2h pass…" in printed
    assert "The desk is closed right now and opens Monday at 09:00 UTC" in printed, printed
