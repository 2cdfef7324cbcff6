"""deploy/: the Grafana dashboard and the Prometheus alert rules are valid JSON and YAML
and use exactly the metric names the desk exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import METRIC_NAMES, Metrics, SharedNumbers

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
_NAME = re.compile(r"\bhelpdesk_[a-z_]+\b")


def exported_samples() -> set[str]:
    """Every sample name /metrics can show (each labelled series made to appear)."""
    metrics = Metrics()
    metrics.prepare(["slack"])
    metrics.event("slack", "message")
    metrics.lapsed(["first_response"], ["first_response"])
    metrics.kept(["first_response"])
    metrics.tick_seconds.observe(0.01)
    metrics.handler_seconds.labels("message").observe(0.01)
    text = metrics.render(SharedNumbers(1, 2.0, {"first_response": 1})).decode()
    return {sample.name for family in text_string_to_metric_families(text)
            for sample in family.samples}


def dashboard_expressions() -> list[str]:
    board = json.loads((DEPLOY / "grafana-dashboard.json").read_text(encoding="utf-8"))
    return [target["expr"] for panel in board["panels"] for target in panel["targets"]]


def alert_expressions() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    found = []
    for group in rules["groups"]:
        for rule in group["rules"]:
            found.append(rule["expr"])
            found += [text for text in rule.get("annotations", {}).values()]
    return found


def test_every_metric_the_dashboard_uses_is_exported():
    exported = exported_samples()
    used = {name for expr in dashboard_expressions() for name in _NAME.findall(expr)}
    assert used and used <= exported, sorted(used - exported)


def test_every_metric_the_alerts_use_is_exported():
    exported = exported_samples()
    used = {name for expr in alert_expressions() for name in _NAME.findall(expr)}
    assert used and used <= exported, sorted(used - exported)


def test_the_alerts_cover_a_backed_up_outbox_dead_deliveries_and_a_stalled_ticker():
    rules = yaml.safe_load((DEPLOY / "prometheus-alerts.yml").read_text(encoding="utf-8"))
    by_name = {rule["alert"]: rule["expr"] for group in rules["groups"]
               for rule in group["rules"]}
    assert "helpdesk_outbox_oldest_pending_seconds" in by_name["HelpdeskOutboxBackingUp"]
    assert 'outcome="dead"' in by_name["HelpdeskDeadDeliveries"]
    assert "helpdesk_tick_seconds_count" in by_name["HelpdeskTickerStalled"]


def test_the_dashboard_shows_every_metric_the_desk_exports():
    shown = {name for expr in dashboard_expressions() for name in _NAME.findall(expr)}
    families = {re.sub(r"_(bucket|count|sum)$", "", name) for name in shown}
    assert set(METRIC_NAMES) <= families, sorted(set(METRIC_NAMES) - families)


def test_the_metric_names_listed_are_the_ones_exported():
    # (The parser reads an unlabelled histogram's _created line as a family of its own.)
    families = {family.name for family in text_string_to_metric_families(
        Metrics().render(SharedNumbers()).decode()) if not family.name.endswith("_created")}
    # prometheus_client names a counter's family without _total.
    assert {re.sub(r"_total$", "", name) for name in METRIC_NAMES} == families
