"""Synthetic saved searches at scale, for the fan-out benchmark and its tests.

About one subscription in ten wants a typical published demand listing for ISCO
9211 (farm labourers) whose title contains ``MATCHING_WORDS``; each of the others
fails exactly one rule (occupation, direction, keywords, owner country, scheme
type, or inactive). Every subscription has an inbox channel and one in three a
feed channel, as partner governments set them up.
"""

from __future__ import annotations

import datetime
import random
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TextIO

from django.db import connection
from django.utils import timezone
from django_countries import countries as django_countries

from accounts.models import Organisation, OrganisationKind, VerificationStatus
from accounts.tenancy import unscoped
from exchange.models import Channel, ChannelType, Subscription
from exchange.models.profiles import Indicator, MigrationProfile, Observation, ProfileStatus, ProfileVisibility
from exchange.outcomes.totals import totals_rebuild
from opportunities.models import PUBLISHED_OR_HISTORY, Direction, EscoOccupation, Listing, Occupation, OccupationLine
from opportunities.search import both_forms, normalise
from opportunities.services import _INDEX_SQL  # the services' own vector, so search behaves as in production

# Keywords the listing's text matches ("harvest", "apple"), and ones it does not.
MATCHING_WORDS = ("harvest", "apple harvest", "apple")
OTHER_WORDS = ("nursing", "software engineers", "harvest -apple")
OWNER_COUNTRY = "IT"


def synthetic_subscriptions(
    organisations: Sequence[Organisation],
    count: int,
    *,
    seed: int,
    share: float = 0.1,
    batch: int = 5000,
    offset: int = 0,
) -> int:
    """Write ``count`` subscriptions (and their channels) spread over ``organisations``."""
    rng = random.Random(seed)  # noqa: S311 - reproducible load data, not security
    written = 0
    with unscoped("synthetic load data for every organisation"):
        for start in range(0, count, batch):
            rows = [
                _subscription(rng, organisations[n % len(organisations)], n, share)
                for n in range(offset + start, offset + min(count, start + batch))
            ]
            Subscription.objects.bulk_create(rows)
            channels = [
                Channel(subscription=s, organisation_id=s.organisation_id, type=ChannelType.INBOX) for s in rows
            ]
            channels += [
                Channel(
                    subscription=s,
                    organisation_id=s.organisation_id,
                    type=ChannelType.FEED,
                    feed_token=uuid.uuid4().hex,
                )
                for s in rows[::3]
            ]
            Channel.objects.bulk_create(channels)
            written += len(rows)
    return written


def _subscription(rng: random.Random, organisation: Organisation, n: int, share: float) -> Subscription:
    row = Subscription(organisation=organisation, name=f"Saved search {n}")
    if rng.random() < share:
        row.isco_prefixes = rng.choice([[], ["9"], ["92", "7"], ["9211"]])
        row.direction = rng.choice(["", "demand"])
        row.keywords = rng.choice(["", "", *MATCHING_WORDS])
        row.owner_countries = rng.choice([[], [OWNER_COUNTRY], [OWNER_COUNTRY, "ES"]])
        return row
    reason = rng.randrange(6)  # one reason not to want it
    row.isco_prefixes = ["2221"] if reason == 0 else []
    row.direction = "supply" if reason == 1 else ""
    row.keywords = rng.choice(OTHER_WORDS) if reason == 2 else ""
    row.owner_countries = ["ES"] if reason == 3 else []
    row.scheme_types = ["talent"] if reason == 4 else []
    row.active = reason != 5
    return row


# --- A whole world: organisations, listings, subscriptions, profiles (generate_load_data) ---

