"""The search index's pending list and the listings' autovacuum (issue 15, scenario 7).

A GIN index with ``fastupdate`` (the default) appends new entries to a pending list and
merges the list into the index when it passes ``gin_pending_list_limit`` (4 MB by
default) — in the statement that passes it — or when the table is vacuumed. Rewriting
2,000 listings' vectors (about 8 MB of entries) merged mid-statement and cost 2.5–3×
the same rewrite without the index; with a 16 MB limit it stays in the list: about
1× (docs/benchmarks.md). ``fastupdate = off`` was measured too: 4–9×.

The merge is not gone: it moves to autovacuum, which now visits the table after 1,000
changed or inserted rows whatever its size (by default 20 % of it, 20,000 rows at 100k,
by when the 16 MB would long have been passed by a writer). Searches scan the pending
list until it is merged; 1,000 listings' entries are about the default limit's 4 MB,
what a search could already meet.
"""

from django.contrib.postgres.indexes import GinIndex
from django.db import migrations

AUTOVACUUM = (
    "autovacuum_vacuum_threshold = 1000, autovacuum_vacuum_scale_factor = 0, "
    "autovacuum_vacuum_insert_threshold = 1000, autovacuum_vacuum_insert_scale_factor = 0"
)
AUTOVACUUM_NAMES = (
    "autovacuum_vacuum_threshold, autovacuum_vacuum_scale_factor, "
    "autovacuum_vacuum_insert_threshold, autovacuum_vacuum_insert_scale_factor"
)


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0007_listing_search_rank_vector"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="listing", name="listing_search_vector"),
                migrations.AddIndex(
                    model_name="listing",
                    index=GinIndex(
                        fields=["search_vector"], gin_pending_list_limit=16384, name="listing_search_vector"
                    ),
                ),
            ],
            # A storage parameter: no rebuild.
            database_operations=[
                migrations.RunSQL(
                    "ALTER INDEX listing_search_vector SET (gin_pending_list_limit = 16384)",
                    "ALTER INDEX listing_search_vector RESET (gin_pending_list_limit)",
                ),
            ],
        ),
        migrations.RunSQL(
            f"ALTER TABLE opportunities_listing SET ({AUTOVACUUM})",
            f"ALTER TABLE opportunities_listing RESET ({AUTOVACUUM_NAMES})",
        ),
    ]
