"""What the console prints: never a raw control character, long text whole and wrapped."""

from __future__ import annotations

import re
from pathlib import Path

from bot.core import Button, OutboundMessage
from bot.platforms.console.render import clean, render
from tests.support.console import play

# Everything a terminal would act on rather than show: C0 controls but newline and
# tab, DEL, C1 controls (0x9b is a one-byte CSI), and bidi overrides.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = ("Printer \x1b[2J\x1b]0;owned\x07 jammed\x9b31m\r\n"
           "second\tline\x00\x08\x7f \u202eevil\u202c")


def message(text: str, **extra) -> OutboundMessage:
    return OutboundMessage(channel_id="dm-alex", text=text, ticket_number=1, **extra)


def test_control_characters_are_shown_escaped_never_raw():
    printed = render(message(HOSTILE, title="T\x1b[1m", fields=(("F\x07", "v\x1b"),),
                             buttons=(Button("Ok\x1b[5m", "ok"),)))
    assert not RAW.search(printed), repr(printed)
    assert "\\x1b[2J" in printed and "\\x07" in printed and "\\x9b" in printed
    assert "\\u202e" in printed
    # Newlines and tabs stay what they are; a carriage return is a line break.
    assert "jammed\\x9b31m\n  second\tline" in printed


def test_clean_keeps_ordinary_text_as_it_is():
    text = "Café ☕ naïve — “quotes” <@alex> #1\n\tindented"
    assert clean(text) == text


async def test_what_a_person_types_reaches_the_terminal_escaped(sqlite_url):
    script = f"{HOSTILE}\n/as agent Sam\x1b[2J\n/teleport\x1b[2J\n/press Yes\x1b]0;x\x07\n"
    printed = await play(sqlite_url, script)
    assert "opened ticket #1" in printed
    assert not RAW.search(printed), repr(printed)


def test_long_text_is_printed_whole():
    words = [f"w{i:04d}" for i in range(2000)]
    printed = render(message(" ".join(words)))
    assert re.findall(r"w\d{4}", printed) == words


def test_at_a_terminal_long_lines_wrap_at_words_and_never_inside_a_link():
    url = "https://example.com/a/very/long/path/that/must/stay/whole?x=1&y=2"
    text = " ".join(["word"] * 40) + f" see {url} " + " ".join(["more"] * 30)
    printed = render(message(text), width=40)
    body = printed.splitlines()[1:]
    assert all(len(line) <= 40 or url in line for line in body), printed
    assert any(url in line for line in body)
    assert re.findall(r"\w+", " ".join(body)) == re.findall(r"\w+", text)
    assert all(line.startswith("  ") for line in body)


async def test_a_long_reply_reaches_the_requester_whole(sqlite_url):
    words = [f"w{i:05d}" for i in range(1_700)]  # about 12,000 characters
    script = f"My VPN keeps dropping\n/as agent\n/ticket reply 1 {' '.join(words)}\n"
    relayed = (await play(sqlite_url, script)).split("Sam: ", 1)[1]
    assert re.findall(r"w\d{5}", relayed) == words


def test_a_mention_shows_the_name_it_carries_or_the_persona_s_name():
    printed = render(message("Ask <@u9|Carol> or <@kim> in <#triage|triage>"),
                     names={"kim": "Kim", "alex": "Alex"})
    assert "Ask @Carol or @Kim in #triage" in printed and "[DM with Alex · ticket #1]" in printed


def test_a_dm_to_someone_not_played_this_run_is_labelled_with_their_name():
    # After a restart the console has met nobody yet; a queued DM still names a person.
    printed = render(OutboundMessage(channel_id="dm-ana-maría", text="Hello", ticket_number=1))
    assert printed.startswith("[DM with Ana María · ticket #1] Help Desk:")
    named = render(OutboundMessage(channel_id="dm-sam", text="Hi"), names={"sam": "Sam"})
    assert named.startswith("[DM with Sam] Help Desk:")


async def test_the_buttons_listed_for_a_missed_press_are_each_quoted(sqlite_url):
    # Labels hold commas ("No, not yet"): unquoted, the list cannot be read.
    printed = await play(sqlite_url, "My VPN keeps dropping\n/as agent Sam\n"
                                     "/ticket resolve 1 Replaced the cable\n/as requester\n"
                                     "/press Maybe\n")
    line = next(line for line in printed.splitlines() if "Buttons you can see" in line)
    listed = line.split("Buttons you can see: ", 1)[1].rstrip(".")
    assert listed.startswith("“") and listed.endswith("”"), line
    labels = listed[1:-1].split("”, “")
    assert "No, not yet" in labels and "Yes, it's solved" in labels, line


def test_a_file_is_shown_by_name_and_size_not_by_its_bytes():
    from bot.core import Attachment
    printed = render(message("Here's the transcript of #1", attachments=(
        Attachment("ticket-1.html", "text/html", "<p>é</p>" + "x" * 2000),
        Attachment("evil\x1b[2J.md", "text/markdown", "# hi"))))
    assert "[file: ticket-1.html, 2,009 bytes]" in printed
    assert "<p>" not in printed and not RAW.search(printed)
    assert "[file: evil\\x1b[2J.md, 4 bytes]" in printed


async def test_the_console_writes_a_transcript_where_it_says(sqlite_url, tmp_path):
    """Finding 15: in the console a transcript can be opened: its files are written
    to a folder the console names, and each line says where."""
    folder = tmp_path / "transcripts"
    printed = await play(sqlite_url, "My VPN keeps dropping\n/ticket transcript 1\n",
                         files_dir=folder)
    saved = re.findall(r"\[file: (ticket-1\.(?:html|md)), [\d,]+ bytes\] saved as (\S+)",
                       printed)
    assert {name for name, _ in saved} == {"ticket-1.html", "ticket-1.md"}, printed
    for name, path in saved:
        written = Path(path)
        assert written.parent == folder and written.name.endswith(name)
        assert "My VPN keeps dropping" in written.read_text(encoding="utf-8")