# Countries weighted roughly by how often they appear in real bilateral schemes
# (reference/real-schemes.md): a few corridors are busy, most are quiet.
ORIGINS = ("MA", "SN", "PH", "IN", "NP", "BD", "TN", "GH", "KE", "UA", "GT", "VN", "MD", "CV", "ID", "LK", "MX", "EG")
DESTINATIONS = ("DE", "ES", "IT", "FR", "CA", "AU", "NZ", "GB", "KR", "JP", "PT", "NL", "SE", "AE", "QA", "SA")
SCHEMES = ("seasonal", "circular", "talent_partnership", "bilateral_labour_agreement", "g2g_recruitment", "other")
# Filler for summaries and descriptions; occupation words come from the lines' titles, so a
# search for an occupation ("nurse") finds a few percent of the listings, as it would in life.
WORDS = (
    "season",
    "contract",
    "placement",
    "cohort",
    "intake",
    "programme",
    "quota",
    "employer",
    "region",
    "province",
    "district",
    "municipality",
    "accommodation",
    "transport",
    "visa",
    "permit",
    "orientation",
    "insurance",
    "medical",
    "examination",
    "interview",
    "selection",
    "language",
    "course",
    "certificate",
    "skills",
    "test",
    "wage",
    "overtime",
    "leave",
    "travel",
    "arrival",
    "departure",
    "reintegration",
    "savings",
    "remittances",
    "community",
    "mentoring",
    "induction",
    "safety",
    "equipment",
    "uniform",
    "meals",
    "schedule",
    "shifts",
    "rota",
    "review",
    "monitoring",
    "grievance",
    "helpline",
    "embassy",
    "consulate",
    "ministry",
    "agency",
    "partner",
    "bilateral",
    "framework",
)
BATCH = 2000


class Progress:
    """A plain progress bar on a stream (no dependency): ``label [#####     ] 5,000/10,000``."""

    def __init__(self, stream: TextIO | None, label: str, total: int) -> None:
        self.stream, self.label, self.total, self.done = stream, label, total, 0
        self.started = time.perf_counter()
        self._draw()

    def advance(self, n: int) -> None:
        self.done += n
        self._draw()
        if self.done >= self.total and self.stream is not None:
            self.stream.write("\n")

    def _draw(self) -> None:
        if self.stream is None:
            return
        width = 30
        filled = width * self.done // self.total if self.total else width
        elapsed = time.perf_counter() - self.started
        bar = "#" * filled + " " * (width - filled)
        self.stream.write(f"\r{self.label:<14} [{bar}] {self.done:>9,}/{self.total:,} {elapsed:6.1f} s")
        self.stream.flush()


@dataclass
class World:
    organisations: list[Organisation]
    listings: int
    subscriptions: int
    profiles: int
    outcomes: int


def synthetic_world(
    *,
    organisations: int,
    listings: int,
    subscriptions: int,
    profiles: int,
    seed: int,
    outcomes: int = 0,
    stream: TextIO | None = None,
) -> World:
    """Write a synthetic world in bulk; the same seed writes the same rows (ids included).

    Derived columns are filled as ``opportunities.services`` fills them: the owner's
    country, the total quantity, every ISCO prefix of every line, and the stored
    search vector through the services' own SQL (``services._INDEX_SQL``).
    """
    rng = random.Random(seed)  # noqa: S311 - reproducible load data, not security
    with unscoped("synthetic load data for every organisation"):
        orgs = _world_organisations(rng, organisations)
        written = _world_listings(rng, orgs, listings, stream)
        progress = Progress(stream, "subscriptions", subscriptions)
        done = 0
        while done < subscriptions:
            step = min(BATCH * 5, subscriptions - done)
            # About 1 % of the searches want the fan-out benchmark's typical listing.
            synthetic_subscriptions(orgs, step, seed=seed + done, share=0.01, offset=done)
            done += step
            progress.advance(step)
        made = _world_profiles(rng, orgs, profiles, stream)
    entries = synthetic_outcomes(orgs, outcomes, seed=seed, stream=stream) if outcomes else 0
    return World(orgs, written, subscriptions, made, entries)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _world_organisations(rng: random.Random, count: int) -> list[Organisation]:
    countries = [*DESTINATIONS, *ORIGINS] + [code for code, _name in django_countries if code not in ORIGINS]
    rows = []
    for n in range(count):
        country = countries[n % len(countries)]
        destination = country in DESTINATIONS or rng.random() < 0.2
        rows.append(
            Organisation(
                id=_uuid(rng),
                name=f"Ministry of Labour {n} ({country})",
                slug=f"load-{n}",
                kind=OrganisationKind.GOVERNMENT,
                country=country,
                is_origin=not destination or rng.random() < 0.5,
                is_destination=destination,
                verification_status=VerificationStatus.VERIFIED,  # load data: vetted, as the demo's
            )
        )
    rows.append(Organisation(id=_uuid(rng), name="Load agency", slug="load-agency", kind=OrganisationKind.AGENCY))
    return Organisation.objects.bulk_create(rows)


