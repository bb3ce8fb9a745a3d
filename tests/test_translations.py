"""French, Spanish and Arabic are complete: every message translated, placeholders intact, .mo current.

``make messages`` extracts and compiles; these tests catch a catalogue left half
done, a translation that drops or renames a placeholder (a 500 at run time), and
a ``.po`` edited without recompiling the ``.mo`` the site actually reads.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings

LOCALE = Path(settings.BASE_DIR) / "locale"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}")


def parse_po(path: Path) -> list[dict[str, object]]:
    """Entries of a .po file: msgctxt, msgid, msgid_plural, msgstr(s) and flags."""
    entries: list[dict[str, object]] = []
    entry: dict[str, object] = {"flags": set(), "msgstr": {}}
    key: tuple[str, int | None] | None = None

    def flush() -> None:
        nonlocal entry
        if "msgid" in entry:
            entries.append(entry)
        entry = {"flags": set(), "msgstr": {}}

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#,"):
            if "msgid" in entry and entry["msgstr"]:
                flush()
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}  # type: ignore[operator]
        elif line.startswith("#~") or line.startswith("#") or not line.strip():
            continue
        else:
            match = re.match(r"(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d)\])?\s+(\".*\")$", line)
            if match:
                name, index, text = match.groups()
                if name in ("msgctxt", "msgid") and entry["msgstr"]:
                    flush()
                key = (name, int(index) if index is not None else None)
                value = ast.literal_eval(text)
            else:
                value = ast.literal_eval(line.strip())
            assert key is not None
            name, index = key
            if name == "msgstr":
                strings = entry["msgstr"]
                strings[index or 0] = strings.get(index or 0, "") + value  # type: ignore[index,union-attr,operator]
            else:
                entry[name] = str(entry.get(name, "")) + value
    flush()
    return [e for e in entries if e["msgid"]]  # the header has an empty msgid


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    entries = parse_po(LOCALE / language / "LC_MESSAGES" / "django.po")
    assert len(entries) > 1000
    problems = []
    for entry in entries:
        msgid = str(entry["msgid"])
        strings = list(entry["msgstr"].values())  # type: ignore[union-attr]
        if "fuzzy" in entry["flags"] or not strings or not all(strings):  # type: ignore[operator]
            problems.append(f"untranslated or fuzzy: {msgid!r}")
            continue
        wanted = set(PLACEHOLDER.findall(msgid + str(entry.get("msgid_plural", ""))))
        for text in strings:
            found = set(PLACEHOLDER.findall(text))
            # A plural form may leave the count out ("un élément"), never add or rename one.
            if not found <= wanted or (not entry.get("msgid_plural") and found != wanted):
                problems.append(f"placeholders {sorted(found)} ≠ {sorted(wanted)} in {msgid!r}")
    assert problems == []


@pytest.mark.parametrize("language", ["fr", "es", "ar"])
def test_the_compiled_catalogue_matches_the_po_file(language: str) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in parse_po(folder / "django.po"):
        msgid, strings = str(entry["msgid"]), entry["msgstr"]
        if entry.get("msgctxt"):
            msgid = f"{entry['msgctxt']}\x04{msgid}"
        if entry.get("msgid_plural"):
            if compiled._catalog.get((msgid, 0)) != strings.get(0):  # type: ignore[attr-defined,union-attr]
                stale.append(msgid)
        elif compiled._catalog.get(msgid) != strings.get(0):  # type: ignore[attr-defined,union-attr]
            stale.append(msgid)
    assert stale == [], "run: make messages (compilemessages)"
