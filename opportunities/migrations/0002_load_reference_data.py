"""Load the reference classifications from opportunities/data/*.csv.

``manage.py migrate`` alone yields a complete database: 619 ISCO-08 groups,
ISIC Rev.4 at all four levels (766 rows: 21 sections, 88 divisions, 238 groups,
419 classes), 3,039 ESCO occupations, the ISO 639-1 languages and the active
ISO 4217 currencies, then the occupation search index. Codes are read as strings
(leading zeros matter). Reversing deletes the rows.
"""

import csv
from pathlib import Path

from django.db import migrations

from opportunities.search import rebuild_occupation_search_index

DATA = Path(__file__).resolve().parent.parent / "data"


def read(name):
    with open(DATA / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load(apps, schema_editor):
    Occupation = apps.get_model("opportunities", "Occupation")
    Sector = apps.get_model("opportunities", "Sector")
    EscoOccupation = apps.get_model("opportunities", "EscoOccupation")
    Language = apps.get_model("opportunities", "Language")
    Currency = apps.get_model("opportunities", "Currency")
    db = schema_editor.connection.alias

    isco = read("isco08.csv")
    Occupation.objects.using(db).bulk_create(
        Occupation(
            code=r["code"],
            level=int(r["level"]),
            parent_id=r["parent_code"] or None,
            title_en=r["title_en"],
            title_fr=r["title_fr"],
            title_es=r["title_es"],
            skill_level=[int(s) for s in r["skill_level"].split(";")],
        )
        for r in isco
    )
    Sector.objects.using(db).bulk_create(
        Sector(code=r["code"], level=r["level"], parent_id=r["parent_code"] or None, title_en=r["title_en"], position=i)
        for i, r in enumerate(read("isic4_full.csv"), start=1)
    )
    esco = [
        {
            "esco_code": r["esco_code"],
            "occupation_id": r["isco08_code"],
            "title_en": r["title_en"],
            "alt_labels": [label for label in r["alt_labels_en"].split(" | ") if label],
            "regulated_profession": r["regulated_profession"] == "true",
            "esco_uri": r["esco_uri"],
        }
        for r in read("esco_occupations.csv")
    ]
    EscoOccupation.objects.using(db).bulk_create(EscoOccupation(**row) for row in esco)
    Language.objects.using(db).bulk_create(Language(**r) for r in read("iso639_1.csv"))
    Currency.objects.using(db).bulk_create(
        Currency(
            code=r["code"],
            numeric=r["numeric"],
            minor_units=int(r["minor_units"]),
            name_en=r["name_en"],
            name_fr=r["name_fr"],
            name_es=r["name_es"],
        )
        for r in read("iso4217.csv")
    )
    with schema_editor.connection.cursor() as cursor:
        rebuild_occupation_search_index(cursor, isco, esco)


def unload(apps, schema_editor):
    db = schema_editor.connection.alias
    for name in ("EscoOccupation", "Currency", "Language"):
        apps.get_model("opportunities", name).objects.using(db).all().delete()
    # Children before parents: the self-references are PROTECT.
    Occupation = apps.get_model("opportunities", "Occupation")
    for level in (4, 3, 2, 1):
        Occupation.objects.using(db).filter(level=level).delete()
    Sector = apps.get_model("opportunities", "Sector")
    for level in ("class", "group", "division", "section"):
        Sector.objects.using(db).filter(level=level).delete()


class Migration(migrations.Migration):
    dependencies = [("opportunities", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
