"""Finding 14: docs/dashboard.md describes the downloads as they are: the tickets CSV's
columns and order, the figures CSV's header."""

from __future__ import annotations

import re
from pathlib import Path

from bot.reports.export import TICKET_COLUMNS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "dashboard.md"


def test_the_downloads_are_described_as_they_are():
    text = re.sub(r"\s+", " ", DOCS.read_text(encoding="utf-8"))
    downloads = text[text.index("## Downloads"):]
    assert "`" + ", ".join(TICKET_COLUMNS) + "`" in downloads
    assert "oldest first" in downloads and "newest first" not in downloads
    assert "`section, item, measure, value`" in downloads
    assert "day_or_agent" not in text and "100,000" not in downloads
