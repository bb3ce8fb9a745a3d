"""Indexes for the listing lists (issue 15): the default order, so that a page walks an
index and stops rather than sorting every visible listing."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("opportunities", "0003_listings"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="listing",
            index=models.Index(fields=["-published_at", "-created_at", "id"], name="listing_default_order"),
        ),
    ]
