"""Reads for opportunities: the reference data (public, no actor filter) and
listings (always through ``opportunities.access.listing_visible_to(actor)``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.postgres.expressions import ArraySubquery
from django.contrib.postgres.search import SearchQuery, SearchQueryField, SearchRank, TrigramWordSimilarity
from django.db.models import (
    Case,
    Expression,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import JSONObject

from accounts.tenancy import Actor
from opportunities.access import LIVE, feedback_rows, listing_visible_to, translation_rows
from opportunities.models import (
    Currency,
    Language,
    Listing,
    Occupation,
    OccupationLine,
    RevisionStatus,
    Sector,
)
from opportunities.search import TsFilter, normalise, query_words, tsquery_text

SEARCH_LIMIT = 50
# Below this, a trigram match alone is noise ("word similarity" of the query with
# the closest run of text in the occupation's titles and labels).
TRIGRAM_THRESHOLD = 0.5
# ts_rank weights for D, C, B, A: own titles (A) count most, ESCO titles (B) next,
# ESCO alternative labels (C) least.
RANK_WEIGHTS = [0.05, 0.2, 0.5, 1.0]
_CONFIGS = ("english", "french", "spanish")


def occupation_list(*, level: int | None = None) -> QuerySet[Occupation]:
    queryset = Occupation.objects.all()
    if level is not None:
        queryset = queryset.filter(level=level)
    return queryset.order_by("code")


def occupation_get(*, code: str) -> Occupation | None:
    return Occupation.objects.filter(code=code).first()


def occupation_ancestors(*, occupation: Occupation) -> list[Occupation]:
    """From the major group down to the direct parent (the ancestors' codes are prefixes)."""
    prefixes = [occupation.code[:n] for n in range(1, len(occupation.code))]
    return list(Occupation.objects.filter(code__in=prefixes).order_by("level"))


def _tsquery(query: str, operator: str, *, build: Callable[..., str] = tsquery_text) -> SearchQuery | None:
    """The query in every language configuration, as written and without accents."""
    forms = dict.fromkeys(
        build(words, operator=operator)
        for words in (query_words(query, fold_accents=False), query_words(query))
        if words
    )
    combined: SearchQuery | None = None
    for raw in forms:
        for config in _CONFIGS:
            one = SearchQuery(raw, config=config, search_type="raw")
            combined = one if combined is None else combined | one
    return combined


def occupation_search(
    *, query: str, queryset: QuerySet[Occupation] | None = None, limit: int | None = SEARCH_LIMIT
) -> QuerySet[Occupation]:
    """Occupations matching ``query``, best first (at most ``limit``; ``None`` for no cap).

    A query of digits is a code prefix ("22" → 22, 221, 2211, …, in code order).
    Otherwise the query is matched, in one indexed statement, against the titles in
    English, French and Spanish and, for unit groups, the titles and alternative
    labels of their ESCO occupations:

    * full text (stemmed per language, the last word as a prefix): any word may
      match, all words matching ranks higher;
    * trigram word similarity, for typos and partial words;
    * boosts for a title or ESCO label equal to the query, and for an own title
      starting with it.
    """
    queryset = Occupation.objects.all() if queryset is None else queryset
    text = normalise(query)
    if text.isdigit():
        return _cap(queryset.filter(code__startswith=text).order_by("code"), limit)
    any_word, all_words = _tsquery(query, "|"), _tsquery(query, "&")
    if any_word is None or all_words is None:
        return queryset.none()
    similarity = TrigramWordSimilarity(Value(text), "search_document")  # type: ignore[arg-type]  # an expression is accepted
    prefix = Q(title_en__istartswith=query.strip()) | Q(title_fr__istartswith=query.strip())
    prefix |= Q(title_es__istartswith=query.strip())
    score = (
        SearchRank(F("search_vector"), any_word, weights=RANK_WEIGHTS)
        + 2 * SearchRank(F("search_vector"), all_words, weights=RANK_WEIGHTS)
        + F("similarity")
        + Case(When(search_terms__contains=[text], then=Value(1.0)), default=Value(0.0))
        + Case(When(prefix, then=Value(0.5)), default=Value(0.0))
    )
    return _cap(
        queryset.annotate(similarity=similarity)
        .filter(Q(search_vector=any_word) | Q(similarity__gte=TRIGRAM_THRESHOLD))
        .annotate(score=ExpressionWrapper(score, output_field=FloatField()))
        .order_by("-score", "code"),
        limit,
    )


def _cap(queryset: QuerySet[Occupation], limit: int | None) -> QuerySet[Occupation]:
    return queryset if limit is None else queryset[:limit]


def sector_list(*, level: str | None = None) -> QuerySet[Sector]:
    """ISIC sections and divisions in UNSD order (each section followed by its divisions)."""
    levels = [level] if level else [Sector.Level.SECTION, Sector.Level.DIVISION]
    return Sector.objects.filter(level__in=levels).order_by("position")


def language_list() -> QuerySet[Language]:
    return Language.objects.order_by("code")


def currency_list() -> QuerySet[Currency]:
    return Currency.objects.order_by("code")


# --- Listings ---------------------------------------------------------------------------


def listing_list(*, actor: Actor) -> QuerySet[Listing]:
    """Visible listings with everything a list or detail renders, in a fixed number of queries."""
    # Every visible listing's pending revision; the serializer shows it per audience.
    pending = feedback_rows()[1].filter(status=RevisionStatus.PENDING).only("id", "created_at", "listing_id")
    return (
        listing_visible_to(actor=actor)
        .select_related("owner", "contact")
        .prefetch_related(
            Prefetch("occupation_lines", queryset=OccupationLine.objects.select_related("occupation")),
            Prefetch("revisions", queryset=pending, to_attr="pending_revisions"),
        )
    )


def _translations_json() -> ArraySubquery:
    """Each listing's translations as one JSON array, by language (a correlated subquery)."""
    rows = (
        translation_rows()
        .filter(listing=OuterRef("pk"))
        .order_by("language")
        .values(json=JSONObject(language="language", title="title", summary="summary", description="description"))
    )
    return ArraySubquery(rows)


def translated(listings: QuerySet[Listing]) -> QuerySet[Listing]:
    """The same listings with their text in other languages (``translation_json``, read by
    ``opportunities.translations``) in the same statement: for the reads that show the text
    or check it (pages, the feed, the public API, an edit), at no extra query."""
    return listings.annotate(translation_json=_translations_json())


def public_listing_list() -> QuerySet[Listing]:
    """Published public listings, for anonymous readers (the public pages, the feed)."""
    return translated(listing_list(actor=Actor.anonymous()).filter(LIVE))


# ts_rank weights for the listing's rank vector (``Listing.search_rank_vector``: the search
# vector built by ``opportunities.services._index`` without its occupations), in ts_rank's
# order D, C, B, A: C its description, B its summary, A its title. D is not in the rank vector.
LISTING_RANK_WEIGHTS = [0.0, 0.1, 0.4, 1.0]
# What recruiting or offering an occupation the query names adds to the rank: a word of the
# query in the occupation's ISCO or ESCO titles (as the search vector's D part holds them)
# as a whole word, or only as a prefix ("nurs:*" in "nursery growers"). The occupations say
# what the listing is for, so they count for more than a word met in passing in the
# description (ts_rank gives a description match about 0.06, a title match about 0.6).
LISTING_OCCUPATION_RANK = 0.6
LISTING_OCCUPATION_PREFIX_RANK = 0.3


# A query word this long is also matched as a prefix, wherever it stands in the query:
# stemmers split some word families ("enfermera" is enfermer, "enfermería" enfermeri),
# and the stemmed prefix bridges them ("enfermeras para hospitales" finds a listing
# indexed as "enfermería"). Shorter words would match too much ("in:*").
LISTING_PREFIX_MIN_LENGTH = 5


def _listing_tsquery_text(words: Sequence[str], *, operator: str) -> str:
    last = len(words) - 1
    return f" {operator} ".join(
        f"({word} | {word}:*)" if n == last or len(word) >= LISTING_PREFIX_MIN_LENGTH else word
        for n, word in enumerate(words)
    )


class _EvaluatedOnce(SearchQuery):
    """A search query the planner sees as one opaque value: ``(SELECT <query>)``.

    The query repeats each term once per language configuration and per accent
    form ("'nurs' | 'nurs':*" six times for "nurse"). The planner folds the constant
    and estimates each repetition as an independent term, so a word in 4 % of the
    listings is estimated at a quarter of them, and it reads every stored vector
    in a sequential scan instead of asking the GIN index (issue 15: 190 ms at 10k,
    2 s at 100k). As an InitPlan the query is computed once per statement and
    estimated with the default full-text selectivity, which takes the index.
    """

    def __init__(self, query: SearchQuery) -> None:
        Func.__init__(self, query, output_field=SearchQueryField())

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # type: ignore[override]
        sql, params = compiler.compile(self.source_expressions[0])
        return f"(SELECT {sql})", list(params)


def listing_query(query: str) -> SearchQuery | None:
    """A listing search query in every language configuration: every word must match,
    as itself or, for long words and the last one (search as you type), as a prefix."""
    combined = _tsquery(query, "&", build=_listing_tsquery_text)
    return None if combined is None else _EvaluatedOnce(combined)


def _words_tsquery_text(words: Sequence[str], *, operator: str) -> str:
    return f" {operator} ".join(words)


def _occupations_matching(query: SearchQuery) -> ArraySubquery:
    """The codes of the unit groups whose ISCO titles or ESCO job titles match ``query``
    (``Occupation.search_vector``'s A and B: what ``_index`` puts in a listing's vector)."""
    titles = Occupation.objects.annotate(titles=TsFilter(F("search_vector"), weights="ab"))
    return ArraySubquery(
        titles.filter(level=Occupation.Level.UNIT, search_vector=query, titles=query).order_by().values("code")
    )


def listing_rank(text: str) -> Expression | None:
    """How well a listing matches ``listing_query(text)``: the higher, the better.

    The rank does not read the full search vector (about 4 KB a listing, TOASTed: ranking
    the 5,000 listings "nurse" matches at 100k read 28,000 buffers). It is ``ts_rank`` over
    the listing's own words (``search_rank_vector``, kept in the row), plus
    ``LISTING_OCCUPATION_RANK`` when the listing recruits or offers an occupation one of
    the query's words names (half as much when only as a prefix), found among the 436 ISCO
    unit groups once per statement and compared with the listing's ``isco_prefixes``.
    """
    query = listing_query(text)
    if query is None:
        return None
    any_word = _tsquery(text, "|", build=_listing_tsquery_text)
    whole_words = _tsquery(text, "|", build=_words_tsquery_text)
    assert any_word is not None and whole_words is not None  # the same words as the query
    occupation = Case(
        When(
            isco_prefixes__overlap=_occupations_matching(_EvaluatedOnce(whole_words)),
            then=Value(LISTING_OCCUPATION_RANK),
        ),
        When(
            isco_prefixes__overlap=_occupations_matching(_EvaluatedOnce(any_word)),
            then=Value(LISTING_OCCUPATION_PREFIX_RANK),
        ),
        default=Value(0.0),
        output_field=FloatField(),
    )
    own_words = SearchRank(F("search_rank_vector"), query, weights=LISTING_RANK_WEIGHTS)
    return ExpressionWrapper(own_words + occupation, output_field=FloatField())


# --- The lean read of the list and the detail (issue 15) ---------------------------------

# The listing's own columns the API shows, in the read serializer's order.
LISTING_ROW_FIELDS = (
    "id",
    "owner_id",
    "owner__name",
    "owner__slug",
    "owner__country",
    "owner_country",
    "status",
    "published_at",
    "submitted_at",
    "created_at",
    "updated_at",
    "total_quantity",
    "direction",
    "title",
    "summary",
    "description",
    "text_language",
    "scheme_type",
    "partner_countries",
    "sectors",
    "starts_on",
    "ends_on",
    "application_deadline",
    "duration_months_min",
    "duration_months_max",
    "circular",
    "housing",
    "social_security_coverage",
    "pension_portability",
    "qualification_recognition",
    "pre_departure_training",
    "return_reintegration_support",
    "fair_recruitment",
    "equal_access_for_women",
    "conditions_notes",
    "gender_provisions",
    "wage_floor_monthly",
    "currency",
    "annual_cap",
    "max_stay_months",
    "stay_window_months",
    "season_earliest_start",
    "season_latest_end",
    "min_guaranteed_hours",
    "min_guaranteed_hours_weeks",
    "lead_time_weeks",
    "gender_target_percent",
    "visibility",
    "requires_origin_consent",
    "government_agreement",
    "isco_prefixes",
    "allocations",
    "stay_overrides",
    "contact_id",
    "contact__full_name",
    "contact__email",
)


def listing_rows(listings: QuerySet[Listing]) -> QuerySet[Listing, dict[str, Any]]:
    """The same listings as plain rows, each with its occupation lines, translations and pending revision,
    in one statement: what the list and the detail render, and nothing else.

    ``listings`` is an actor's visible (and filtered, ordered) queryset from
    ``listing_list``; this only chooses the columns. It leaves out the stored search
    vector (about 5 KB a listing) and builds no model instances; the lines come as
    one JSON array per listing, in their order.
    """
    lines = (
        OccupationLine.objects.filter(listing=OuterRef("pk"))
        .order_by("position", "id")
        .values(
            json=JSONObject(
                isco_code="occupation_id",
                title_en="occupation__title_en",
                title_fr="occupation__title_fr",
                title_es="occupation__title_es",
                isco_level="occupation__level",
                quantity="quantity",
                skill_level="skill_level",
                min_experience_years="min_experience_years",
                languages="languages",
                qualification_notes="qualification_notes",
            )
        )
    )
    # The newest pending revision (at most one: listing_one_pending_revision); shown per audience.
    pending = feedback_rows()[1].filter(listing=OuterRef("pk"), status=RevisionStatus.PENDING).order_by("-created_at")
    return (
        listings.select_related(None)
        .prefetch_related(None)
        .annotate(
            lines=ArraySubquery(lines),
            translation_rows=_translations_json(),
            pending_revision_id=Subquery(pending.values("id")[:1]),
            pending_revision_at=Subquery(pending.values("created_at")[:1]),
        )
        .values(*LISTING_ROW_FIELDS, "lines", "translation_rows", "pending_revision_id", "pending_revision_at")
    )
