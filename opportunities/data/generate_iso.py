#!/usr/bin/env python3
"""Regenerate ``iso639_1.csv`` and ``iso4217.csv`` from the ``pycountry`` package.

``pycountry`` is needed only here, never at runtime: the generated CSV files are
committed and loaded by the data migrations. Run from the project root::

    .venv/bin/pip install pycountry
    .venv/bin/python opportunities/data/generate_iso.py

French and Spanish names come from the gettext catalogues that ``pycountry``
ships (the Debian iso-codes project); where a catalogue has no translation the
English name is kept. See SOURCES.md, sections 5 and 6.
"""

from __future__ import annotations

import csv
import gettext
import re
from pathlib import Path

import pycountry

HERE = Path(__file__).resolve().parent

# Qualifiers that iso-codes adds to distinguish ISO 639-3 entries; noise in a picker.
_QUALIFIERS = re.compile(
    r"\s*\((macrolanguage|macrolangue|macrolengua|1453-|après 1453|post 1500|Tonga Islands|Îles Tonga|Islas Tonga)\)$"
)
_LANGUAGE_OVERRIDES = {
    # The ISO 639-3 reference names are awkward for the two-letter code's everyday use.
    "el": ("Greek", "Grec", "Griego"),
    "ia": ("Interlingua", "Interlingua", "Interlingua"),
    "ar": ("Arabic", "Arabe", "Árabe"),  # the Spanish catalogue misspells it "Árábe"
}
# Qualifiers the French catalogue adds to currency names ("Zloty (nouveau)").
_CURRENCY_QUALIFIERS = re.compile(r"\s*\((nouvel|nouveau|ajusté)\)$")

# Not currencies a wage is paid in: funds, precious metals, bond-market and
# accounting units, SDR, testing and "no currency" codes.
_EXCLUDED_CURRENCIES = {
    "BOV", "CHE", "CHW", "CLF", "COU", "MXV", "USN", "UYI", "UYW",
    "XAD", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX",
}  # fmt: skip
# ISO 4217 list one, "Minor unit" column: every active currency not listed here has 2.
_MINOR_UNITS = {
    **dict.fromkeys(
        [
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


def _catalogue(domain: str, language: str) -> gettext.NullTranslations:
    return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language], fallback=True)


def _clean(name: str, qualifiers: re.Pattern[str] = _QUALIFIERS) -> str:
    name = qualifiers.sub("", name).strip()
    return name[:1].upper() + name[1:]


def write_languages() -> int:
    fr, es = _catalogue("iso639-3", "fr"), _catalogue("iso639-3", "es")
    rows = []
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None)
        if not code:
            continue
        names = _LANGUAGE_OVERRIDES.get(code) or (
            _clean(lang.name),
            _clean(fr.gettext(lang.name)),
            _clean(es.gettext(lang.name)),
        )
        rows.append((code, *names))
    rows.sort()
    with open(HERE / "iso639_1.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name_en", "name_fr", "name_es"])
        writer.writerows(rows)
    return len(rows)


def write_currencies() -> int:
    fr, es = _catalogue("iso4217", "fr"), _catalogue("iso4217", "es")
    rows = []
    for cur in pycountry.currencies:
        if cur.alpha_3 in _EXCLUDED_CURRENCIES:
            continue
        rows.append(
            (
                cur.alpha_3,
                cur.numeric,
                _MINOR_UNITS.get(cur.alpha_3, 2),
                cur.name,
                _clean(fr.gettext(cur.name), _CURRENCY_QUALIFIERS),
                _clean(es.gettext(cur.name), _CURRENCY_QUALIFIERS),
            )
        )
    rows.sort()
    with open(HERE / "iso4217.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "numeric", "minor_units", "name_en", "name_fr", "name_es"])
        writer.writerows(rows)
    return len(rows)


if __name__ == "__main__":
    print(f"iso639_1.csv: {write_languages()} languages; iso4217.csv: {write_currencies()} currencies")