class OccupationTexts:
    """The occupation part of a listing's search vector, assembled as ``services._index`` does:
    the own titles of its lines' groups in code order, then their ESCO titles in ESCO order."""

    def __init__(self) -> None:
        self.titles: dict[str, str] = {}
        self.own: dict[str, list[str]] = {}
        for occ in Occupation.objects.filter(level=Occupation.Level.UNIT).order_by("code"):
            self.titles[occ.code] = occ.title_en
            self.own[occ.code] = [both_forms(getattr(occ, f"title_{lang}")) for lang in ("en", "fr", "es")]
        self.esco: dict[str, list[tuple[str, str]]] = {}
        for esco_code, code, title in EscoOccupation.objects.values_list("esco_code", "occupation_id", "title_en"):
            self.esco.setdefault(code, []).append((esco_code, normalise(title)))
        self.codes = sorted(self.titles)

    def text(self, codes: Sequence[str]) -> str:
        wanted = set(codes)
        parts = [title for code in sorted(wanted) for title in self.own[code]]
        parts += [title for _esco, title in sorted(pair for code in wanted for pair in self.esco.get(code, []))]
        return " | ".join(parts)


@contextmanager
def _indexes_built_after(table: str) -> Iterator[None]:
    """Drop ``table``'s secondary indexes for a bulk load and build them again after it.

    Building an index once over the loaded rows costs a fraction of keeping it up to date
    row by row (the GIN indexes most: every listing adds dozens of array and lexeme
    entries). Primary keys and the indexes behind constraints stay. The same definitions
    come back (``pg_get_indexdef``), so the world ends with the migrations' indexes.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE i.indrelid = %s::regclass AND NOT i.indisprimary"
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, definition in indexes:
            cursor.execute(definition)


def _world_listings(rng: random.Random, orgs: Sequence[Organisation], count: int, stream: TextIO | None) -> int:
    with _indexes_built_after("opportunities_listing"):
        return _write_listings(rng, orgs, count, stream)


def _write_listings(rng: random.Random, orgs: Sequence[Organisation], count: int, stream: TextIO | None) -> int:
    texts = OccupationTexts()
    governments = [o for o in orgs if o.kind == OrganisationKind.GOVERNMENT]
    now = timezone.now()
    progress = Progress(stream, "listings", count)
    for start in range(0, count, BATCH):
        listings, lines = [], []
        for n in range(start, min(count, start + BATCH)):
            listing, its_lines = _listing_row(rng, governments, texts.codes, texts.titles, now, n)
            listings.append(listing)
            lines.extend(its_lines)
        codes_of: dict[uuid.UUID, list[str]] = {}
        for line in lines:
            codes_of.setdefault(line.listing_id, []).append(line.occupation_id)
        Listing.objects.bulk_create(listings)
        OccupationLine.objects.bulk_create(lines)
        with connection.cursor() as cursor:
            cursor.executemany(
                _INDEX_SQL,
                [
                    {
                        "id": listing.pk,
                        "title": both_forms(listing.title),
                        "summary": both_forms(listing.summary),
                        "description": both_forms(listing.description),
                        "occupations": texts.text(codes_of[listing.pk]),
                    }
                    for listing in listings
                ],
            )
        progress.advance(len(listings))
    return count


def _listing_row(
    rng: random.Random,
    governments: Sequence[Organisation],
    codes: Sequence[str],
    titles: dict[str, str],
    now: datetime.datetime,
    n: int,
) -> tuple[Listing, list[OccupationLine]]:
    owner = rng.choice(governments)
    direction = "demand" if owner.is_destination and (not owner.is_origin or rng.random() < 0.5) else "supply"
    others = ORIGINS if direction == "demand" else DESTINATIONS
    partners = [] if rng.random() < 0.35 else sorted(set(rng.sample(others, rng.randint(1, 6))))
    visibility = rng.choices(["members", "partners", "public"], weights=[60, 25, 15])[0]
    if visibility == "partners" and not partners:
        visibility = "members"
    status = rng.choices(
        ["published", "closed", "expired", "withdrawn", "draft", "submitted"], weights=[80, 6, 5, 2, 5, 2]
    )[0]
    picked = sorted(set(rng.sample(codes, rng.randint(1, 5))))
    published_at = now - datetime.timedelta(minutes=rng.randint(0, 3 * 365 * 24 * 60))
    starts_on = published_at.date() + datetime.timedelta(days=rng.randint(30, 240))
    ends_on = starts_on + datetime.timedelta(days=rng.randint(60, 720))
    scheme = rng.choice(SCHEMES)
    words = " ".join(rng.sample(WORDS, 12))
    listing = Listing(
        id=_uuid(rng),
        owner=owner,
        owner_country=str(owner.country),
        direction=direction,
        status=status,
        title=f"{titles[picked[0]]}: {scheme.replace('_', ' ')} {n}",
        summary=f"{titles[picked[-1]]}, {words[:80]}",
        description=f"Places for {', '.join(titles[c] for c in picked)}. {words}.",
        text_language="en",
        scheme_type=scheme,
        partner_countries=partners,
        starts_on=starts_on,
        ends_on=ends_on,
        application_deadline=starts_on - datetime.timedelta(days=rng.randint(0, 30)),
        circular=scheme == "circular",
        fair_recruitment=rng.random() < 0.7,
        pension_portability=rng.random() < 0.3,
        housing=rng.random() < 0.5,
        visibility=visibility,
        published_at=None if status in ("draft", "submitted") else published_at,
        submitted_at=None if status == "draft" else published_at,
    )
    lines = [
        OccupationLine(
            listing=listing,
            position=position,
            occupation_id=code,
            quantity=rng.choice([5, 10, 20, 50, 100, 250, 500]),
            skill_level=int(rng.choice("1234")),
            languages=[{"language": "en", "level": "B1"}] if rng.random() < 0.3 else [],
        )
        for position, code in enumerate(picked)
    ]
    listing.total_quantity = sum(line.quantity for line in lines)
    listing.isco_prefixes = sorted({code[:k] for code in picked for k in range(1, len(code) + 1)})
    return listing, lines


def _world_profiles(rng: random.Random, orgs: Sequence[Organisation], count: int, stream: TextIO | None) -> int:
    """``count`` published migration profiles (one per country and year) with observations."""
    governments = [o for o in orgs if o.kind == OrganisationKind.GOVERNMENT]
    indicators = list(Indicator.objects.order_by("code").values_list("code", flat=True))
    by_country = {str(o.country): o for o in governments}
    slots = [(country, year) for year in range(2025, 1950, -1) for country in sorted(by_country)][:count]
    progress = Progress(stream, "profiles", len(slots))
    for start in range(0, len(slots), BATCH // 10):
        profiles = [
            MigrationProfile(
                id=_uuid(rng),
                owner=by_country[country],
                country=country,
                year=year,
                status=ProfileStatus.PUBLISHED,
                visibility=ProfileVisibility.MEMBERS,
                published_at=timezone.now(),
            )
            for country, year in slots[start : start + BATCH // 10]
        ]
        MigrationProfile.objects.bulk_create(profiles)
        Observation.objects.bulk_create(
            Observation(
                id=_uuid(rng),
                profile=profile,
                indicator_id=code,
                time_period=profile.year,
                value=Decimal(rng.randint(0, 10_000_000)) / 100,
                source="Synthetic load data",
            )
            for profile in profiles
            for code in indicators
        )
        progress.advance(len(profiles))
    return len(slots)


# --- The benchmarks' caller -------------------------------------------------------------

BENCH_EMAIL = "load-official@corridor.invalid"  # not bench_fanout's own "bench@"
BENCH_ORGANISATION = "load-0"  # a destination government (DESTINATIONS[0]) of the synthetic world


def bench_token(
    *, slug: str = BENCH_ORGANISATION, email: str = BENCH_EMAIL, role: str = "official"
) -> tuple[Organisation, str]:
    """A fresh API token for the benchmark's caller (by default the official of ``BENCH_ORGANISATION``;
    bench_stats also asks for an agency's viewer), made on first use."""
    from accounts.models import User
    from accounts.services import membership_add, token_issue

    with unscoped("the benchmark's caller, in the synthetic world"):
        organisation = Organisation.objects.get(slug=slug)
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=None, full_name="Benchmark caller")
        if not user.memberships.filter(organisation=organisation).exists():
            membership_add(organisation=organisation, user=user, role=role)
        _token, secret = token_issue(user=user, organisation=organisation, name="benchmark")
    return organisation, secret


