"""/healthz, /readyz and /metrics over real HTTP from ``helpdesk-bot run`` in its own
process (the console, with HELPDESK_HTTP_PORT set): alive, ready, the numbers moving
as a ticket opens and its promise lapses, and not ready, naming the database, when the
database goes away (a SQLite file removed; PostgreSQL behind a proxy that closes)."""

from __future__ import annotations

import json
import os

import pytest

from tests.support.discord.server import FakeDiscord
from tests.support.databases import own_database
from tests.web.process import DeskProcess, TcpProxy


async def readiness(desk: DeskProcess) -> tuple[int, dict]:
    status, body = await desk.get("/readyz")
    return status, json.loads(body)


async def test_a_console_desk_with_a_port_is_alive_ready_and_counts(tmp_path):
    async with DeskProcess(tmp_path, "--console",
                           HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}") as desk:
        assert await desk.get("/healthz") == (200, "ok")
        status, body = await readiness(desk)
        # A piped console ticks line by line, so no background ticker is asked about.
        assert (status, body) == (200, {"ready": True, "problems": {},
                                        "ok": ["database", "console"]})
        assert await desk.metric("helpdesk_tickets_opened_total", platform="console") == 0
        assert await desk.metric("helpdesk_outbox_pending") == 0
        assert await desk.metric("helpdesk_promises_open", kind="first_response") == 0

        await desk.say("My VPN keeps dropping")

        async def opened() -> bool:
            return await desk.metric("helpdesk_tickets_opened_total", platform="console") == 1
        await desk.until(opened, "the ticket to be counted")
        assert await desk.metric("helpdesk_events_total", platform="console", kind="message") >= 1
        assert await desk.metric("helpdesk_promises_open", kind="first_response") == 1
        assert await desk.metric("helpdesk_deliveries_total", platform="console",
                                 outcome="sent") >= 1
        assert await desk.metric("helpdesk_handler_seconds_count", route="message") >= 1
        assert await desk.metric("helpdesk_tick_seconds_count") >= 1
        assert await desk.metric("helpdesk_promises_lapsed_total",
                                 kind="first_response") is None

        # Nobody answers for a week (whatever day the test runs, that spans the reply
        # time): the first-response promise lapses and the desk covers it.
        await desk.say("/wait 7d")

        async def lapsed() -> bool:
            return (await desk.metric("helpdesk_promises_lapsed_total",
                                      kind="first_response") or 0) >= 1
        await desk.until(lapsed, "the lapse to be counted")
        assert await desk.metric("helpdesk_promises_kept_total", kind="first_response",
                                 by="bot") >= 1
        assert await desk.metric("helpdesk_tickets_opened_total", platform="console") == 1


async def test_a_removed_sqlite_file_makes_the_desk_not_ready_naming_the_database(tmp_path):
    database = tmp_path / "desk.sqlite3"
    async with DeskProcess(tmp_path, "--console", HELPDESK_DATABASE_URL=f"sqlite:///{database}"
                           ) as desk:
        assert (await readiness(desk))[0] == 200
        # The desk would go on writing into a file nobody can open again.
        os.rename(database, tmp_path / "moved.sqlite3")
        status, body = await readiness(desk)
        assert status == 503 and body["ready"] is False
        assert body["problems"] == {"database": f"the SQLite database file {database} is gone"}
        assert "console" in body["ok"]
        assert await desk.get("/healthz") == (200, "ok")  # still alive, just not ready
        # The old file still answers, but its numbers are left out, as when the database
        # does not answer: that is what the "database unanswered" alert looks for.
        status, scraped = await desk.get("/metrics")
        assert status == 200 and "helpdesk_outbox_pending " not in scraped
        assert "helpdesk_deliveries_total" in scraped  # the process's own counters stay
        await readiness(desk)
        # Said once, as an ERROR naming the file, however often it is asked after.
        logged = (tmp_path / "helpdesk-console.log").read_text(encoding="utf-8")
        assert logged.count(f"the SQLite database file {database} is gone") == 1
        assert "ERROR" in logged
        os.rename(tmp_path / "moved.sqlite3", database)
        assert (await readiness(desk))[0] == 200
        assert "helpdesk_outbox_pending " in (await desk.get("/metrics"))[1]


