"""The console's cast: who is who is said plainly, and names stay names."""

from __future__ import annotations

import logging

import pytest

from tests.support.console import play


@pytest.fixture
def root_logger():
    """The root logger, its handlers and level put back after the test (the handlers it
    added closed)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield root
    for handler in root.handlers:
        if handler not in saved[0]:
            handler.close()
    root.handlers[:], root.level = saved


async def test_the_admin_who_adds_an_agent_is_introduced_first(sqlite_url):
    printed = await play(sqlite_url, "/as agent\n/as requester\n/as agent\n")
    intro = "(console) Morgan, the console's admin, adds Sam to the desk's agents:"
    done = "[only Morgan sees this] Help Desk:\n  Done: Sam can now work the desk as an agent."
    assert printed.count(intro) == 1, printed
    assert printed.index(intro) < printed.index(done)
    # Switching back to Sam later changes nothing and says nothing more about it.
    assert printed.count("Done: Sam") == 1, printed


async def test_an_agent_removed_by_an_admin_is_added_again_when_played(sqlite_url):
    printed = await play(sqlite_url, "/as agent Kim\n/as admin\n/helpdesk agents remove @kim\n"
                                     "/as agent Kim\n")
    assert printed.count("adds Kim to the desk's agents") == 2, printed


async def test_a_persona_name_is_a_plain_name(sqlite_url):
    printed = await play(sqlite_url, "/as agent <@U123>\n/as agent Ana María\n/helpdesk show\n")
    assert "<@U123" not in printed.replace("/as agent <@U123>", "")
    assert "Usage: /as requester|agent|admin [name]" in printed
    assert "You are now Ana María, an agent." in printed
    assert "Done: Ana María can now work the desk as an agent." in printed


def test_logs_go_to_a_file_and_errors_get_one_line(tmp_path, capsys, root_logger):
    from bot.platforms.console.logs import log_to_file
    path = tmp_path / "helpdesk-console.log"
    log_to_file(path, "WARNING")
    logging.getLogger("bot.outbox.dispatcher").warning("a warning nobody asked to read")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("bot.ticker").exception("the scheduler tick failed")
    for handler in root_logger.handlers:
        handler.flush()
    err = capsys.readouterr().err
    assert "a warning nobody asked to read" not in err
    assert err.splitlines() == [f"helpdesk-bot: error: the scheduler tick failed (details in {path})"]
    logged = path.read_text()
    assert "a warning nobody asked to read" in logged and "RuntimeError: boom" in logged


async def test_people_are_named_where_the_console_shows_who_sees_what(sqlite_url):
    printed = await play(sqlite_url, "My VPN keeps dropping\n/as agent Kim\n/ticket claim 1\n"
                                     "/as admin\n/helpdesk agents add <@u9|Carol> <@kim>\n")
    assert "[DM with Alex · ticket #1]" in printed
    assert "[only Kim sees this]" in printed and "[only Morgan sees this]" in printed
    assert "only kim sees" not in printed and "only morgan sees" not in printed


def test_the_console_log_masks_secrets_in_the_file_and_on_stderr(tmp_path, capsys,
                                                                 root_logger):
    from bot.platforms.console.logs import log_to_file
    path = tmp_path / "helpdesk-console.log"
    log_to_file(path, "WARNING", redact=lambda line: line.replace("hunter2", "***"))
    logging.getLogger("bot.storage").error("cannot connect to postgresql://desk:hunter2@db/x")
    for handler in root_logger.handlers:
        handler.flush()
    assert "hunter2" not in capsys.readouterr().err
    logged = path.read_text()
    assert "postgresql://desk:***@db/x" in logged and "hunter2" not in logged


def test_an_unwritable_working_folder_sends_the_log_beside_the_database(tmp_path, capsys,
                                                                        root_logger):
    # The image's working folder /app is root's; the desk (uid 10001) writes /app/data.
    from bot.platforms.console.logs import log_to_file
    unwritable = tmp_path / "no-such-folder" / "helpdesk-console.log"
    data = tmp_path / "data" / "helpdesk-console.log"
    data.parent.mkdir()
    assert log_to_file(unwritable, "WARNING", fallback=data) == data
    logging.getLogger("bot.outbox.dispatcher").warning("a warning worth keeping")
    for handler in root_logger.handlers:
        handler.flush()
    assert "a warning worth keeping" in data.read_text()


def test_with_no_folder_to_write_warnings_reach_stderr_rather_than_vanish(tmp_path, capsys,
                                                                          root_logger):
    from bot.platforms.console.logs import log_to_file
    nowhere = tmp_path / "no-such-folder" / "helpdesk-console.log"
    assert log_to_file(nowhere, "WARNING", fallback=nowhere) is None
    logging.getLogger("bot.outbox.dispatcher").warning("a warning worth keeping")
    assert capsys.readouterr().err.splitlines() == [
        "helpdesk-bot: warning: a warning worth keeping"]