# --- Outcome ledgers (generate_load_data --outcomes) ------------------------------------

# The columns COPY writes, in this order (exchange.models.OutcomeEntry).
OUTCOME_COLUMNS = (
    "id",
    "listing_id",
    "match_id",
    "origin_country",
    "isco_code",
    "period",
    "stage",
    "sex",
    "count",
    "corrects_id",
    "reason",
    "organisation_id",
    "reported_by_id",
    "reported_by_email",
    "created_at",
)
# A cohort's way through the pipeline (withdrawn comes beside it), and each stage's share of
# the stage before it: (low, high) of a uniform draw.
PIPELINE = (
    ("allocated", None, (1.0, 1.0)),
    ("nominated", "allocated", (0.6, 1.0)),
    ("selected", "nominated", (0.5, 0.95)),
    ("visa_issued", "selected", (0.8, 1.0)),
    ("arrived", "visa_issued", (0.9, 1.0)),
    ("completed", "arrived", (0.7, 1.0)),
    ("returned", "arrived", (0.5, 1.0)),
    ("re_engaged", "returned", (0.3, 0.8)),
)
# The stages the origin government reports, as in the demo ledgers; the owner reports the rest.
ORIGIN_REPORTS = frozenset({"nominated", "selected", "returned", "re_engaged"})
CORRECTION_REASONS = (
    "Counted twice in the weekly return.",
    "The consulate's figure replaces the estimate.",
    "Late withdrawals were counted as arrivals.",
    "A typing error in the original entry.",
)
OUTCOME_BATCH = 10_000
TOTALS_TRIGGER = "exchange_outcometotal_apply"  # migration 0014


