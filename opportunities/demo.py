"""Demo listings for ``manage.py seed_demo``, modelled on real schemes.

See ``/work/shared/reference/real-schemes.md`` (Spain's GECCO contingent for the
Huelva harvest, the German–Philippine Triple Win programme, the Spain–Senegal and
EU–Moldova arrangements, THAMM). Figures are rounded and partly invented for the
demo; the ISCO-08 codes follow that table.

Every listing is written the way an official writes it — validated by
``ListingWriteSerializer``, created by ``services.listing_create`` and moved along
the workflow by ``services.listing_transition`` with the demo officials and the
ILMA moderator — so the demo exercises the same rules as the API. A listing is
keyed by its owner and its title: when one exists (in whatever state someone has
since moved it to) the step leaves it alone, so running the seed again creates
nothing. Dates are relative to the day of the first run, so the published
listings' deadlines lie ahead.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Organisation, Role, User
from accounts.tenancy import Actor, tenant_scope
from opportunities.models import Listing, ListingStatus, Visibility

if TYPE_CHECKING:
    from accounts.management.commands.seed_demo import DemoContext

MODERATOR_ORGANISATION = "ilma"

Payload = Callable[[Callable[[int], str]], dict[str, Any]]


@dataclass(frozen=True)
class DemoListing:
    owner: str  # organisation slug
    status: str  # where the workflow leaves it: draft, submitted, changes_requested or published
    payload: Payload  # the write body, given days(n) → an ISO date n days from today
    reason: str = ""  # the moderator's reason, for changes requested
    # Origin governments' decisions on a listing that requires their consent, taken as soon as it is
    # published: (deciding organisation's slug, country, accept, reason). Countries not named stay pending.
    consents: tuple[tuple[str, str, bool, str], ...] = ()


def _gecco_huelva(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "demand",
        "title": "GECCO seasonal red-fruit harvest, Huelva",
        "summary": (
            "Collective hiring in the country of origin (GECCO) for the strawberry and berry harvest in "
            "Huelva: travel organised, housing provided, return at the end of the contract."
        ),
        "description": (
            "Each year the GECCO order sets a contingent of seasonal places for the red-fruit harvest of "
            "Huelva. Employers' associations file their needs; the public employment services of the "
            "partner countries pre-select candidates (ANAPEC in Morocco) and employers interview them in "
            "the country of origin. Workers who returned home after an earlier season are given priority."
        ),
        "text_language": "en",
        # The authoritative text is the English above; the scheme's own language and its
        # partners' (Morocco, Senegal) as translations (opportunities.translations).
        "translations": [
            {
                "language": "es",
                "title": "GECCO: campaña de temporada de frutos rojos, Huelva",
                "summary": (
                    "Gestión colectiva de contrataciones en origen (GECCO) para la campaña de la fresa y los "
                    "frutos rojos en Huelva: viaje organizado, alojamiento facilitado y retorno al final del "
                    "contrato."
                ),
                "description": (
                    "Cada año la orden GECCO fija un contingente de puestos de temporada para la campaña de "
                    "frutos rojos de Huelva. Las asociaciones de empleadores presentan sus necesidades; los "
                    "servicios públicos de empleo de los países socios preseleccionan a los candidatos (ANAPEC "
                    "en Marruecos) y los empleadores los entrevistan en el país de origen. Tienen prioridad "
                    "quienes regresaron a casa tras una campaña anterior."
                ),
            },
            {
                "language": "fr",
                "title": "GECCO : campagne saisonnière des fruits rouges, Huelva",
                "summary": (
                    "Recrutement collectif dans le pays d'origine (GECCO) pour la récolte des fraises et des "
                    "fruits rouges à Huelva : voyage organisé, logement fourni, retour à la fin du contrat."
                ),
                "description": (
                    "Chaque année, l'arrêté GECCO fixe un contingent de places saisonnières pour la récolte des "
                    "fruits rouges de Huelva. Les associations d'employeurs déclarent leurs besoins ; les services "
                    "publics de l'emploi des pays partenaires présélectionnent les candidats (l'ANAPEC au Maroc) "
                    "et les employeurs les reçoivent en entretien dans le pays d'origine. Les travailleurs rentrés "
                    "chez eux après une saison précédente sont prioritaires."
                ),
            },
        ],
        "scheme_type": "seasonal",
        "partner_countries": ["MA", "SN"],
        "sectors": ["A", "01"],
        "starts_on": days(75),
        "ends_on": days(330),
        "application_deadline": days(45),
        "duration_months_min": 3,
        "duration_months_max": 6,
        "circular": True,
        "housing": True,
        "social_security_coverage": True,
        "pre_departure_training": True,
        "return_reintegration_support": True,
        "fair_recruitment": True,
        "equal_access_for_women": True,
        "conditions_notes": (
            "Provincial collective agreement for agriculture; employers pay the return journey and provide "
            "free accommodation on or near the farm. A signed commitment to return is required."
        ),
        "gender_provisions": (
            "Most places go to women aged 25 to 40 from rural areas with farm experience; cultural "
            "mediators and a women's helpline in the province of Huelva."
        ),
        "wage_floor_monthly": "1184.00",
        "currency": "EUR",
        "annual_cap": 21500,
        "allocations": [
            {"country": "MA", "places": 20500, "isco_code": "9211"},
            {"country": "SN", "places": 500, "isco_code": "9211"},
        ],
        # Most places go to women: the outcomes ledger compares each stage with this target.
        "gender_target_percent": 80,
        "max_stay_months": 9,
        "stay_window_months": 12,
        "season_earliest_start": "01-15",
        "season_latest_end": "06-30",
        "lead_time_weeks": 12,
        "visibility": Visibility.PUBLIC,
        "occupation_lines": [
            {
                "isco_code": "9211",
                "quantity": 21000,
                "min_experience_years": 1,
                "languages": [{"language": "es", "level": "A1"}],
                "qualification_notes": "Harvesting by hand; workers from earlier seasons are prioritised.",
            }
        ],
    }


def _triple_win(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "demand",
        "title": "Triple Win: nurses and care assistants from the Philippines",
        "summary": (
            "Government-to-government placement of Filipino nurses in German hospitals and care homes, with "
            "German courses before departure and recognition of the nursing qualification after arrival."
        ),
        "description": (
            "Run with the Department of Migrant Workers under the 2013 placement agreement. Candidates "
            "learn German to B1 in the Philippines, start as nursing assistants and work as registered "
            "nurses once they pass the knowledge exam for recognition. A joint committee meets yearly."
        ),
        "text_language": "en",
        "scheme_type": "talent_partnership",
        # Recruitment only with each origin government's agreement, as in the real programme: the
        # Philippines has agreed; Morocco, invited to join, has not answered yet.
        "partner_countries": ["PH", "MA"],
        "requires_origin_consent": True,
        "government_agreement": "Germany–Philippines placement agreement on nurses (Triple Win), 2013",
        "sectors": ["Q", "86", "87"],
        "starts_on": days(120),
        "ends_on": days(850),
        "application_deadline": days(90),
        "duration_months_min": 24,
        "social_security_coverage": True,
        "qualification_recognition": True,
        "pre_departure_training": True,
        "fair_recruitment": True,
        "equal_access_for_women": True,
        "conditions_notes": (
            "Employers pay language training, recognition, visa and travel; workers pay no fees. Pay rises "
            "to a registered nurse's salary once the qualification is recognised."
        ),
        "wage_floor_monthly": "2800.00",
        "currency": "EUR",
        "annual_cap": 600,
        "allocations": [
            {"country": "PH", "places": 450, "isco_code": "2221"},
            {"country": "PH", "places": 150, "isco_code": "5321"},
        ],
        "lead_time_weeks": 52,
        "visibility": Visibility.PUBLIC,
        "occupation_lines": [
            {
                "isco_code": "2221",
                "quantity": 450,
                "min_experience_years": 1,
                "languages": [{"language": "de", "level": "B1"}, {"language": "en", "level": "B2"}],
                "qualification_notes": (
                    "Bachelor of Science in Nursing and a Philippine nursing licence; recognition exam after arrival."
                ),
            },
            {
                "isco_code": "5321",
                "quantity": 150,
                "languages": [{"language": "de", "level": "B1"}],
                "qualification_notes": "Caregiver training (national certificate) or nursing studies.",
            },
        ],
    }


def _italy_construction(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "demand",
        "title": "Circular construction programme: building labourers and bricklayers",
        "summary": (
            "Nine- to twelve-month contracts on building sites in northern Italy within the flows decree "
            "quotas, with a right to return for the next season."
        ),
        "description": (
            "Places reserved for the partner countries within the annual entry quotas. Workers receive "
            "safety-at-work training before starting, are enrolled in the construction workers' fund, and "
            "keep priority for the following year if they return on time."
        ),
        "text_language": "en",
        "scheme_type": "circular",
        "partner_countries": ["SN", "MD"],
        "sectors": ["F", "41", "43"],
        "starts_on": days(90),
        "ends_on": days(455),
        "application_deadline": days(60),
        "duration_months_min": 9,
        "duration_months_max": 12,
        "circular": True,
        "housing": True,
        "social_security_coverage": True,
        "pension_portability": True,
        "pre_departure_training": True,
        "return_reintegration_support": True,
        "fair_recruitment": True,
        "equal_access_for_women": True,
        "wage_floor_monthly": "1650.00",
        "currency": "EUR",
        "annual_cap": 600,
        "allocations": [
            {"country": "SN", "places": 300},
            {"country": "MD", "places": 250},
        ],
        "gender_target_percent": 15,
        "max_stay_months": 12,
        "stay_window_months": 18,
        "lead_time_weeks": 16,
        "visibility": Visibility.MEMBERS,
        "occupation_lines": [
            {"isco_code": "9313", "quantity": 400, "languages": [{"language": "it", "level": "A1"}]},
            {
                "isco_code": "7112",
                "quantity": 150,
                "min_experience_years": 2,
                "languages": [{"language": "it", "level": "A2"}],
                "qualification_notes": "Trade test on arrival; 16 hours of safety training before starting.",
            },
        ],
    }


def _germany_hospitality(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "demand",
        "title": "Hospitality skills partnership: cooks, waiters and hotel receptionists",
        "summary": "Vocational training and placement in German hotels and restaurants for North African partners.",
        "description": (
            "Modelled on THAMM: candidates are trained in their country to the German standard, learn "
            "German and are placed with employers that committed places in advance."
        ),
        "text_language": "en",
        "scheme_type": "talent_partnership",
        "partner_countries": ["MA", "TN", "EG"],
        "sectors": ["I", "55", "56"],
        "starts_on": days(150),
        "ends_on": days(515),
        "application_deadline": days(100),
        "duration_months_min": 12,
        "duration_months_max": 24,
        "qualification_recognition": True,
        "pre_departure_training": True,
        "visibility": Visibility.MEMBERS,
        "occupation_lines": [
            {"isco_code": "5120", "quantity": 60, "languages": [{"language": "de", "level": "A2"}]},
            {"isco_code": "5131", "quantity": 80, "languages": [{"language": "de", "level": "A2"}]},
            {
                "isco_code": "4224",
                "quantity": 30,
                "languages": [{"language": "de", "level": "B1"}, {"language": "en", "level": "B1"}],
            },
        ],
    }


def _morocco_women_harvest(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "supply",
        "title": "Women farm workers for seasonal red-fruit harvests",
        "summary": (
            "Women from rural provinces with harvest experience, pre-selected by ANAPEC and available for "
            "seasonal contracts with return."
        ),
        "description": (
            "ANAPEC pre-selects candidates in the regions of Fez-Meknes and Beni Mellal-Khenifra, holds "
            "information sessions and a pre-departure orientation on rights, contracts and health, and "
            "offers returning workers business training and small grants to start a farm business."
        ),
        "text_language": "en",
        "translations": [
            {
                "language": "ar",
                "title": "عاملات فلاحيات لمواسم جني الفواكه الحمراء",
                "summary": (
                    "نساء من الأقاليم القروية لهن خبرة في الجني، تنتقيهن الوكالة الوطنية لإنعاش التشغيل والكفاءات، "
                    "متاحات لعقود موسمية مع العودة."
                ),
                "description": (
                    "تنتقي الوكالة المرشحات في جهتي فاس مكناس وبني ملال خنيفرة، وتنظم جلسات إعلامية وتوجيها قبل "
                    "المغادرة حول الحقوق والعقود والصحة، وتقدم للعائدات تكوينا في تسيير المقاولات ومنحا صغيرة "
                    "لإنشاء مشروع فلاحي."
                ),
            },
            {
                "language": "fr",
                "title": "Ouvrières agricoles pour les récoltes saisonnières de fruits rouges",
                "summary": (
                    "Des femmes des provinces rurales ayant l'expérience de la récolte, présélectionnées par "
                    "l'ANAPEC et disponibles pour des contrats saisonniers avec retour."
                ),
                "description": (
                    "L'ANAPEC présélectionne les candidates dans les régions de Fès-Meknès et de Béni "
                    "Mellal-Khénifra, organise des séances d'information et une orientation avant le départ sur "
                    "les droits, les contrats et la santé, et propose aux travailleuses de retour une formation à "
                    "la gestion d'entreprise et de petites subventions pour créer une exploitation agricole."
                ),
            },
        ],
        "scheme_type": "seasonal",
        "partner_countries": ["ES"],
        "sectors": ["A", "01"],
        "starts_on": days(60),
        "ends_on": days(360),
        "application_deadline": days(40),
        "duration_months_min": 3,
        "duration_months_max": 9,
        "circular": True,
        "pre_departure_training": True,
        "return_reintegration_support": True,
        "fair_recruitment": True,
        "equal_access_for_women": True,
        "gender_provisions": (
            "Women aged 25 to 40 with farm experience; a women's focal point in each provincial office and "
            "reintegration grants reserved for returning women."
        ),
        "gender_target_percent": 90,
        "visibility": Visibility.MEMBERS,
        "occupation_lines": [
            {
                "isco_code": "9211",
                "quantity": 3000,
                "min_experience_years": 1,
                "languages": [
                    {"language": "ar", "level": "C2"},
                    {"language": "fr", "level": "A2"},
                    {"language": "es", "level": "A1"},
                ],
                "qualification_notes": "Harvest experience at home; 1,200 have worked an earlier season in Spain.",
            }
        ],
    }


def _philippines_nurses(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "supply",
        "title": "Registered nurses and nursing associates for Germany",
        "summary": "Licensed Filipino nurses with German at B1 or B2, ready for placement through Triple Win.",
        "description": (
            "Candidates are screened by the Department of Migrant Workers, hold a Philippine nursing "
            "licence and have studied German at accredited schools. Deployment follows the ethical "
            "recruitment rules: no placement fees are charged to workers."
        ),
        "text_language": "en",
        "scheme_type": "talent_partnership",
        "partner_countries": ["DE"],
        "sectors": ["Q", "86"],
        "starts_on": days(90),
        "ends_on": days(630),
        "application_deadline": days(75),
        "duration_months_min": 24,
        "qualification_recognition": True,
        "pre_departure_training": True,
        "return_reintegration_support": True,
        "fair_recruitment": True,
        "equal_access_for_women": True,
        "visibility": Visibility.PARTNERS,
        "occupation_lines": [
            {
                "isco_code": "2221",
                "quantity": 500,
                "min_experience_years": 2,
                "languages": [{"language": "de", "level": "B2"}, {"language": "en", "level": "C1"}],
                "qualification_notes": "BSN degree and a Philippine nursing licence.",
            },
            {
                "isco_code": "3221",
                "quantity": 200,
                "min_experience_years": 1,
                "languages": [{"language": "de", "level": "B1"}, {"language": "en", "level": "B2"}],
            },
        ],
    }


def _senegal_construction(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "supply",
        "title": "Construction labourers and bricklayers for circular contracts",
        "summary": "Builders and labourers, many of them returnees, for twelve-month contracts with return.",
        "description": (
            "Building on the 2006–2007 arrangements with Spain, the ministry proposes candidates (two "
            "thirds of them returnees), and the embassy and employers interview and choose."
        ),
        "text_language": "en",
        "scheme_type": "circular",
        "partner_countries": ["IT", "ES"],
        "sectors": ["F"],
        "starts_on": days(45),
        "ends_on": days(410),
        "application_deadline": days(30),
        "duration_months_min": 9,
        "duration_months_max": 12,
        "circular": True,
        "pre_departure_training": True,
        "return_reintegration_support": True,
        "fair_recruitment": True,
        "visibility": Visibility.MEMBERS,
        "occupation_lines": [
            {"isco_code": "9313", "quantity": 600, "languages": [{"language": "fr", "level": "C1"}]},
            {
                "isco_code": "7112",
                "quantity": 200,
                "min_experience_years": 3,
                "languages": [{"language": "fr", "level": "C1"}, {"language": "it", "level": "A1"}],
            },
        ],
    }


def _moldova_mobility(days: Callable[[int], str]) -> dict[str, Any]:
    return {
        "direction": "supply",
        "title": "Builders and farm workers under the EU–Moldova Mobility Partnership",
        "summary": "Skilled builders, labourers and farm workers for legal employment in EU member states.",
        "text_language": "en",
        "scheme_type": "mobility_partnership",
        "partner_countries": ["IT", "DE", "ES"],
        "sectors": ["F", "A"],
        "starts_on": days(120),
        "ends_on": days(485),
        "application_deadline": days(90),
        "pension_portability": True,
        "pre_departure_training": True,
        "return_reintegration_support": True,
        "fair_recruitment": True,
        "equal_access_for_women": True,
        "visibility": Visibility.MEMBERS,
        "occupation_lines": [
            {
                "isco_code": "7112",
                "quantity": 150,
                "min_experience_years": 3,
                "languages": [{"language": "ro", "level": "C2"}, {"language": "it", "level": "A2"}],
            },
            {"isco_code": "9313", "quantity": 300, "languages": [{"language": "ro", "level": "C2"}]},
            {"isco_code": "9211", "quantity": 200, "languages": [{"language": "ro", "level": "C2"}]},
        ],
    }


DEMO_LISTINGS: tuple[DemoListing, ...] = (
    DemoListing("es-inclusion", ListingStatus.PUBLISHED, _gecco_huelva),
    DemoListing(
        "de-employment-agency",
        ListingStatus.PUBLISHED,
        _triple_win,
        consents=(("ph-migrant-workers", "PH", True, "Within the 2013 placement agreement."),),
    ),
    DemoListing("it-labour", ListingStatus.PUBLISHED, _italy_construction),
    DemoListing("ma-anapec", ListingStatus.PUBLISHED, _morocco_women_harvest),
    DemoListing("ph-migrant-workers", ListingStatus.PUBLISHED, _philippines_nurses),
    DemoListing("sn-labour", ListingStatus.SUBMITTED, _senegal_construction),
    DemoListing(
        "de-labour",
        ListingStatus.CHANGES_REQUESTED,
        _germany_hospitality,
        reason=(
            "Please give the wage floor and its currency, and say who pays visa, travel and placement "
            "costs: the listing must show that workers pay no recruitment fees."
        ),
    ),
    DemoListing("md-labour", ListingStatus.DRAFT, _moldova_mobility),
)


def _actor(ctx: DemoContext, slug: str, role: str) -> Actor:
    from accounts.management.commands.seed_demo import DEMO_ORGANISATIONS

    spec = next(spec for spec in DEMO_ORGANISATIONS if spec.slug == slug)
    organisation: Organisation = ctx.organisations[slug]
    user: User = ctx.users[spec.email(role)]
    return Actor(user=user, organisation=organisation, role=role)


def _post(owner: Actor, moderator: Actor, spec: DemoListing, payload: dict[str, Any]) -> Listing:
    """Create, submit and moderate one listing as its official and the moderator would."""
    from opportunities.inputs import ListingWriteSerializer
    from opportunities.services import listing_create, listing_transition

    with tenant_scope(owner):
        body = ListingWriteSerializer(data=payload, context={"actor": owner})
        if not body.is_valid():
            # seed_demo reports a Django ValidationError as a command error naming the fields.
            raise ValidationError(f"{spec.owner}, '{payload['title']}': {body.errors}")
        listing = listing_create(actor=owner, data=body.validated_data)
        if spec.status != ListingStatus.DRAFT:
            listing = listing_transition(actor=owner, listing=listing, action="submit")
    with tenant_scope(moderator):
        if spec.status == ListingStatus.PUBLISHED:
            listing = listing_transition(actor=moderator, listing=listing, action="approve")
        elif spec.status == ListingStatus.CHANGES_REQUESTED:
            listing = listing_transition(actor=moderator, listing=listing, action="request_changes", reason=spec.reason)
    return listing


def _decide_consents(ctx: DemoContext, spec: DemoListing, listing: Listing) -> None:
    """The origin governments' answers, as their officials give them on /consents/."""
    from opportunities.services import consent_decide

    for slug, country, accept, reason in spec.consents:
        government = _actor(ctx, slug, Role.OFFICIAL)
        with tenant_scope(government):
            consent_decide(actor=government, listing=listing, country=country, accept=accept, reason=reason)


