"""The vector a search ranks by, kept in the row (issue 15; docs/benchmarks.md).

Ranking read every match's full search vector (about 4 KB, TOASTed: five buffers a
match); the rank vector is its title, summary and description only (about 1 KB),
generated from it by the database, so every writer of ``search_vector`` keeps it
right. ``STORAGE MAIN`` keeps it in the row rather than in the TOAST table.
"""

import django.contrib.postgres.search
from django.db import migrations, models

import opportunities.search


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0006_consent_translations_agreement"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="listing",
                    name="search_rank_vector",
                    field=models.GeneratedField(
                        db_persist=True,
                        expression=opportunities.search.TsFilter(models.F("search_vector"), weights="abc"),
                        output_field=django.contrib.postgres.search.SearchVectorField(),
                    ),
                ),
            ],
            # One ALTER TABLE, so the table is rewritten once, with the storage already MAIN
            # (set afterwards, the values computed by the rewrite would stay in TOAST).
            # The rewrite outlasts the site's statement timeout on a large table: lifted for
            # this migration's transaction only.
            database_operations=[
                migrations.RunSQL(
                    "SET LOCAL statement_timeout = 0; ALTER TABLE opportunities_listing"
                    " ADD COLUMN search_rank_vector tsvector"
                    " GENERATED ALWAYS AS (ts_filter(search_vector, '{a,b,c}')) STORED,"
                    " ALTER COLUMN search_rank_vector SET STORAGE MAIN",
                    "ALTER TABLE opportunities_listing DROP COLUMN search_rank_vector",
                ),
            ],
        ),
    ]
