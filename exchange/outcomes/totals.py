"""The ledger's sums (``OutcomeTotal``), kept by the database in the transaction that writes an entry.

The figures (the statistics' outcome totals, the open data, a corridor's pipeline)
read these sums instead of the entries: one row per listing, origin, period and stage
with the people and the women of its effective entries, however many entries (and
corrections) made them. At 1M entries the statistics read about a quarter as many rows
and no anti-join on the corrections (docs/benchmarks.md, scenario 10).

The trigger ``exchange_outcometotal_apply`` (migration 0014) runs after each INSERT into
the ledger, whoever writes it (``outcome_record``, the CSV import, a COPY): it adds the
entry to its row and, for a correction, takes the corrected entry off its own row. The
ledger is append-only (a DELETE, or an UPDATE other than erasure's, is refused; erasure
changes no count), so nothing else can move a sum. ``REBUILD_SQL`` computes every row
from the entries; ``totals_rebuild`` replaces the table with it (after a bulk load with
the trigger off) and ``totals_drift`` lists the rows where the two differ (tests).
"""

from __future__ import annotations

from typing import Any

from django.db import connection

# Every row from the effective entries (those no entry corrects): the trigger's result.
REBUILD_SQL = """
SELECT e.listing_id, e.origin_country, e.period, e.stage,
       SUM(e.count) AS people, COALESCE(SUM(e.count) FILTER (WHERE e.sex = 'F'), 0) AS women,
       COUNT(*) AS entries
FROM exchange_outcomeentry e
WHERE NOT EXISTS (SELECT 1 FROM exchange_outcomeentry c WHERE c.corrects_id = e.id)
GROUP BY 1, 2, 3, 4
"""

COLUMNS = "listing_id, origin_country, period, stage, people, women, entries"


def totals_rebuild() -> None:
    """Replace every sum with the entries' (a bulk load writes the ledger with the trigger off)."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM exchange_outcometotal")
        cursor.execute(f"INSERT INTO exchange_outcometotal ({COLUMNS}) {REBUILD_SQL}")


def totals_drift() -> list[tuple[Any, ...]]:
    """The rows where the kept sums and the entries' differ (none, when the trigger does its work).

    A row whose every entry was corrected away (``entries = 0``) counts as absent.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH kept AS (SELECT {COLUMNS} FROM exchange_outcometotal WHERE entries > 0), "  # noqa: S608
            f"fresh AS ({REBUILD_SQL}) "
            "(SELECT 'kept', * FROM kept EXCEPT ALL SELECT 'kept', * FROM fresh) "
            "UNION ALL (SELECT 'fresh', * FROM fresh EXCEPT ALL SELECT 'fresh', * FROM kept)"
        )
        return cursor.fetchall()
