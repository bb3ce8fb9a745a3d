"""The alert rules and the operations guide stay true to the metrics the site exports."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from config.observability import BACKLOG_COLLECTOR, REQUEST_LATENCY

DOCS = Path(__file__).resolve().parent.parent.parent / "docs"
# Exported by another module (the API throttle's fail-open counter) or by the blackbox exporter.
OTHER_SOURCES = {"corridor_throttle_fail_open_total", "probe_success"}


def rules() -> list[dict[str, object]]:
    groups = yaml.safe_load((DOCS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def test_every_alert_rule_reads_a_metric_that_exists():
    ours = {family.name for family in BACKLOG_COLLECTOR.describe()} | {f"{REQUEST_LATENCY._name}_count"}
    for rule in rules():
        names = set(re.findall(r"\b(corridor_[a-z_]+|probe_success)\b", str(rule["expr"])))
        assert names, rule["alert"]
        assert names <= ours | OTHER_SOURCES, (rule["alert"], names - ours - OTHER_SOURCES)


def test_every_alert_is_explained_in_the_operations_guide():
    guide = (DOCS / "operations.md").read_text()
    for rule in rules():
        assert f"**{rule['alert']}**" in guide, rule["alert"]
        assert rule["annotations"]["summary"]  # type: ignore[index]
