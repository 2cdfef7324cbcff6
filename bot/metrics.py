"""The desk's numbers, for Prometheus (served at ``/metrics`` by bot/web/).

One :class:`Metrics` per running desk, on a registry of its own (never the library's
global default), so tests and several desks in one process do not count into each
other. Counters and histograms are moved where the thing happens, and only once it
has happened: a ticket opened or a promise kept counts after its transaction commits.
The gauges several instances share (the outbox's backlog, open promises) are not kept
here in memory: ``/metrics`` reads them from the database at scrape time and renders
them with the rest (:meth:`Metrics.render`), so every instance reports the same value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "DELIVERY_OUTCOMES", "METRIC_NAMES", "Metrics",
           "SharedNumbers"]

# What became of a delivery attempt (helpdesk_deliveries_total's ``outcome``).
DELIVERY_OUTCOMES = ("sent", "retried", "rate_limited", "dead")

# Handling takes milliseconds to seconds; a tick is mostly one read, a sweep longer.
_HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_TICK_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# Every metric family this module exports, as Prometheus names it (deploy/ may use
# only these; tests/web/test_deploy.py checks).
METRIC_NAMES = (
    "helpdesk_events_total",
    "helpdesk_tickets_opened_total",
    "helpdesk_outbox_pending",
    "helpdesk_outbox_oldest_pending_seconds",
    "helpdesk_deliveries_total",
    "helpdesk_promises_open",
    "helpdesk_promises_lapsed_total",
    "helpdesk_promises_kept_total",
    "helpdesk_tick_seconds",
    "helpdesk_handler_seconds",
    "helpdesk_inbox_waiting",
    "helpdesk_inbox_oldest_seconds",
)


@dataclass(frozen=True)
class SharedNumbers:
    """The gauges every instance reports alike, as the database has them at a scrape
    (read by bot/storage/health.py)."""

    outbox_pending: int = 0  # rows not yet sent (waiting, or held under a lease)
    # how long the oldest due, unsent row has waited since it was first due
    oldest_pending_seconds: float = 0.0
    promises_open: dict[str, int] = field(default_factory=dict)  # by kind
    # inbound events acknowledged and not yet handled (the inbox), and how long the
    # oldest has waited since it arrived: both rise when an instance dies, until
    # another takes its events over (docs/operations.md)
    inbox_waiting: int = 0
    inbox_oldest_seconds: float = 0.0


class Metrics:
    """The desk's counters, histograms and scrape-time gauges, on their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter("helpdesk_events", "Inbound events the router handled.",
                              ("platform", "kind"), registry=r)
        self.tickets_opened = Counter("helpdesk_tickets_opened", "Tickets opened (committed).",
                                      ("platform",), registry=r)
        self.deliveries = Counter(
            "helpdesk_deliveries", "Outbox delivery attempts by what became of them.",
            ("platform", "outcome"), registry=r)
        self.promises_lapsed = Counter(
            "helpdesk_promises_lapsed", "Promises that fell due unkept and were covered.",
            ("kind",), registry=r)
        self.promises_kept = Counter(
            "helpdesk_promises_kept",
            "Promises kept: by a person, or by the bot's honest update covering a lapse.",
            ("kind", "by"), registry=r)
        self.tick_seconds = Histogram("helpdesk_tick_seconds", "Time one tick took.",
                                      buckets=_TICK_BUCKETS, registry=r)
        self.handler_seconds = Histogram(
            "helpdesk_handler_seconds", "Time the router took for one event, commit included.",
            ("route",), buckets=_HANDLER_BUCKETS, registry=r)

    def prepare(self, platforms: Iterable[str]) -> None:
        """Start the per-platform series at 0, so a rate over the first failure is seen
        (a series that appears at 1 has no increase to alert on)."""
        for platform in platforms:
            self.tickets_opened.labels(platform)
            for outcome in DELIVERY_OUTCOMES:
                self.deliveries.labels(platform, outcome)

    # -- moved where things happen ------------------------------------------------

    def event(self, platform: str, kind: str) -> None:
        """The router took an event."""
        self.events.labels(platform, kind).inc()

    def ticket_opened(self, platform: str) -> None:
        """A ticket's opening committed."""
        self.tickets_opened.labels(platform).inc()

    def delivered(self, platform: str, outcome: str) -> None:
        """One delivery attempt ended in ``outcome`` (one of DELIVERY_OUTCOMES)."""
        self.deliveries.labels(platform, outcome).inc()

    def lapsed(self, kinds: Iterable[str], covered: Iterable[str] = ()) -> None:
        """Promises of ``kinds`` lapsed (one entry each); those in ``covered`` were kept
        by the bot's update to the requester."""
        for kind in kinds:
            self.promises_lapsed.labels(kind).inc()
        for kind in covered:
            self.promises_kept.labels(kind, "bot").inc()

    def kept(self, kinds: Iterable[str]) -> None:
        """People kept promises of ``kinds`` (one entry each)."""
        for kind in kinds:
            self.promises_kept.labels(kind, "person").inc()

    # -- read at scrape time ------------------------------------------------------

    def render(self, shared: SharedNumbers | None = None,
               kinds: Iterable[str] = ()) -> bytes:
        """The text exposition of every counter and histogram and, when ``shared`` was
        read from the database for this scrape, the gauges every instance shares (each
        promise kind in ``kinds`` reported, 0 when none is open). Without ``shared``
        (the database did not answer) those gauges are left out rather than reported
        stale: the alert on a missing series fires, a stale number would mislead."""
        text = generate_latest(self.registry)
        if shared is None:
            return text
        # Built afresh for each scrape: nothing of one scrape's reading outlives it,
        # and two scrapes at once never see each other's half-set values.
        scrape = CollectorRegistry(auto_describe=True)
        Gauge("helpdesk_outbox_pending", "Outbox rows not yet sent (from the database).",
              registry=scrape).set(shared.outbox_pending)
        Gauge("helpdesk_outbox_oldest_pending_seconds",
              "How long the oldest due, unsent outbox row has waited since it was first "
              "due, retries and rate limits included (0: none waits).",
              registry=scrape).set(shared.oldest_pending_seconds)
        open_promises = Gauge("helpdesk_promises_open",
                              "Open promises by kind (from the database).", ("kind",),
                              registry=scrape)
        for kind in sorted({*kinds, *shared.promises_open}):
            open_promises.labels(kind).set(shared.promises_open.get(kind, 0))
        Gauge("helpdesk_inbox_waiting", "Inbound events acknowledged to their platform "
              "and not yet handled (from the database).",
              registry=scrape).set(shared.inbox_waiting)
        Gauge("helpdesk_inbox_oldest_seconds", "How long the oldest inbound event "
              "acknowledged and not yet handled has waited (0: none waits).",
              registry=scrape).set(shared.inbox_oldest_seconds)
        return text + generate_latest(scrape)
