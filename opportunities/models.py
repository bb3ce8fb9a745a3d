"""Reference data: the classifications every opportunity is described with.

ISCO-08 occupations (with their ESCO job titles), ISIC Rev.4 sectors, ISO 639-1
languages and ISO 4217 currencies. The rows are loaded by data migrations from the
CSV files in ``opportunities/data/`` (see SOURCES.md there) and never edited in
the application. Countries come from django-countries and need no table.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Case, F, Value, When
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.tenancy import SharedManager
from opportunities.search import TsFilter

TRANSLATED_LANGUAGES = ("en", "fr", "es")


def active_language() -> str:
    """The request language reduced to one of the languages the data carries."""
    lang = (get_language() or "en").split("-")[0].lower()
    return lang if lang in TRANSLATED_LANGUAGES else "en"


class CefrLevel(models.TextChoices):
    """Common European Framework of Reference for Languages (Council of Europe)."""

    A1 = "A1", _("A1 (basic user)")
    A2 = "A2", _("A2 (basic user)")
    B1 = "B1", _("B1 (independent user)")
    B2 = "B2", _("B2 (independent user)")
    C1 = "C1", _("C1 (proficient user)")
    C2 = "C2", _("C2 (proficient user)")


class Occupation(models.Model):
    """An ISCO-08 group: major (1 digit), sub-major (2), minor (3) or unit group (4)."""

    class Level(models.IntegerChoices):
        MAJOR = 1, _("Major group")
        SUB_MAJOR = 2, _("Sub-major group")
        MINOR = 3, _("Minor group")
        UNIT = 4, _("Unit group")

    code = models.CharField(_("ISCO-08 code"), max_length=4, primary_key=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        db_column="parent_code",
    )
    title_en = models.CharField(_("title (English)"), max_length=255)
    title_fr = models.CharField(_("title (French)"), max_length=255)
    title_es = models.CharField(_("title (Spanish)"), max_length=255)
    skill_level = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("ISCO skill levels"),
        default=list,
        help_text=_("The ISCO skill level(s), 1 to 4, that most occupations in the group require."),
    )
    # Precomputed by opportunities.search.rebuild_occupation_search_index.
    search_document = models.TextField(editable=False, default="")
    search_terms = ArrayField(models.TextField(), editable=False, default=list)
    search_vector = SearchVectorField(editable=False, null=True)

    class Meta:
        verbose_name = _("occupation (ISCO-08)")
        verbose_name_plural = _("occupations (ISCO-08)")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["level", "code"], name="occupation_level_code"),
            GinIndex(fields=["search_vector"], name="occupation_search_vector"),
            GinIndex(fields=["search_document"], name="occupation_search_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["search_terms"], name="occupation_search_terms"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{1,4}$") & models.Q(level__gte=1, level__lte=4),
                name="occupation_code_is_isco",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def title(self) -> str:
        """The title in the active language."""
        return getattr(self, f"title_{active_language()}") or self.title_en


class Sector(models.Model):
    """An ISIC Rev.4 section (A–U), division (2 digits), group (3) or class (4)."""

    class Level(models.TextChoices):
        SECTION = "section", _("Section")
        DIVISION = "division", _("Division")
        GROUP = "group", _("Group")
        CLASS = "class", _("Class")

    code = models.CharField(_("ISIC Rev.4 code"), max_length=4, primary_key=True)
    level = models.CharField(_("level"), max_length=8, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        db_column="parent_code",
    )
    title_en = models.CharField(_("title (English)"), max_length=255)
    position = models.PositiveSmallIntegerField(_("position"), help_text=_("Order in the UNSD structure file."))

    class Meta:
        verbose_name = _("sector (ISIC Rev.4)")
        verbose_name_plural = _("sectors (ISIC Rev.4)")
        ordering = ["position"]
        indexes = [models.Index(fields=["level", "position"], name="sector_level_position")]

    def __str__(self) -> str:
        return f"{self.code} {self.title_en}"

    @property
    def title(self) -> str:
        # UNSD publishes no verifiable French or Spanish ISIC Rev.4 titles (SOURCES.md).
        return self.title_en


class EscoOccupation(models.Model):
    """An ESCO occupation (European Commission), mapped to its ISCO-08 unit group."""

    esco_code = models.CharField(_("ESCO code"), max_length=32, primary_key=True)
    occupation = models.ForeignKey(
        Occupation,
        verbose_name=_("ISCO-08 unit group"),
        on_delete=models.PROTECT,
        related_name="esco_occupations",
        db_column="isco_code",
        limit_choices_to={"level": Occupation.Level.UNIT},
    )
    title_en = models.CharField(_("title (English)"), max_length=255)
    alt_labels = ArrayField(models.CharField(max_length=255), verbose_name=_("alternative labels"), default=list)
    regulated_profession = models.BooleanField(_("regulated profession"), default=False)
    esco_uri = models.URLField(_("ESCO URI"), max_length=200, unique=True)

    class Meta:
        verbose_name = _("ESCO occupation")
        verbose_name_plural = _("ESCO occupations")
        ordering = ["esco_code"]

    def __str__(self) -> str:
        return f"{self.esco_code} {self.title_en}"


class CodedName(models.Model):
    """A reference code with its name in the three languages the data carries."""

    name_en = models.CharField(_("name (English)"), max_length=100)
    name_fr = models.CharField(_("name (French)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        """The name in the active language."""
        return getattr(self, f"name_{active_language()}") or self.name_en


class Language(CodedName):
    """An ISO 639-1 language."""

    code = models.CharField(_("ISO 639-1 code"), max_length=2, primary_key=True)

    class Meta(CodedName.Meta):
        verbose_name = _("language")
        verbose_name_plural = _("languages")


class Currency(CodedName):
    """An active ISO 4217 currency (funds, precious metals and testing codes excluded)."""

    code = models.CharField(_("ISO 4217 code"), max_length=3, primary_key=True)
    numeric = models.CharField(_("numeric code"), max_length=3, unique=True)
    minor_units = models.PositiveSmallIntegerField(_("minor units"), help_text=_("Digits after the decimal point."))

    class Meta(CodedName.Meta):
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")


# --- Listings -------------------------------------------------------------------------


class Direction(models.TextChoices):
    DEMAND = "demand", _("Demand: places offered by a destination government")
    SUPPLY = "supply", _("Supply: workers offered by an origin government")


class SchemeType(models.TextChoices):
    SEASONAL = "seasonal", _("Seasonal work scheme")
    CIRCULAR = "circular", _("Circular migration programme")
    MOBILITY_PARTNERSHIP = "mobility_partnership", _("Mobility partnership")
    TALENT_PARTNERSHIP = "talent_partnership", _("Talent / skills partnership")
    BILATERAL_LABOUR_AGREEMENT = "bilateral_labour_agreement", _("Bilateral labour agreement")
    G2G_RECRUITMENT = "g2g_recruitment", _("Government-to-government recruitment")
    OTHER = "other", _("Other")


class Visibility(models.TextChoices):
    MEMBERS = "members", _("All member organisations")
    PARTNERS = "partners", _("Partner countries only")
    PUBLIC = "public", _("Public")


class ListingStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for moderation")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired")


# Once published, a listing stays readable as history by whoever could read it published.
PUBLISHED_OR_HISTORY = (
    ListingStatus.PUBLISHED,
    ListingStatus.CLOSED,
    ListingStatus.WITHDRAWN,
    ListingStatus.EXPIRED,
)
IN_MODERATION = (ListingStatus.SUBMITTED, ListingStatus.CHANGES_REQUESTED, ListingStatus.REJECTED)

# Every list's default order: the newest published first, then by creation. A listing never
# published (a draft, one in moderation: only its owner and the moderators read it) comes
# after the published ones, in every direction: owners find theirs with the status filter.
NEWEST_FIRST = (F("published_at").desc(nulls_last=True), F("created_at").desc())

# What the read rule and the API list's usual filters read of a listing (the index on
# NEWEST_FIRST carries them; contact_id because the list's left join to its contact names it).
LIST_FILTER_COLUMNS = (
    "owner_id",
    "status",
    "visibility",
    "requires_origin_consent",
    "owner_country",
    "direction",
    "partner_countries",
    "isco_prefixes",
    "contact_id",
)

# In ``open_countries``: the listing names no partner, it is open to every country.
OPEN_TO_ALL = "*"


def open_countries() -> Case:
    """A listing's partner countries, or ``[OPEN_TO_ALL]`` when it names none: "open to MA" is
    then one array overlap with ``[MA, OPEN_TO_ALL]`` (``opportunities.access.open_to_country``),
    answered by one GIN index (``listing_isco_open_countries``). The filter and the index must
    use this same expression, or PostgreSQL does not match them."""
    return Case(
        When(partner_countries=[], then=Value([OPEN_TO_ALL], output_field=ArrayField(models.CharField(max_length=2)))),
        default=F("partner_countries"),
    )


# The search index's pending list, in kB (PostgreSQL's default is 4096).
SEARCH_PENDING_LIST_KB = 16384


class Listing(models.Model):
    """An opportunity posted by a government: a scheme (demand) or a labour offer (supply).

    Visibility is decided by ``opportunities.access`` (``listing_visible_to``); writes go
    through ``opportunities.services``. Denormalised columns (``owner_country``,
    ``total_quantity``, ``isco_prefixes``, ``search_vector``) are recomputed by the
    services on every write, in the same transaction.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="listings")
    owner_country = models.CharField(_("owner country"), max_length=2, editable=False)
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ListingStatus.choices, default=ListingStatus.DRAFT, editable=False
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    text_language = models.CharField(_("language of the text"), max_length=2, blank=True)
    scheme_type = models.CharField(_("scheme type"), max_length=32, choices=SchemeType.choices)
    partner_countries = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    sectors = ArrayField(models.CharField(max_length=2), default=list, blank=True)
    starts_on = models.DateField(_("window starts"))
    ends_on = models.DateField(_("window ends"))
    application_deadline = models.DateField(_("application deadline"))
    duration_months_min = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_months_max = models.PositiveSmallIntegerField(null=True, blank=True)
    circular = models.BooleanField(_("circular (return and re-entry)"), default=False)

    housing = models.BooleanField(_("housing provided"), default=False)
    social_security_coverage = models.BooleanField(_("social security coverage"), default=False)
    pension_portability = models.BooleanField(_("pension portability"), default=False)
    qualification_recognition = models.BooleanField(_("recognition of qualifications"), default=False)
    pre_departure_training = models.BooleanField(_("pre-departure training"), default=False)
    return_reintegration_support = models.BooleanField(_("return and reintegration support"), default=False)
    fair_recruitment = models.BooleanField(_("fair recruitment: workers pay no fees"), default=False)
    equal_access_for_women = models.BooleanField(_("equal access for women"), default=False)
    conditions_notes = models.TextField(_("notes on conditions"), blank=True)
    gender_provisions = models.TextField(_("gender provisions"), blank=True)
    wage_floor_monthly = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, blank=True)

    annual_cap = models.PositiveIntegerField(_("annual cap"), null=True, blank=True)
    allocations = models.JSONField(_("allocations per origin country"), default=list, blank=True)
    max_stay_months = models.PositiveSmallIntegerField(null=True, blank=True)
    stay_window_months = models.PositiveSmallIntegerField(null=True, blank=True)
    stay_overrides = models.JSONField(default=list, blank=True)
    season_earliest_start = models.CharField(max_length=5, blank=True)
    season_latest_end = models.CharField(max_length=5, blank=True)
    min_guaranteed_hours = models.PositiveIntegerField(null=True, blank=True)
    min_guaranteed_hours_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    lead_time_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    gender_target_percent = models.PositiveSmallIntegerField(null=True, blank=True)

    visibility = models.CharField(
        _("visibility"), max_length=16, choices=Visibility.choices, default=Visibility.MEMBERS
    )
    contact = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("contact")
    )

    # [12] safeguards. Origin-government consent (as in Germany's Triple Win): each origin
    # country of the allocations is admitted only once its government accepts
    # (OriginConsent). The government-to-government agreement a health-worker listing
    # recruiting from a WHO safeguard-list country must name.
    requires_origin_consent = models.BooleanField(
        _("recruitment only with the origin government's agreement"), default=False
    )
    government_agreement = models.CharField(_("government-to-government agreement"), max_length=300, blank=True)

    total_quantity = models.PositiveIntegerField(default=0, editable=False)
    # Every prefix of every line's ISCO code ("6111" → 6, 61, 611, 6111): an
    # indexed array containment answers "occupation 61" at any level.
    isco_prefixes = ArrayField(models.CharField(max_length=4), default=list, editable=False)
    search_vector = SearchVectorField(null=True, editable=False)
    # What a search ranks by (opportunities.selectors.listing_rank): the vector's title, summary
    # and description (weights A, B, C), without the occupations' titles (D, two thirds of it).
    # Small enough to stay in the row (STORAGE MAIN, migration 0007), where the full vector is
    # TOASTed: ranking thousands of matches reads no TOAST pages (issue 15, docs/benchmarks.md).
    search_rank_vector = models.GeneratedField(
        expression=TsFilter(models.F("search_vector"), weights="abc"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Shared by visibility: read through opportunities.access (listing_visible_to).
    objects = SharedManager["Listing"](access="opportunities.access")

    class Meta:
        verbose_name = _("listing")
        verbose_name_plural = _("listings")
        ordering = NEWEST_FIRST
        indexes = [
            models.Index(fields=["status", "direction", "-published_at"], name="listing_status_direction"),
            # The lists' default order (Meta.ordering, then the id the pagination ties on): a page
            # of 50 walks this index and stops, instead of sorting every visible listing. Never
            # published listings come last: first, a walk read every other organisation's draft
            # and submission (hidden from the reader) before the first listing it may see.
            # It carries the columns the read rule (opportunities.access) and the usual filters
            # read, so the API list's choice of a page's ids (config.pagination.IdsFirstPagination)
            # is an index-only walk: a filter that keeps 1 listing in 60 reads 3,000 index
            # entries, not 3,000 table rows. A column missing here costs speed, never correctness.
            models.Index(
                *NEWEST_FIRST,
                F("id"),
                name="listing_newest_first",
                include=LIST_FILTER_COLUMNS,
            ),
            # The public list and its count: the rule (opportunities.access) asks for one status
            # and one visibility, so with those two columns first the index is walked in the
            # list's order, or counted, over the public listings only.
            models.Index(F("visibility"), F("status"), *NEWEST_FIRST, F("id"), name="listing_public_newest_first"),
            models.Index(fields=["owner", "status"], name="listing_owner_status"),
            models.Index(fields=["owner_country"], name="listing_owner_country"),
            # The public schemes the statistics' outcome totals and open data count, without the heap.
            models.Index(fields=["visibility", "direction", "status"], include=["id"], name="listing_visibility"),
            models.Index(fields=["application_deadline"], name="listing_deadline"),
            models.Index(fields=["starts_on", "ends_on"], name="listing_window"),
            GinIndex(fields=["partner_countries"], name="listing_partner_countries"),
            GinIndex(fields=["sectors"], name="listing_sectors"),
            # "Occupation 92, open to MA" in one index scan (the filters' usual pair; either alone too):
            # the open countries hold "*" for a listing open to all, so "open to MA" is one
            # overlap (MA or *) and not the union of MA's listings with the 35 % open to all.
            GinIndex(F("isco_prefixes"), open_countries(), name="listing_isco_open_countries"),
            # A rewrite of up to ~2,000 listings' vectors stays in the pending list (fastupdate)
            # instead of merging it into the index mid-statement; autovacuum merges it (the
            # table's thresholds, migration 0008). docs/benchmarks.md, scenario 7.
            GinIndex(
                fields=["search_vector"], name="listing_search_vector", gin_pending_list_limit=SEARCH_PENDING_LIST_KB
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")), name="listing_window_order"),
            models.CheckConstraint(
                condition=models.Q(application_deadline__lte=models.F("ends_on")), name="listing_deadline_in_window"
            ),
            models.CheckConstraint(
                condition=models.Q(gender_target_percent__isnull=True) | models.Q(gender_target_percent__lte=100),
                name="listing_gender_target_percent",
            ),
            models.CheckConstraint(
                condition=models.Q(wage_floor_monthly__isnull=True) | ~models.Q(currency=""),
                name="listing_wage_has_currency",
            ),
            models.CheckConstraint(
                condition=~models.Q(visibility="partners") | ~models.Q(partner_countries=[]),
                name="listing_partners_visibility_needs_partners",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class OccupationLine(models.Model):
    """One occupation of a listing with its quantity (places for demand, workers for supply)."""

    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="occupation_lines")
    position = models.PositiveSmallIntegerField(default=0)
    occupation = models.ForeignKey(
        Occupation, on_delete=models.PROTECT, related_name="+", db_column="isco_code", verbose_name=_("ISCO-08")
    )
    quantity = models.PositiveIntegerField(_("quantity"))
    skill_level = models.PositiveSmallIntegerField(_("skill level"))
    min_experience_years = models.PositiveSmallIntegerField(null=True, blank=True)
    # [{"language": "de", "level": "B1"}]: required levels (demand) or available ones (supply).
    languages = models.JSONField(default=list, blank=True)
    qualification_notes = models.TextField(blank=True)

    class Meta:
        verbose_name = _("occupation line")
        verbose_name_plural = _("occupation lines")
        ordering = ["listing", "position"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="occupation_line_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(skill_level__gte=1, skill_level__lte=4), name="occupation_line_skill_level"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.occupation_id} × {self.quantity}"


class ConsentStatus(models.TextChoices):
    PENDING = "pending", _("Awaiting the origin government")
    ACCEPTED = "accepted", _("Accepted by the origin government")
    REFUSED = "refused", _("Refused by the origin government")


class OriginConsent(models.Model):
    """An origin government's answer to a listing that recruits from it only with its agreement."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="origin_consents")
    country = models.CharField(_("origin country"), max_length=2)
    status = models.CharField(max_length=16, choices=ConsentStatus.choices, default=ConsentStatus.PENDING)
    decided_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Shared between the listing's owner and the origin government (opportunities.access).
    objects = SharedManager["OriginConsent"](access="opportunities.access")

    class Meta:
        ordering = ["listing", "country"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "country"], name="origin_consent_one_per_country"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} × {self.country}: {self.status}"


class ListingTranslation(models.Model):
    """The listing's text in another language. The listing's own title, summary and
    description, in ``text_language``, are the authoritative text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=2)
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Read with its listing (opportunities.access).
    objects = SharedManager["ListingTranslation"](access="opportunities.access")

    class Meta:
        ordering = ["listing", "language"]
        constraints = [
            models.UniqueConstraint(fields=["listing", "language"], name="listing_translation_one_per_language"),
        ]

    def __str__(self) -> str:
        return f"{self.listing_id} ({self.language})"


class ListingTransition(models.Model):
    """One step of the moderation workflow: who, for which organisation, when, from, to, why."""

    id = models.BigAutoField(primary_key=True)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=20, choices=ListingStatus.choices)
    to_status = models.CharField(max_length=20, choices=ListingStatus.choices)
    action = models.CharField(max_length=32)
    actor = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.SET_NULL, null=True, related_name="+")
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    # Moderation feedback: private parts of a shared listing (opportunities.access).
    objects = SharedManager["ListingTransition"](access="opportunities.access")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.listing_id}: {self.from_status} → {self.to_status}"


class RevisionStatus(models.TextChoices):
    PENDING = "pending", _("Pending moderation")
    APPROVED = "approved", _("Approved")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    SUPERSEDED = "superseded", _("Superseded by a later edit")


class ListingRevision(models.Model):
    """A proposed edit of a published listing; the published version stays live until approved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="revisions")
    # The validated payload: the same shape as the API's write body.
    data = models.JSONField()
    status = models.CharField(max_length=20, choices=RevisionStatus.choices, default=RevisionStatus.PENDING)
    created_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    # Moderation feedback: private parts of a shared listing (opportunities.access).
    objects = SharedManager["ListingRevision"](access="opportunities.access")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing"], condition=models.Q(status="pending"), name="listing_one_pending_revision"
            ),
        ]

    def __str__(self) -> str:
        return f"revision of {self.listing_id} ({self.status})"
