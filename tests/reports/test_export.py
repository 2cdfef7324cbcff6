"""Exports: the tickets of a period as CSV and JSON lines, the figures as CSV, and the
``helpdesk-bot export tickets`` command line."""

from __future__ import annotations

import csv
import io
import json

from sqlalchemy import update

from bot.reports import ReportFilter, compute_figures
from bot.reports.export import figures_csv, safe_cell, ticket_rows, write_tickets
from bot.storage.tables import TicketRow
from tests.reports.test_figures import CALENDAR, END, NOW, START
from tests.test_cli import assert_one_line_error, cli, sqlite_url


async def _export(db, filt, fmt) -> tuple[int, str]:
    out = io.StringIO()
    async with db.reading() as uow:
        count = await write_tickets(ticket_rows(uow, filt, NOW, CALENDAR), out, fmt)
    return count, out.getvalue()


async def test_tickets_as_csv_with_business_times_and_ratings(history):
    db, ids = history
    async with db.unit_of_work() as uow:  # a requester's words that look like a formula
        await uow.session.execute(update(TicketRow).where(TicketRow.number == 5,
                                                          TicketRow.workspace_id == ids["ws"])
                                  .values(subject='=HYPERLINK("http://x","click")'))
    count, text = await _export(db, ReportFilter(ids["ws"], START, END), "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert count == 4 and [r["number"] for r in rows] == ["2", "5", "6", "4"]
    t5 = rows[1]
    assert t5["subject"] == "'=HYPERLINK(\"http://x\",\"click\")"
    assert (t5["first_response_business_s"], t5["resolution_business_s"]) == ("3600", "7200")
    assert (t5["rating"], t5["owner"], t5["requester"]) == ("4", "Ann", "Rita")
    assert rows[3]["owner"] == "" and rows[3]["first_response_at"] == ""


async def test_tickets_as_json_lines(history):
    db, ids = history
    count, text = await _export(db, ReportFilter(ids["ws"], START, END, priority="P1"), "jsonl")
    [line] = text.splitlines()
    ticket = json.loads(line)
    assert count == 1 and ticket["number"] == 2
    assert ticket["resolution_business_s"] == 13 * 3600  # Monday 09:00 to Tuesday 14:00


async def test_figures_as_csv(history):
    db, ids = history
    async with db.reading() as uow:
        figures = await compute_figures(uow, ReportFilter(ids["ws"], START, END), NOW,
                                        calendar=CALENDAR)
    rows = list(csv.reader(io.StringIO(figures_csv(figures))))
    assert rows[0] == ["section", "item", "measure", "value"]
    table = {(s, i, m): v for s, i, m, v in rows[1:]}
    assert table[("tickets", "all", "opened")] == "4"
    assert table[("first_response", "all", "median_s")] == "3150.0"
    assert table[("promises", "all", "covered")] == "1"
    assert table[("csat", "rating_5", "count")] == "1"
    assert table[("backlog", "3_7d", "count")] == "1"
    assert table[("agent", "Sam", "promises_kept")] == "1"


def test_a_formula_is_never_written_as_one():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "plain", None, 3)] == \
        ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "plain", "", 3]


def test_the_command_line_exports_what_the_console_opened(tmp_path):
    url = sqlite_url(tmp_path / "x.sqlite3")
    assert cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n",
               HELPDESK_DATABASE_URL=url).returncode == 0
    result = cli(tmp_path, "export", "tickets", "--since", "2020-01-01", "--format", "jsonl",
                 HELPDESK_DATABASE_URL=url)
    assert result.returncode == 0, result.stderr
    [ticket] = [json.loads(line) for line in result.stdout.splitlines()]
    assert ticket["number"] == 1 and ticket["subject"] == "My VPN keeps dropping"
    assert "exported 1 ticket(s)" in result.stderr
    out = tmp_path / "t.csv"
    result = cli(tmp_path, "export", "tickets", "--since", "2020-01-01", "--output", str(out),
                 HELPDESK_DATABASE_URL=url)
    assert result.returncode == 0 and out.read_text().startswith("number,status,")
    bad = cli(tmp_path, "export", "tickets", "--since", "2020-13-01", HELPDESK_DATABASE_URL=url)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert len(bad.stderr.splitlines()) == 1 and bad.stderr.startswith("helpdesk-bot: ")


async def test_a_ticket_answered_after_the_period_keeps_its_real_durations(history):
    """Finding 2: a period ending before a ticket's answer or resolution used to clamp the
    business clock to its end and read 0 (a perfect score); the figure is the ticket's own."""
    db, ids = history
    monday_noon = START.replace(hour=12)
    out = io.StringIO()
    async with db.reading() as uow:  # T2 (P1) opened Monday 09:00, resolved Tuesday 14:00
        await write_tickets(ticket_rows(uow, ReportFilter(ids["ws"], START, monday_noon,
                                                          priority="P1"),
                                        monday_noon, CALENDAR), out, "jsonl")
    [ticket] = [json.loads(line) for line in out.getvalue().splitlines()]
    assert ticket["first_response_business_s"] == 30 * 60
    assert ticket["resolution_business_s"] == 13 * 3600


def test_the_command_line_says_what_is_wrong_and_never_a_traceback(tmp_path):
    """Findings 1 and 8: far days, a bad --output, a --since after now, no database."""
    url = sqlite_url(tmp_path / "x.sqlite3")
    assert cli(tmp_path, "run", "--console", input="My VPN keeps dropping\n",
               HELPDESK_DATABASE_URL=url).returncode == 0
    far = cli(tmp_path, "export", "tickets", "--since", "1900-01-01", "--until", "9999-12-31",
              HELPDESK_DATABASE_URL=url)
    assert far.returncode == 0 and "Traceback" not in far.stderr, far.stderr
    assert len(far.stdout.splitlines()) == 2  # the header and ticket 1
    for since in ("0001-01-01", "9999-12-31"):
        edge = cli(tmp_path, "export", "tickets", "--since", since, "--until", "9999-12-31",
                   HELPDESK_DATABASE_URL=url, HELPDESK_TIMEZONE="Asia/Tokyo")
        assert "Traceback" not in edge.stderr, edge.stderr
    nowhere = cli(tmp_path, "export", "tickets", "--since", "2020-01-01", "--output",
                  str(tmp_path / "missing" / "x.csv"), HELPDESK_DATABASE_URL=url)
    line = assert_one_line_error(nowhere, 2)
    assert "does not exist" in line and "database" not in line
    future = cli(tmp_path, "export", "tickets", "--since", "2999-01-01",
                 HELPDESK_DATABASE_URL=url)
    line = assert_one_line_error(future, 2)
    assert "after now" in line and "--until is before" not in line
    dash = cli(tmp_path, "export", "tickets", "--since", "2020-01-01", "--output", "-",
               HELPDESK_DATABASE_URL=url)
    assert dash.returncode == 0 and dash.stdout.startswith("number,")
    assert not (tmp_path / "-").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    none = cli(empty, "export", "tickets", "--since", "2020-01-01")
    line = assert_one_line_error(none, 2)
    assert "no database" in line and list(empty.iterdir()) == []
