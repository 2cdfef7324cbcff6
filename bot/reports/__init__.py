"""Reports: the figures of a workspace's desk over a period, and their exports.

:func:`compute_figures` is the one entry point every report shares (the chat reports,
the web dashboard, the exports): figures are aggregated in the database and only the
business-time durations are finished in Python, on the desk's calendar.
"""

from bot.reports.figures import (
    AgentRow, BacklogBucket, Csat, DayRow, Durations, Figures, Incidents, PromiseFigures,
    SlaRow, compute_figures, PARTS,
)
from bot.reports.filters import Period, ReportFilter, period_for

__all__ = [
    "AgentRow", "BacklogBucket", "Csat", "DayRow", "Durations", "Figures", "Incidents",
    "PromiseFigures", "SlaRow", "compute_figures", "PARTS", "Period", "ReportFilter",
    "period_for",
]