@dataclass(frozen=True)
class Scheme:
    """What a synthetic ledger needs of its listing."""

    id: uuid.UUID
    owner: Organisation
    origins: list[str]  # the countries it admits (its partners; never the owner's)
    lines: list[str]
    periods: list[str]
    published_at: datetime.datetime


def synthetic_outcomes(orgs: Sequence[Organisation], count: int, *, seed: int, stream: TextIO | None = None) -> int:
    """Write ``count`` ledger entries over the world's schemes with COPY; the same seed and world, the same rows.

    The schemes are the published (or once published) demand listings that admit an
    origin, read back from the database in id order. Each gets a share of ``count``
    (skewed: a few busy schemes, many quiet ones) and a ledger as both its governments
    would report it (``_ledger``): cohorts of each origin, period and line (or none)
    through a prefix of the pipeline, every stage's total within the earlier stages'
    (``exchange.outcomes.inputs.BOUNDED_BY``), women and men counted apart (allocations
    and a few cohorts "not recorded"), the origin's stages reported by its government,
    and about one cohort in thirty corrected (its last entry restated lower, with a
    reason). The listings carry no allocations, so no quota bounds them. ``created_at``
    runs from the listing's publication to now in ledger order (a correction after
    what it corrects); the reporter is the organisation, its e-mail kept as a deleted
    account's would be (the world has no officials' accounts).
    """
    rng = random.Random(f"outcomes-{seed}")  # noqa: S311 - its own stream: the listings stay the same
    with unscoped("synthetic load data: the world's schemes, read back to give them ledgers"):
        schemes = _schemes(orgs)
    if not schemes or count <= 0:
        return 0
    governments: dict[str, Organisation] = {}
    for org in orgs:  # the first government of each country reports for it
        if org.kind == OrganisationKind.GOVERNMENT:
            governments.setdefault(str(org.country), org)
    weights = [rng.lognormvariate(0, 1) for _scheme in schemes]
    total_weight = sum(weights)
    now = timezone.now()
    progress = Progress(stream, "outcomes", count)
    written, cumulative, pending = 0, 0.0, 0
    with connection.cursor() as cursor:
        # The kept sums are rebuilt once at the end, not row by row (exchange.outcomes.totals).
        cursor.execute(f"ALTER TABLE exchange_outcomeentry DISABLE TRIGGER {TOTALS_TRIGGER}")
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY exchange_outcomeentry ({', '.join(OUTCOME_COLUMNS)}) FROM STDIN") as copy,
    ):
        for scheme, weight in zip(schemes, weights, strict=True):
            cumulative += weight
            share = round(count * cumulative / total_weight) - written
            if share <= 0:
                continue
            span = now - scheme.published_at
            for position, row in enumerate(_ledger(rng, scheme, governments)):
                if position == share:
                    break
                when = scheme.published_at + span * ((position + 1) / (share + 1))
                copy.write_row((*row, when))
            written += share
            pending += share
            if pending >= OUTCOME_BATCH or written == count:
                progress.advance(pending)
                pending = 0
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE exchange_outcomeentry ENABLE TRIGGER {TOTALS_TRIGGER}")
    totals_rebuild()
    return written