@pytest.fixture
async def own_postgres(postgres_url):
    """A PostgreSQL database of this test's own (the desk migrates it itself)."""
    async with own_database(postgres_url, "readyz") as url:
        yield url


async def test_a_stopped_postgres_makes_the_desk_not_ready_naming_the_database(
        tmp_path, own_postgres):
    proxy = await TcpProxy(own_postgres.host or "127.0.0.1", own_postgres.port or 5432).open()
    through = own_postgres.set(host="127.0.0.1", port=proxy.port)
    secret = own_postgres.password or ""
    try:
        async with DeskProcess(tmp_path, "--console", HELPDESK_DATABASE_URL=through
                               .render_as_string(hide_password=False)) as desk:
            assert (await readiness(desk))[0] == 200
            await desk.say("My VPN keeps dropping")

            async def opened() -> bool:
                return await desk.metric("helpdesk_tickets_opened_total",
                                         platform="console") == 1
            await desk.until(opened, "the ticket to be counted")
            await proxy.close()  # the database stops answering
            status, body = await readiness(desk)
            assert status == 503 and list(body["problems"]) == ["database"]
            assert body["problems"]["database"].startswith("the database did not answer")
            assert not secret or secret not in json.dumps(body)
            # The counters are still served; the gauges read from the database are left
            # out rather than shown stale.
            status, text = await desk.get("/metrics")
            assert status == 200 and "helpdesk_tickets_opened_total" in text
            assert "helpdesk_outbox_pending" not in text
            await proxy.open()  # back: ready again
            assert (await readiness(desk))[0] == 200
    finally:
        await proxy.close()


async def test_a_discord_desk_is_ready_once_its_gateway_is_up_and_not_when_it_drops(tmp_path):
    fake = await FakeDiscord().start()
    alex = fake.add_user("Alex")
    fake.add_member(fake.add_guild("Acme"), alex)  # the desk hears DMs from its guilds' people
    try:
        async with DeskProcess(tmp_path, HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'd.sqlite3'}",
                               DISCORD_BOT_TOKEN="fake-token", DISCORD_API_URL=fake.api_url,
                               DISCORD_GATEWAY_URL=fake.gateway_url) as desk:
            async def ready() -> bool:
                return (await readiness(desk))[0] == 200
            await desk.until(ready, "the desk to be ready")
            status, body = await readiness(desk)
            assert body["ok"] == ["database", "discord", "ticker"]

            fake.dm(alex, "My VPN keeps dropping")

            async def opened() -> bool:
                return await desk.metric("helpdesk_tickets_opened_total",
                                         platform="discord") == 1
            await desk.until(opened, "the Discord ticket to be counted")
            assert await desk.metric("helpdesk_events_total", platform="discord",
                                     kind="message") == 1

            await fake.stop()  # Discord goes away: the gateway connection drops

            async def dropped() -> bool:
                return (await readiness(desk))[0] == 503
            await desk.until(dropped, "the desk to say it is not ready")
            status, body = await readiness(desk)
            assert body["problems"] == {"discord": "not connected"}
            assert await desk.get("/healthz") == (200, "ok")
    finally:
        await fake.stop()


def test_a_port_already_taken_is_one_line_naming_the_setting(tmp_path):
    import socket
    import subprocess
    import sys

    from tests.test_cli import assert_one_line_error, clean_env

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--console"], cwd=tmp_path,
            env=clean_env(HELPDESK_HTTP_HOST="127.0.0.1", HELPDESK_HTTP_PORT=str(port),
                          HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'd.sqlite3'}"),
            input="", capture_output=True, text=True, timeout=60)
    line = assert_one_line_error(result, 2)
    assert line.startswith(f"helpdesk-bot: the web server cannot listen on 127.0.0.1:{port} (")
    assert "HELPDESK_HTTP_PORT" in line
