"""Structured logs (issue 17): JSON lines that carry the ids of what the desk was doing,
secrets masked in both formats, and never what people wrote at INFO."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.logs import JsonFormatter, TextFormatter, bound, formatter
from bot.settings import SettingsError, load_settings, mask
from tests.flows.story import FlowDesk

SECRET = "xoxb-very-secret-token"


class _Capture(logging.Handler):
    """Every record the root logger sees, formatted by ``line_format``."""

    def __init__(self, line_format: logging.Formatter) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(line_format)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured(request):
    """Root-logger lines in the format the test asks for (``json`` by default)."""
    def start(kind: str = "json", level: int = logging.DEBUG) -> _Capture:
        handler = _Capture(formatter(kind, lambda text: mask(text, (SECRET,))))
        root = logging.getLogger()
        before = root.level
        root.addHandler(handler)
        root.setLevel(level)
        request.addfinalizer(lambda: (root.removeHandler(handler), root.setLevel(before)))
        return handler
    return start


def test_a_json_line_parses_and_carries_the_bound_ids():
    record = logging.LogRecord("bot.desk", logging.INFO, __file__, 1, "opened ticket #%d",
                               (7,), None)
    with bound(workspace=3, event="Ev1"), bound(ticket=41):
        line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "opened ticket #7"
    assert (entry["level"], entry["logger"]) == ("INFO", "bot.desk")
    assert (entry["workspace"], entry["event"], entry["ticket"]) == (3, "Ev1", 41)
    assert entry["time"].endswith("+00:00")
    # Outside the blocks nothing stays bound.
    assert "ticket" not in json.loads(JsonFormatter().format(record))


def test_a_secret_is_masked_in_json_and_in_text_tracebacks_included():
    try:
        raise ConnectionError("could not connect to postgresql://desk:pw-in-url@db/desk")
    except ConnectionError:
        record = logging.LogRecord("bot", logging.ERROR, __file__, 1, "token %s failed",
                                   (SECRET,), sys.exc_info())
    redact = lambda text: mask(text, (SECRET,))  # noqa: E731
    for line in (JsonFormatter(redact).format(record), TextFormatter(redact).format(record)):
        assert "ConnectionError" in line and "token *** failed" in line
        assert SECRET not in line and "pw-in-url" not in line
    entry = json.loads(JsonFormatter(redact).format(record))
    assert "ConnectionError" in entry["exception"]


def test_text_lines_end_with_the_bound_ids():
    record = logging.LogRecord("bot", logging.INFO, __file__, 1, "sent", (), None)
    with bound(outbox=9, ticket=None):
        line = TextFormatter().format(record)
    assert line.endswith("INFO bot: sent outbox=9")


async def test_lines_logged_while_the_desk_works_carry_its_ids(sqlite_url, captured):
    handler = captured("json")
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", "The VPN drops every few minutes")
        ticket = await desk.ticket(1)
    entries = [json.loads(line) for line in handler.lines]
    [opened] = [e for e in entries if e["message"].startswith("opened ticket #1")]
    assert opened["ticket"] == ticket.id and opened["workspace"] == ticket.workspace_id
    assert opened["platform"] == "test" and opened["event"]
    sent = [e for e in entries if e["message"].startswith("sent outbox row")]
    assert sent and all(e["workspace"] == ticket.workspace_id and e["outbox"] for e in sent)
    assert any(e.get("ticket") == ticket.id for e in sent)


async def test_no_message_body_at_info_when_a_ticket_opens_and_is_replied_to(sqlite_url,
                                                                          captured):
    handler = captured("json", logging.INFO)
    body, reply, note = "zebra-wifi-body", "quokka-reply-body", "walrus-note-body"
    async with FlowDesk(sqlite_url) as desk:
        await desk.staffed()
        await desk.dm("ann", f"My {body} keeps dropping")
        await desk.command("sam", f"ticket reply 1 Try this: {reply}")
        await desk.command("sam", f"ticket note 1 {note}")
        await desk.requester_says("ann", 1, f"Still {body}")
        assert any(reply in text for text in desk.texts())  # the desk did say it
    assert handler.lines, "the desk logged nothing at INFO"
    for line in handler.lines:
        for words in (body, reply, note):
            assert words not in line


@pytest.mark.parametrize("raw, expected", [("json", "json"), ("TEXT", "TEXT"), (" json ", "json")])
def test_the_log_format_is_text_or_json(raw, expected):
    assert load_settings({"HELPDESK_LOG_FORMAT": raw}, env_file=None).log_format == expected
    assert load_settings({}, env_file=None).log_format == "text"


def test_another_log_format_is_refused_by_name():
    with pytest.raises(SettingsError, match=r"HELPDESK_LOG_FORMAT.*\('yaml'\).*text or json"):
        load_settings({"HELPDESK_LOG_FORMAT": "yaml"}, env_file=None)


def test_the_formatter_follows_the_setting():
    assert isinstance(formatter("json"), JsonFormatter)
    assert isinstance(formatter("TEXT"), TextFormatter)
