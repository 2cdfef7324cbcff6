"""Finding 11: the per-day chart draws first response and resolution in one unit (hours
of business time) on one labelled axis; minutes beside hours drew a 6-hour resolution
as a flat line at 0."""

from __future__ import annotations

from bot.reports import ReportFilter, compute_figures
from bot.templates import load_templates
from bot.web.dashboard.view import chart_data
from tests.reports.test_figures import CALENDAR, END, NOW, START


async def test_both_durations_per_day_are_in_hours(history):
    db, ids = history
    async with db.reading() as uow:
        figures = await compute_figures(uow, ReportFilter(ids["ws"], START, END), NOW,
                                        calendar=CALENDAR)
    data = chart_data(figures)
    measured = [(row, i) for i, row in enumerate(figures.days)
                if row.first_response_median is not None]
    assert measured
    for row, i in measured:
        assert data["firstResponse"][i] == round(row.first_response_median.total_seconds()
                                                 / 3600, 2)
    words = load_templates()
    assert "hours" in words.render("web.first_response_median_h")
    assert "hours" in words.render("web.resolution_median_h")
    assert words.render("web.business_hours")
