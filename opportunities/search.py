"""Occupation search: how the precomputed index is built and how a query is parsed.

Both halves share ``normalise`` so that a query and the text it should match are
folded the same way (lower case, accents removed: "infirmiere" finds "Infirmière").

Each ``Occupation`` row carries three precomputed columns, rebuilt by
``rebuild_occupation_search_index`` (the data migration calls it):

* ``search_vector``: a weighted tsvector. Weight A: the group's own titles, each
  language stemmed with its own configuration; B: the English titles of the ESCO
  occupations in the unit group; C: their alternative labels.
* ``search_document``: the same text, normalised and joined with `` | ``, for
  trigram word similarity (typos, partial words).
* ``search_terms``: every title and label, normalised, for an exact-match boost.

The module imports no models, so migrations can use it safely. It also holds
``TsFilter``, the expression of ``Listing.search_rank_vector`` (a generated column).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.postgres.search import SearchVectorField
from django.db.models import Expression, Func

TERM_SEPARATOR = " | "
_WORD = re.compile(r"\w+")


def normalise(text: str, *, fold_accents: bool = True) -> str:
    """Lower-case, strip accents, fold typographic apostrophes and collapse spaces."""
    text = " ".join(text.replace("\u2019", "'").replace("œ", "oe").replace("Œ", "oe").casefold().split())
    if not fold_accents:
        return unicodedata.normalize("NFC", text)
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def query_words(query: str, *, fold_accents: bool = True) -> list[str]:
    """The words of a query, normalised; punctuation and tsquery syntax are dropped."""
    return _WORD.findall(normalise(query, fold_accents=fold_accents).replace("_", " "))


def both_forms(text: str) -> str:
    """The text as written and, if different, without accents.

    The French and Spanish stemmers treat the two differently ("infirmière" and
    "infirmiers" share the stem "infirmi", "infirmiere" does not), so the index
    carries both forms and a query is tried in both.
    """
    written, folded = normalise(text, fold_accents=False), normalise(text)
    return written if written == folded else f"{written} {folded}"


def tsquery_text(words: Sequence[str], *, operator: str) -> str:
    """A raw ``to_tsquery`` string; the last word may also be a prefix (search as you type).

    The last word is offered both whole and as a prefix: a stemmed prefix can be
    longer than the stem of the word it should find ("infirmiere:*" is "infirmier:*",
    which misses "infirmiers", stemmed "infirmi").
    """
    parts = [*words[:-1], f"({words[-1]} | {words[-1]}:*)"] if words else []
    return f" {operator} ".join(parts)


UPDATE_SQL = """
UPDATE opportunities_occupation SET
    search_document = %(document)s,
    search_terms = %(terms)s,
    search_vector =
        setweight(to_tsvector('english', %(title_en)s), 'A')
        || setweight(to_tsvector('french', %(title_fr)s), 'A')
        || setweight(to_tsvector('spanish', %(title_es)s), 'A')
        || setweight(to_tsvector('english', %(esco_titles)s), 'B')
        || setweight(to_tsvector('english', %(esco_labels)s), 'C')
WHERE code = %(code)s
"""


def search_rows(occupations: Iterable[Mapping[str, Any]], esco: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Parameters for ``UPDATE_SQL``, one dict per occupation.

    ``occupations`` need ``code``, ``title_en``, ``title_fr``, ``title_es``;
    ``esco`` rows need ``occupation_id`` (the unit group), ``title_en`` and
    ``alt_labels`` (a list).
    """
    titles: dict[str, list[str]] = defaultdict(list)
    labels: dict[str, list[str]] = defaultdict(list)
    for row in esco:
        titles[row["occupation_id"]].append(normalise(row["title_en"]))
        labels[row["occupation_id"]].extend(normalise(label) for label in row["alt_labels"])
    params = []
    for occ in occupations:
        code = occ["code"]
        own = [normalise(occ[f"title_{lang}"]) for lang in ("en", "fr", "es")]
        terms = list(dict.fromkeys([*own, *titles[code], *labels[code]]))
        params.append(
            {
                "code": code,
                "title_en": both_forms(occ["title_en"]),
                "title_fr": both_forms(occ["title_fr"]),
                "title_es": both_forms(occ["title_es"]),
                "esco_titles": TERM_SEPARATOR.join(titles[code]),
                "esco_labels": TERM_SEPARATOR.join(labels[code]),
                "document": TERM_SEPARATOR.join(terms),
                "terms": terms,
            }
        )
    return params


def rebuild_occupation_search_index(cursor: Any, occupations: Iterable[Mapping[str, Any]], esco: Iterable[Any]) -> None:
    """Recompute the search columns of the given occupations (one pipelined batch)."""
    cursor.executemany(UPDATE_SQL, search_rows(occupations, esco))


class TsFilter(Func):
    """``ts_filter(vector, '{a,b,c}')``: the vector's lexemes and positions of the given weights only."""

    function = "ts_filter"
    template = "%(function)s(%(expressions)s, '{%(weights)s}')"
    output_field = SearchVectorField()

    def __init__(self, expression: Expression | Any, *, weights: str) -> None:
        if not weights or set(weights) - set("abcd"):
            raise ValueError(f"weights must be some of a, b, c, d, not {weights!r}")
        super().__init__(expression, weights=",".join(weights))