def seed_listings(ctx: DemoContext) -> None:
    """The demo schemes and labour offers, posted and moderated through the services."""
    today = timezone.localdate()

    def days(n: int) -> str:
        return (today + datetime.timedelta(days=n)).isoformat()

    moderator = _actor(ctx, MODERATOR_ORGANISATION, Role.MODERATOR)
    created = 0
    statuses: Counter[str] = Counter()
    for spec in DEMO_LISTINGS:
        payload = spec.payload(days)
        organisation = ctx.organisations[spec.owner]
        listing = Listing.objects.filter(owner=organisation, title=payload["title"]).first()
        if listing is None:
            listing = _post(_actor(ctx, spec.owner, Role.OFFICIAL), moderator, spec, payload)
            _decide_consents(ctx, spec, listing)
            ctx.log(f"Created listing '{listing.title}' ({spec.owner}, {listing.get_status_display().lower()})")
            created += 1
        statuses[listing.status] += 1
    first = [ListingStatus.PUBLISHED, ListingStatus.SUBMITTED, ListingStatus.CHANGES_REQUESTED, ListingStatus.DRAFT]
    order = [status for status in dict.fromkeys([*first, *ListingStatus.values]) if statuses[status]]
    breakdown = ", ".join(f"{statuses[status]} {ListingStatus(status).label.lower()}" for status in order)
    ctx.log(f"Demo listings: {len(DEMO_LISTINGS)} ({created} new): {breakdown}.")
