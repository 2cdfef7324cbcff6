"""A ticket's transcript as files: an HTML page that reads offline (its style inline,
nothing fetched) and the same in Markdown.

Built from the desk's own timeline (bot/desk/features/transcripts.py loads it and
decides what this person may see); this module only lays it out. Everything a person
wrote is escaped: in the HTML with ``html.escape`` (so ``<script>`` is text), in the
Markdown as a quoted block whose ``<``, ``>`` and ``&`` are entities (a renderer that
passes HTML through still shows text).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from bot.core import Attachment
from bot.templates import Templates

# A transcript holds at most this many timeline entries (the newest), so a ticket with
# an endless conversation still makes a file every platform accepts.
MAX_ENTRIES = 2000

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;color:#1a1a1a;max-width:48rem;margin:2rem auto;"
    "padding:0 1rem}h1{font-size:1.4rem}dl{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.2rem 1rem}dt{color:#4a4a4a}dd{margin:0}ol{list-style:none;padding:0}"
    "li{border-top:1px solid #ddd;padding:.5rem 0}.when{color:#4a4a4a;font-size:.85rem}"
    ".body{white-space:pre-wrap;margin:.3rem 0 0;padding:.4rem .6rem;background:#f4f4f4;"
    "border-radius:4px}.note .body{background:#fff4d6}.tag{font-size:.8rem;font-weight:600;"
    "color:#7a4b00}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25rem .5rem;"
    "text-align:left}footer{color:#4a4a4a;font-size:.85rem;margin-top:2rem}")


@dataclass(frozen=True)
class TranscriptEntry:
    """One line of the conversation: when, who, what they did, and what they wrote
    (``body``, shown whole) if it was a message; ``internal`` for a note."""

    when: str
    who: str
    what: str
    body: str = ""
    internal: bool = False


@dataclass(frozen=True)
class PromiseLine:
    """A promise the desk made on the ticket: what, by when, how it ended."""

    what: str
    due: str
    outcome: str


@dataclass
class Transcript:
    """Everything a transcript shows, already in words (the person's wording and time
    zone); the subject, names and bodies are as people wrote them, unescaped."""

    ref: str
    subject: str
    facts: list[tuple[str, str]]  # (label, value): status, owner, priority, opened...
    first_message: str
    entries: list[TranscriptEntry] = field(default_factory=list)
    promises: list[PromiseLine] = field(default_factory=list)
    total_entries: int = 0
    with_notes: bool = False
    made_at: str = ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def to_html(transcript: Transcript, words: Templates) -> str:
    """The transcript as one self-contained HTML page."""
    t = words.render
    out = ["<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           # Nothing in this page loads anything: no script, no remote style or image.
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
           "style-src 'unsafe-inline'\">",
           f"<title>{_e(t('transcript.title', ref=transcript.ref, subject=transcript.subject))}"
           "</title>", f"<style>{_STYLE}</style>", "</head>", "<body>",
           f"<h1>{_e(t('transcript.title', ref=transcript.ref, subject=transcript.subject))}</h1>"]
    if transcript.with_notes:
        out.append(f"<p class=\"tag\">{_e(t('transcript.with_notes'))}</p>")
    out.append("<dl>")
    for label, value in transcript.facts:
        out.append(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>")
    out.append("</dl>")
    out.append(f"<h2>{_e(t('transcript.first_message'))}</h2>")
    out.append(f"<div class=\"body\">{_e(transcript.first_message)}</div>")
    out.append(f"<h2>{_e(t('transcript.conversation'))}</h2>")
    if len(transcript.entries) < transcript.total_entries:
        out.append(f"<p>{_e(t('transcript.truncated', shown=len(transcript.entries), total=transcript.total_entries))}</p>")
    out.append("<ol>")
    for entry in transcript.entries:
        css = ' class="note"' if entry.internal else ""
        tag = f" <span class=\"tag\">{_e(t('transcript.internal'))}</span>" if entry.internal \
            else ""
        body = f"<div class=\"body\">{_e(entry.body)}</div>" if entry.body else ""
        out.append(f"<li{css}><span class=\"when\">{_e(entry.when)}</span>{tag}<br>"
                   f"<strong>{_e(entry.who)}</strong> {_e(entry.what)}{body}</li>")
    out.append("</ol>")
    out.append(f"<h2>{_e(t('transcript.promises'))}</h2>")
    if transcript.promises:
        out.append(f"<table><thead><tr><th>{_e(t('transcript.promise'))}</th>"
                   f"<th>{_e(t('transcript.due'))}</th><th>{_e(t('transcript.outcome'))}</th>"
                   "</tr></thead><tbody>")
        for line in transcript.promises:
            out.append(f"<tr><td>{_e(line.what)}</td><td>{_e(line.due)}</td>"
                       f"<td>{_e(line.outcome)}</td></tr>")
        out.append("</tbody></table>")
    else:
        out.append(f"<p>{_e(t('transcript.no_promises'))}</p>")
    out.append(f"<footer>{_e(t('transcript.made', at=transcript.made_at))}</footer>")
    out += ["</body>", "</html>", ""]
    return "\n".join(out)


def _md_text(text: str) -> str:
    """A person's words for Markdown: entities for ``&``, ``<`` and ``>`` (no HTML gets
    through a renderer), each line quoted."""
    safe = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\n".join("> " + line if line else ">" for line in safe.splitlines() or [""])


def _md_inline(text: str) -> str:
    """A short value (a name, a subject) on one line of Markdown, inert."""
    safe = " ".join(text.split())
    safe = safe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for mark in ("\\", "`", "*", "_", "[", "]", "#", "|"):
        safe = safe.replace(mark, "\\" + mark)
    return safe


def to_markdown(transcript: Transcript, words: Templates) -> str:
    """The transcript as Markdown."""
    t = words.render
    out = [f"# {_md_inline(t('transcript.title', ref=transcript.ref, subject=transcript.subject))}", ""]
    if transcript.with_notes:
        out += [f"**{t('transcript.with_notes')}**", ""]
    out += [f"- {_md_inline(label)}: {_md_inline(value)}" for label, value in transcript.facts]
    out += ["", f"## {t('transcript.first_message')}", "", _md_text(transcript.first_message), "",
            f"## {t('transcript.conversation')}", ""]
    if len(transcript.entries) < transcript.total_entries:
        out += [t("transcript.truncated", shown=len(transcript.entries),
                  total=transcript.total_entries), ""]
    for entry in transcript.entries:
        tag = f" ({t('transcript.internal')})" if entry.internal else ""
        out.append(f"- {_md_inline(entry.when)}{tag}: **{_md_inline(entry.who)}** "
                   f"{_md_inline(entry.what)}")
        if entry.body:
            out += ["", _md_text(entry.body), ""]
    out += ["", f"## {t('transcript.promises')}", ""]
    if transcript.promises:
        out += [f"| {t('transcript.promise')} | {t('transcript.due')} | {t('transcript.outcome')} |",
                "|---|---|---|"]
        out += [f"| {_md_inline(p.what)} | {_md_inline(p.due)} | {_md_inline(p.outcome)} |"
                for p in transcript.promises]
    else:
        out.append(t("transcript.no_promises"))
    out += ["", t("transcript.made", at=transcript.made_at), ""]
    return "\n".join(out)


def transcript_files(transcript: Transcript, words: Templates) -> tuple[Attachment, ...]:
    """The HTML page and the Markdown file, named after the ticket."""
    stem = "ticket-" + transcript.ref.lstrip("#")
    return (Attachment(f"{stem}.html", "text/html", to_html(transcript, words)),
            Attachment(f"{stem}.md", "text/markdown", to_markdown(transcript, words)))
