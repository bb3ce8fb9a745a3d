"""bench_stats on a tiny synthetic world: every chart answers, for every reader, and the report has its keys.

No timing is asserted (timings belong to the benchmarks); the statement counts are the
ones the query-count tests pin elsewhere, so only their presence is checked here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management import call_command

from exchange.management.commands.bench_all import stats_rows
from exchange.statistics.selectors import TABLES


def test_bench_stats_reports_each_chart_for_each_reader(db: Any, tmp_path: Path) -> None:
    call_command(
        "generate_load_data", organisations=40, listings=60, subscriptions=5, profiles=1, outcomes=300, seed=7,
        flush=True, verbosity=0,
    )  # fmt: skip
    out = tmp_path / "stats.json"
    call_command("bench_stats", json=str(out), runs=1, stdout=open("/dev/null", "w"))  # noqa: SIM115
    report = json.loads(out.read_text())
    assert (report["listings"], report["outcome_entries"], report["target_ms"]) == (60, 300, 50.0)
    assert set(report["readers"]) == {"official", "agency", "anonymous"}
    official = report["readers"]["official"]
    assert {f"statistics: {name}" for name in TABLES} - set(official) == {"statistics: moderation-turnaround"}
    assert {"open data: outcome-totals.csv", "corridor MA-DE (API)", "corridor MA-DE (page)", "statistics page"} < set(
        official
    )
    assert "statistics: moderation-turnaround" in report["readers"]["agency"]
    assert "statistics page" in report["readers"]["anonymous"]
    for charts in report["readers"].values():
        for figures in charts.values():
            assert {"url", "queries", "endpoint_queries", "sql_ms", "slowest_ms"} <= set(figures)
            assert figures["endpoint_queries"] >= 1
    assert set(report["worst"]) >= {"reader", "chart", "sql_ms"}
    rows = stats_rows(report)
    assert len(rows) == len(official) - 1 + 1  # every chart once (the page left out), moderation included
    assert all(row["scenario"].startswith("10. ") and row["result"] in ("pass", "short") for row in rows)