def _schemes(orgs: Sequence[Organisation]) -> list[Scheme]:
    by_id = {org.pk: org for org in orgs}
    listings = (
        Listing.objects.filter(direction=Direction.DEMAND, status__in=PUBLISHED_OR_HISTORY)
        .exclude(partner_countries=[])
        .order_by("pk")
        .values_list("pk", "owner_id", "owner_country", "partner_countries", "starts_on", "ends_on", "published_at")
    )
    lines: dict[uuid.UUID, list[str]] = {}
    for listing_id, code in (
        OccupationLine.objects.filter(listing__direction=Direction.DEMAND, listing__status__in=PUBLISHED_OR_HISTORY)
        .order_by("listing_id", "position")
        .values_list("listing_id", "occupation_id")
    ):
        lines.setdefault(listing_id, []).append(code)
    schemes = []
    for pk, owner_id, owner_country, partners, starts_on, ends_on, published_at in listings:
        origins = [code for code in partners if code != owner_country]
        if origins and owner_id in by_id and published_at is not None:
            schemes.append(
                Scheme(pk, by_id[owner_id], origins, lines.get(pk, []), _periods(starts_on, ends_on), published_at)
            )
    return schemes


def _periods(starts_on: datetime.date, ends_on: datetime.date) -> list[str]:
    return [str(year) for year in range(starts_on.year, ends_on.year + 1)]


def _ledger(rng: random.Random, scheme: Scheme, governments: dict[str, Organisation]) -> Iterator[tuple[Any, ...]]:
    """A scheme's ledger, entry after entry, without end (the caller stops at the scheme's share).

    Each round adds one cohort to every group (origin, line or none, period): a prefix
    of the pipeline, each stage a share of the one it follows, so every group's totals
    keep the pipeline order however many cohorts it has.
    """
    origins = rng.sample(scheme.origins, min(len(scheme.origins), rng.randint(1, 3)))
    periods = scheme.periods
    if rng.random() < 0.3:  # a monthly reporter: the months of its first year
        periods = [f"{periods[0]}-{month:02d}" for month in range(1, 13)]
    lines: list[str | None] = list(scheme.lines) if scheme.lines and rng.random() < 0.5 else [None]
    women = rng.betavariate(2, 3)  # the scheme's share of women
    groups = [(origin, line, period) for period in periods for origin in origins for line in lines]
    while True:
        for origin, line, period in groups:
            reporters = {False: scheme.owner, True: governments.get(origin, scheme.owner)}
            recorded = rng.random() >= 0.05  # one cohort in twenty: sex not recorded
            last: tuple[Any, ...] | None = None
            for stage, count, sex in _cohort(rng, women, recorded):
                org = reporters[stage in ORIGIN_REPORTS]
                last = (_uuid(rng), scheme.id, None, origin, line, period, stage, sex, count, None, "",
                        org.pk, None, f"{org.slug}@corridor.invalid")  # fmt: skip
                yield last
            if last is not None and rng.random() < 1 / 30:
                lower = max(0, last[8] - rng.randint(1, max(1, last[8] // 10)))
                yield (_uuid(rng), *last[1:8], lower, last[0], rng.choice(CORRECTION_REASONS), *last[11:])


def _cohort(rng: random.Random, women: float, recorded: bool) -> Iterator[tuple[str, int, str]]:
    """One cohort's entries: (stage, count, sex), the allocation first and not split by sex."""
    totals: dict[str, int] = {}
    depth = rng.randint(1, len(PIPELINE))
    for stage, after, (low, high) in PIPELINE[:depth]:
        totals[stage] = (
            rng.choice((20, 50, 100, 200, 500, 1000)) if after is None else int(totals[after] * rng.uniform(low, high))
        )
    if depth >= 2 and rng.random() < 0.3:
        totals["withdrawn"] = int((totals["nominated"] - totals.get("selected", 0)) * rng.uniform(0, 0.5))
    for stage, total in totals.items():
        if stage == "allocated" or not recorded:
            if total:
                yield stage, total, "X"
            continue
        female = round(total * women)
        for sex, n in (("F", female), ("M", total - female)):
            if n:
                yield stage, n, sex
