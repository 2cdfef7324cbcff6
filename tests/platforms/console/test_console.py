"""The console adapter, scripted through the real App on a fresh SQLite file."""

from __future__ import annotations

import io

from bot.app import App, run_app
from bot.settings import Settings
from tests.flows.story import MONDAY
from tests.support.console import play


async def test_a_piped_message_is_acknowledged_with_the_ticket_number(sqlite_url):
    printed = await play(sqlite_url, "My VPN keeps dropping\n")
    assert "#1" in printed and "Alex" in printed and "My VPN keeps dropping" in printed


async def test_the_desk_remembers_between_runs(sqlite_url):
    await play(sqlite_url, "First problem\n")
    printed = await play(sqlite_url, "Second problem\n/press Something new\n")
    assert "You already have #1 open" in printed
    assert "I've opened ticket #2" in printed


async def test_help_lists_the_console_commands(sqlite_url):
    printed = await play(sqlite_url, "/help\n")
    for command in ("/as", "/wait", "/thread", "/press", "/ticket help", "/quit"):
        assert command in printed


async def test_switching_persona_makes_an_agent_of_the_desk(sqlite_url):
    printed = await play(sqlite_url, "/as agent Sam\n/as admin\n/helpdesk show\n")
    assert "You are now Sam, an agent." in printed
    assert "Agents: Sam" in printed


async def test_a_bad_persona_and_unknown_console_commands_get_usage(sqlite_url):
    printed = await play(sqlite_url, "/as wizard\n/teleport\n/wait forever\n")
    assert "Usage: /as requester|agent|admin" in printed
    assert "(console) I don't know /teleport. Type /help for the list." in printed
    assert "Usage: /wait <duration>" in printed


async def test_a_mistyped_command_names_the_one_meant(sqlite_url):
    printed = await play(sqlite_url, "/tikcet mine\n/helpdsek show\n/wiat 2h\n")
    assert "(console) I don't know /tikcet. Did you mean /ticket? Type /help" in printed
    assert "(console) I don't know /helpdsek. Did you mean /helpdesk?" in printed
    assert "(console) I don't know /wiat. Did you mean /wait?" in printed


async def test_wait_moves_the_clock(sqlite_url):
    out = io.StringIO()
    app = App(Settings(database_url=sqlite_url), console=True, stdin=io.StringIO("/wait 2h\n"),
              stdout=out)
    before = app.clock.now()
    await run_app(app)
    assert (app.clock.now() - before).total_seconds() >= 7200
    assert "2h pass" in out.getvalue()


async def test_thread_replies_attach_to_the_ticket(sqlite_url):
    printed = await play(sqlite_url, "Printer on floor 2 is jammed\n/thread 1 It shows error E4\n"
                                     "/thread 9 hello\n")
    assert printed.count("I've opened ticket") == 1  # the reply opened no second ticket
    assert "Usage: /thread <ticket number> <text>" in printed


async def test_quit_stops_reading(sqlite_url):
    printed = await play(sqlite_url, "/quit\nThis line is never read\n")
    assert "#1" not in printed


async def test_undecodable_bytes_escapes_and_nuls_on_stdin_break_nothing(sqlite_url):
    """Bytes that are not UTF-8 are read as replacement characters (a line of nothing
    else opens no ticket); escape sequences and NULs typed are never printed back."""
    raw = (b"\xff\xfe\xfd\n"
           b"\x00\x00\n"
           b"\xe2\x80\x8b\n"  # a zero-width space alone
           b"Printer \xff jammed \x1b[2J\x1b]0;owned\x07again\x00\n"
           b"/thread \xc2\xb2 hello\n"
           b"/thread 99999999999999999999999 hello\n"
           b"/ticket show 1\n")
    out = io.StringIO()
    stdin = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8")  # errors="strict"
    app = App(Settings(database_url=sqlite_url), console=True, stdin=stdin, stdout=out)
    await run_app(app)
    printed = out.getvalue()
    assert "I've opened ticket #1" in printed and "#2" not in printed
    assert "Printer \ufffd jammed again" in printed
    assert "\x1b" not in printed and "\x00" not in printed
    assert printed.count("Usage: /thread <ticket number> <text>") == 2


async def test_a_database_that_goes_away_mid_session_does_not_end_the_console(sqlite_url):
    """A tick that cannot reach the database (here: it fails once) is said in one line;
    the console keeps reading, and what was recorded goes out at the next tick."""
    out = io.StringIO()
    app = App(Settings(database_url=sqlite_url), console=True,
              stdin=io.StringIO("My VPN keeps dropping\n/ticket show 1\n"), stdout=out)
    real_settle = app.console.settle
    failures = iter([ConnectionError("connection was closed in the middle of operation")])

    async def settle_failing_once() -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        await real_settle()

    app.console.settle = settle_failing_once
    await run_app(app)
    printed = out.getvalue()
    assert "The desk could not reach its database just now" in printed
    assert "I've opened ticket #1" in printed  # recorded before the tick failed; sent after
    assert "My VPN keeps dropping" in printed.split("could not reach its database")[1]


async def test_press_reaches_each_open_question_and_no_held_message_is_lost(sqlite_url):
    # Issue 14: two questions in a row; /press reached only the newest, so the second
    # press met silence and the first held message was never filed.
    printed = await play(sqlite_url, "Wifi is down\nAlso the keyboard is missing keys\n"
                         "And the mouse is dead\n/press Same issue (#1)\n"
                         "/press Same issue (#1)\n/press Something new\n"
                         "/as agent\n/ticket show 1\n")
    assert printed.count("Thanks, I've added that to #1.") == 2
    assert "You've already answered that one: that message is in #1." in printed
    shown = printed[printed.rindex("#1 · Wifi is down"):]
    assert "Alex wrote: “And the mouse is dead”" in shown
    assert "Alex wrote: “Also the keyboard is missing keys”" in shown


async def test_the_consoles_admin_hears_of_an_escalation_with_no_leads(sqlite_url):
    printed = await play(sqlite_url, "Wifi is down\n/as agent\n"
                         "/ticket escalate 1 customer is the CEO\n")
    assert ("[DM with Morgan · ticket #1] Help Desk:\n  Sam asked for a lead on #1 from Alex "
            "(“customer is the CEO”), but the desk has no leads yet") in printed
    assert "I've told the admins" in printed


async def test_a_person_not_played_in_this_run_is_labelled_by_name(sqlite_url):
    # Issue 14: "[DM with kim · ticket #1]" while the desk says "Kim".
    await play(sqlite_url, "Wifi is down\n/as agent Kim\n/ticket claim 1\n", start=MONDAY)
    printed = await play(sqlite_url, "/wait 8h\n", start=MONDAY)
    assert "[DM with Kim · ticket #1] Help Desk:" in printed
    assert "DM with kim" not in printed


async def test_an_agent_from_an_earlier_run_is_not_added_again(sqlite_url):
    # Issue 14: every run printed "Morgan ... adds Sam" then "Sam is already an agent".
    await play(sqlite_url, "/as agent\n")
    printed = await play(sqlite_url, "/as agent\n/ticket queue\n")
    assert printed.startswith("(console) You are now Sam, an agent.\n[only Sam sees this]")
    assert "adds Sam" not in printed and "already" not in printed
