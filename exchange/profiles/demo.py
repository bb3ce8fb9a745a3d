"""Demo migration profiles for ``manage.py seed_demo`` (issue [8]).

Seven countries of the demo (three of destination, four of origin), each with a
profile for two reference years, 2023 and 2024, both published: the 2024
profile is a profile of its own year, not a revision of 2023's. Senegal also
has a 2025 draft, so the demo shows a profile its government is still writing.

The figures are shaped like the international series the catalogue mirrors
(UN DESA International Migrant Stock, World Bank/KNOMAD remittances, ILOSTAT,
UNHCR, Remittance Prices Worldwide, OECD DIOC, UNDP) and like the national
sources named on the skills rows; every one names its real source in
``source`` and, as none is copied verbatim, says so in ``comment``. They are
rounded and partly invented: good enough for charts and suggestions, not for
citing.

Everything is written the way a government writes it: the profile by
``profile_create`` (its body checked by ``ProfileWriteSerializer``), the figures
validated one by one by ``ObservationInput`` (see ``_load_observations``), the
skills rows by ``SkillInput`` and ``skill_save`` (``_add_skills``), then ``profile_publish``. A
profile is keyed by country and year: one that exists, in whatever state, is
left alone, so running the seed again creates nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Organisation, Role, User
from accounts.services import audit_record
from accounts.tenancy import Actor, tenant_scope
from exchange import access
from exchange.models import MigrationProfile, Observation, ProfileStatus, ProfileVisibility
from exchange.models.profiles import TOTAL_AGE, Sex

if TYPE_CHECKING:
    from accounts.management.commands.seed_demo import DemoContext

Number = int | str  # a total; str for decimals ("12.4"), kept exact
Triple = tuple[Number, Number, Number]  # total, women, men
Figure = Number | Triple


def women(total: int, share: float) -> Triple:
    """A count split by sex: women are ``share`` of ``total``, men the rest (so F + M = T)."""
    female = round(total * share)
    return (total, female, total - female)


# Where each indicator's figures come from: the real series, as a statistician would cite it.
SOURCES: dict[str, str] = {
    "MIG_STOCK_IN": "UN DESA, International Migrant Stock 2024",
    "MIG_STOCK_IN_PCT": "UN DESA, International Migrant Stock 2024",
    "MIG_STOCK_OUT": "UN DESA, International Migrant Stock 2024 (by country of origin)",
    "NET_MIGRATION": "UN DESA, World Population Prospects 2024",
    "MIG_INFLOW": "OECD, International Migration Database (MIG/B11)",
    "REFUGEES_HOSTED": "UNHCR, Refugee Data Finder",
    "REFUGEES_ORIGIN": "UNHCR, Refugee Data Finder",
    "REMIT_IN_USD": "World Bank / KNOMAD, remittance inflows (WDI BX.TRF.PWKR.CD.DT)",
    "REMIT_IN_GDP": "World Bank / KNOMAD (WDI BX.TRF.PWKR.DT.GD.ZS)",
    "REMIT_OUT_USD": "World Bank / KNOMAD, remittance outflows (WDI BM.TRF.PWKR.CD.DT)",
    "REMIT_COST": "World Bank, Remittance Prices Worldwide (SDG 10.c.1)",
    "RECRUIT_COST": "ILO and World Bank/KNOMAD, recruitment cost surveys (SDG 10.7.1)",
    "EMIG_RATE_TERTIARY": "OECD, Database on Immigrants in OECD Countries (DIOC 2015/16 and 2020/21)",
    "HDI": "UNDP, Human Development Report 2025",
    "LF_MIGRANT_SHARE": "ILOSTAT, International Labour Migration Statistics (ILMS)",
    "EMP_MIGRANTS": "ILOSTAT, International Labour Migration Statistics (ILMS)",
    "UNEMP_RATE_FOREIGN": "ILOSTAT, unemployment rate by sex and citizenship",
    "UNEMP_RATE_NATIONAL": "ILOSTAT, unemployment rate by sex and citizenship",
    "UNEMP_RATE": "ILOSTAT, modelled estimates (SDG 8.5.2)",
    "YOUTH_NEET": "ILOSTAT (SDG 8.6.1)",
    "EARNINGS_MIGRANTS": "ILOSTAT, International Labour Migration Statistics (ILMS)",
    "VACANCY_RATE": "Eurostat, job vacancy statistics (jvs_a_rate_r2)",
    "SDG_10_7_2": "UN DESA and IOM, World Population Policies (SDG 10.7.2)",
    "ILO_CONVENTIONS": "ILO, NORMLEX",
}


@dataclass(frozen=True)
class DemoSkill:
    kind: str  # shortage, surplus or diaspora
    isco: str  # ISCO-08 unit group
    isic: str | None  # ISIC Rev.4 section or division, if the source gives one
    severity: str
    source: str  # "{year}" is the profile's year


@dataclass(frozen=True)
class DemoProfile:
    country: str
    owner: str  # the organisation slug of the government that owns the profile
    visibility: str
    # The four narratives: part -> (text, ISO 639-1 language); "{year}" is the profile's year.
    narratives: Mapping[str, tuple[str, str]]
    # indicator code (or "CODE@AGE" for an age band) -> {time period: total, or (total, women, men)}
    series: Mapping[str, Mapping[int, Figure]]
    # National sources, where the country's own administration publishes the series.
    sources: Mapping[str, str]
    skills: tuple[DemoSkill, ...]
    years: tuple[int, ...] = (2023, 2024)
    draft_years: tuple[int, ...] = ()


SHORTAGE, SURPLUS, DIASPORA = "shortage", "surplus", "diaspora"
HIGH, MEDIUM, LOW = "high", "medium", "low"
EURES = "Eurostat/ELA EURES shortage occupations report {year}"

ITALY = DemoProfile(
    country="IT",
    owner="it-labour",
    visibility=ProfileVisibility.PUBLIC,
    narratives={
        "migration_data": (
            "Italy counts about 6.5 million people born abroad, a little over one in ten residents, and more "
            "women than men among them. Net migration has been positive since 2015 and rose again after 2021.",
            "en",
        ),
        "development_impact": (
            "Migrants in Italy send home some 13 billion US dollars a year, chiefly to Romania, Bangladesh, "
            "Pakistan and Morocco; the average cost of sending 200 dollars has fallen to about 5 per cent.",
            "en",
        ),
        "labour_market": (
            "Foreign workers make up a tenth of the labour force and are most present in agriculture, care "
            "and construction. Employers report harvest labourers and home-care workers hardest to find in {year}.",
            "en",
        ),
        "management_capacity": (
            "Work entry follows the three-year flows decree (decreto flussi) with quotas reserved for "
            "countries that cooperate on migration. Italy has ratified all four ILO migrant-worker conventions.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_IN": {2015: women(5_805_000, 0.53), 2020: women(6_387_000, 0.53), 2024: women(6_650_000, 0.53)},
        "MIG_STOCK_IN_PCT": {
            2015: ("9.6", "9.9", "9.2"),
            2020: ("10.6", "11.0", "10.2"),
            2024: ("11.3", "11.7", "10.9"),
        },
        "NET_MIGRATION": {2015: 60_000, 2020: 80_000, 2023: 270_000, 2024: 250_000},
        "MIG_INFLOW": {2015: women(250_500, 0.50), 2020: women(191_800, 0.52), 2023: women(330_000, 0.49)},
        "REFUGEES_HOSTED": {2015: women(118_000, 0.20), 2020: women(128_000, 0.27), 2023: women(300_000, 0.40)},
        "REMIT_OUT_USD": {2015: 10_360, 2020: 11_360, 2023: 13_200, 2024: 13_600},
        "REMIT_COST": {2015: "6.5", 2020: "5.6", 2023: "5.3", 2024: "5.1"},
        "HDI": {2015: "0.887", 2020: "0.895", 2023: "0.915"},
        "LF_MIGRANT_SHARE": {
            2015: ("10.5", "10.9", "10.2"),
            2020: ("10.2", "10.6", "9.9"),
            2023: ("10.3", "10.5", "10.1"),
        },
        "EMP_MIGRANTS": {2015: women(2_359_000, 0.44), 2020: women(2_346_000, 0.43), 2023: women(2_374_000, 0.43)},
        "UNEMP_RATE_FOREIGN": {
            2015: ("16.2", "17.6", "15.2"),
            2020: ("13.1", "15.6", "11.3"),
            2023: ("11.8", "14.9", "9.6"),
        },
        "UNEMP_RATE_NATIONAL": {
            2015: ("11.4", "12.5", "10.6"),
            2020: ("8.7", "9.6", "8.0"),
            2023: ("7.1", "8.2", "6.3"),
        },
        "UNEMP_RATE": {
            2015: ("11.9", "12.7", "11.3"),
            2020: ("9.2", "10.2", "8.5"),
            2023: ("7.7", "8.8", "6.9"),
            2024: ("6.5", "7.3", "5.9"),
        },
        "UNEMP_RATE@Y15-24": {
            2015: ("40.3", "42.6", "38.8"),
            2020: ("29.7", "31.8", "28.2"),
            2023: ("22.7", "24.3", "21.6"),
        },
        "YOUTH_NEET": {2015: ("21.4", "21.6", "21.2"), 2020: ("19.0", "19.6", "18.4"), 2023: ("14.2", "14.8", "13.6")},
        "EARNINGS_MIGRANTS": {2015: 1_760, 2020: 1_820, 2023: 1_930},
        "VACANCY_RATE": {2015: "0.9", 2020: "1.3", 2023: "2.3", 2024: "2.1"},
        "SDG_10_7_2": {2019: 3, 2023: 3},
        "BLMA_IN_FORCE": {2015: 6, 2020: 7, 2023: 9, 2024: 10},
        "ILO_CONVENTIONS": {2015: 4, 2023: 4},
        "PERMIT_PROCESSING": {2015: "0.33", 2020: "0.5", 2023: "0.42", 2024: "0.33"},
    },
    sources={
        "BLMA_IN_FORCE": "Ministry of Labour and Social Policies, bilateral agreements register",
        "PERMIT_PROCESSING": "Ministry of the Interior, Sportello Unico per l'Immigrazione records",
        "VACANCY_RATE": "ISTAT, job vacancy statistics (as reported to Eurostat, jvs_a_rate_r2)",
    },
    skills=(
        DemoSkill(SHORTAGE, "9211", "01", HIGH, EURES),
        DemoSkill(SHORTAGE, "6111", "01", MEDIUM, "Unioncamere-ANPAL, Sistema informativo Excelsior {year}"),
        DemoSkill(SHORTAGE, "5322", "88", HIGH, "Unioncamere-ANPAL, Sistema informativo Excelsior {year}"),
    ),
)

GERMANY = DemoProfile(
    country="DE",
    owner="de-labour",
    visibility=ProfileVisibility.PUBLIC,
    narratives={
        "migration_data": (
            "Germany is the second largest destination in the world, with more than 16 million people born "
            "abroad. Arrivals peaked in 2015 and again in 2022, when over a million people fled Ukraine.",
            "en",
        ),
        "development_impact": (
            "Remittances from Germany exceed 24 billion US dollars a year. Sending money to the Western "
            "Balkans, Türkiye and Ukraine is cheaper than in 2015 but still above the SDG target of 3 per cent.",
            "en",
        ),
        "labour_market": (
            "The Federal Employment Agency's bottleneck analysis for {year} lists nursing and elderly care, "
            "skilled trades and software development among the occupations hardest to fill.",
            "en",
        ),
        "management_capacity": (
            "The Skilled Immigration Act (2020, reformed 2023) opened the labour market to vocationally "
            "trained workers; placement agreements such as Triple Win run through the Federal Employment Agency.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_IN": {
            2015: women(10_220_000, 0.49),
            2020: women(15_762_000, 0.48),
            2024: women(16_750_000, 0.48),
        },
        "MIG_STOCK_IN_PCT": {
            2015: ("12.5", "12.3", "12.7"),
            2020: ("18.8", "18.4", "19.2"),
            2024: ("19.8", "19.4", "20.2"),
        },
        "NET_MIGRATION": {2015: 1_139_000, 2020: 220_000, 2023: 663_000, 2024: 430_000},
        "MIG_INFLOW": {2015: women(2_016_000, 0.37), 2020: women(994_000, 0.39), 2023: women(1_270_000, 0.41)},
        "REFUGEES_HOSTED": {
            2015: women(316_000, 0.35),
            2020: women(1_211_000, 0.42),
            2023: women(2_594_000, 0.50),
            2024: women(2_700_000, 0.50),
        },
        "REMIT_OUT_USD": {2015: 18_300, 2020: 22_000, 2023: 24_700, 2024: 25_400},
        "REMIT_COST": {2015: "7.7", 2020: "6.8", 2023: "6.4", 2024: "6.2"},
        "HDI": {2015: "0.937", 2020: "0.944", 2023: "0.959"},
        "LF_MIGRANT_SHARE": {
            2015: ("15.8", "14.9", "16.6"),
            2020: ("19.4", "18.2", "20.5"),
            2023: ("21.5", "20.1", "22.7"),
        },
        "EMP_MIGRANTS": {2015: women(5_950_000, 0.44), 2020: women(6_600_000, 0.44), 2023: women(7_250_000, 0.44)},
        "UNEMP_RATE_FOREIGN": {2015: ("8.3", "7.9", "8.6"), 2020: ("7.4", "7.1", "7.6"), 2023: ("7.0", "6.8", "7.2")},
        "UNEMP_RATE_NATIONAL": {2015: ("4.2", "3.8", "4.5"), 2020: ("3.1", "2.8", "3.4"), 2023: ("2.5", "2.2", "2.8")},
        "UNEMP_RATE": {
            2015: ("4.6", "4.2", "5.0"),
            2020: ("3.6", "3.3", "3.9"),
            2023: ("3.0", "2.7", "3.3"),
            2024: ("3.4", "3.0", "3.7"),
        },
        "UNEMP_RATE@Y15-24": {2015: ("7.2", "6.3", "8.0"), 2020: ("7.4", "6.5", "8.2"), 2023: ("5.8", "5.0", "6.5")},
        "YOUTH_NEET": {2015: ("6.2", "6.4", "6.0"), 2020: ("7.4", "7.7", "7.1"), 2023: ("7.2", "7.3", "7.1")},
        "EARNINGS_MIGRANTS": {2015: 3_050, 2020: 3_420, 2023: 3_780},
        "VACANCY_RATE": {2015: "2.6", 2020: "2.7", 2023: "4.1", 2024: "3.6"},
        "SDG_10_7_2": {2019: 4, 2023: 4},
        "BLMA_IN_FORCE": {2015: 9, 2020: 14, 2023: 19, 2024: 21},
        "ILO_CONVENTIONS": {2015: 2, 2023: 2},
        "PERMIT_PROCESSING": {2015: "0.25", 2020: "0.33", 2023: "0.25", 2024: "0.17"},
    },
    sources={
        "BLMA_IN_FORCE": "Federal Ministry of Labour and Social Affairs, placement agreements register",
        "PERMIT_PROCESSING": "Federal Employment Agency, approval procedure statistics (Zustimmungsverfahren)",
        "VACANCY_RATE": "Destatis, job vacancy statistics (as reported to Eurostat, jvs_a_rate_r2)",
    },
    skills=(
        DemoSkill(SHORTAGE, "2221", "86", HIGH, "Bundesagentur für Arbeit, Engpassanalyse {year}"),
        DemoSkill(SHORTAGE, "3221", "86", HIGH, "Bundesagentur für Arbeit, Engpassanalyse {year}"),
        DemoSkill(SHORTAGE, "5322", "88", HIGH, "Bundesagentur für Arbeit, Engpassanalyse {year}"),
        DemoSkill(SHORTAGE, "7126", "43", MEDIUM, "Bundesagentur für Arbeit, Engpassanalyse {year}"),
        DemoSkill(SHORTAGE, "2512", "62", MEDIUM, EURES),
    ),
)

SPAIN = DemoProfile(
    country="ES",
    owner="es-inclusion",
    visibility=ProfileVisibility.PUBLIC,
    narratives={
        "migration_data": (
            "Spain has over 8 million people born abroad, one in six residents, half of them from Latin "
            "America. After net emigration in the early 2010s, arrivals have exceeded departures since 2016.",
            "en",
        ),
        "development_impact": (
            "Las remesas enviadas desde España superan los 13 000 millones de dólares al año, sobre todo hacia "
            "Colombia, Marruecos, Ecuador y Rumanía; el coste medio de envío ha bajado por debajo del 5 %.",
            "es",
        ),
        "labour_market": (
            "Unemployment has halved since 2015 but remains higher among foreign citizens. The public "
            "employment service lists harvest labourers, cooks and waiters as hard to fill in {year}.",
            "en",
        ),
        "management_capacity": (
            "Collective hiring in countries of origin (GECCO) brings seasonal workers for the Huelva harvest; "
            "the 2022 reform of the immigration regulation widened the routes for circular workers.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_IN": {2015: women(5_891_000, 0.52), 2020: women(6_842_000, 0.52), 2024: women(8_200_000, 0.52)},
        "MIG_STOCK_IN_PCT": {
            2015: ("12.7", "13.0", "12.4"),
            2020: ("14.6", "14.9", "14.3"),
            2024: ("16.9", "17.3", "16.5"),
        },
        "NET_MIGRATION": {2015: -8_000, 2020: 220_000, 2023: 640_000, 2024: 600_000},
        "MIG_INFLOW": {2015: women(290_000, 0.49), 2020: women(467_900, 0.49), 2023: women(1_040_000, 0.50)},
        "REFUGEES_HOSTED": {2015: women(5_800, 0.40), 2020: women(103_700, 0.47), 2023: women(236_000, 0.55)},
        "REMIT_OUT_USD": {2015: 8_900, 2020: 10_800, 2023: 12_800, 2024: 13_300},
        "REMIT_COST": {2015: "6.0", 2020: "5.2", 2023: "4.8", 2024: "4.6"},
        "HDI": {2015: "0.893", 2020: "0.905", 2023: "0.918"},
        "LF_MIGRANT_SHARE": {
            2015: ("15.0", "15.4", "14.7"),
            2020: ("15.2", "15.8", "14.7"),
            2023: ("17.1", "17.6", "16.7"),
        },
        "EMP_MIGRANTS": {2015: women(2_590_000, 0.46), 2020: women(2_850_000, 0.47), 2023: women(3_350_000, 0.47)},
        "UNEMP_RATE_FOREIGN": {
            2015: ("29.8", "30.8", "28.9"),
            2020: ("24.1", "27.4", "21.2"),
            2023: ("17.4", "20.1", "15.0"),
        },
        "UNEMP_RATE_NATIONAL": {
            2015: ("20.8", "22.2", "19.6"),
            2020: ("14.5", "16.3", "12.9"),
            2023: ("11.2", "12.9", "9.8"),
        },
        "UNEMP_RATE": {
            2015: ("22.1", "23.6", "20.8"),
            2020: ("15.5", "17.4", "13.9"),
            2023: ("12.2", "13.9", "10.7"),
            2024: ("11.4", "12.9", "10.1"),
        },
        "UNEMP_RATE@Y15-24": {
            2015: ("48.3", "47.5", "49.0"),
            2020: ("38.3", "39.7", "37.1"),
            2023: ("28.7", "27.4", "29.9"),
        },
        "YOUTH_NEET": {2015: ("15.6", "15.0", "16.2"), 2020: ("13.9", "13.6", "14.2"), 2023: ("10.0", "9.6", "10.4")},
        "EARNINGS_MIGRANTS": {2015: 1_560, 2020: 1_690, 2023: 1_870},
        "VACANCY_RATE": {2015: "0.6", 2020: "0.7", 2023: "0.9", 2024: "0.9"},
        "SDG_10_7_2": {2019: 3, 2023: 4},
        "BLMA_IN_FORCE": {2015: 10, 2020: 11, 2023: 13, 2024: 14},
        "ILO_CONVENTIONS": {2015: 2, 2023: 3},
        "PERMIT_PROCESSING": {2015: "0.25", 2020: "0.33", 2023: "0.25", 2024: "0.25"},
    },
    sources={
        "BLMA_IN_FORCE": "Ministry of Inclusion, Social Security and Migration, agreements on migration flows",
        "PERMIT_PROCESSING": "Ministry of Inclusion, Social Security and Migration, Permanent Immigration Observatory",
        "VACANCY_RATE": "INE, quarterly labour cost survey (as reported to Eurostat, jvs_a_rate_r2)",
    },
    skills=(
        DemoSkill(SHORTAGE, "9211", "01", HIGH, "SEPE, Catálogo de ocupaciones de difícil cobertura {year}"),
        DemoSkill(SHORTAGE, "5120", "56", MEDIUM, "SEPE, Observatorio de las Ocupaciones, informe {year}"),
        DemoSkill(SHORTAGE, "5131", "56", MEDIUM, "SEPE, Observatorio de las Ocupaciones, informe {year}"),
        DemoSkill(SHORTAGE, "2512", "62", MEDIUM, EURES),
    ),
)

MOLDOVA = DemoProfile(
    country="MD",
    owner="md-labour",
    visibility=ProfileVisibility.MEMBERS,
    narratives={
        "migration_data": (
            "More than a million people born in Moldova live abroad, over a third of the resident population; "
            "women are the majority, many of them in care work in Italy. Since 2022 Moldova also hosts "
            "refugees from Ukraine.",
            "en",
        ),
        "development_impact": (
            "Remittances reached about 2 billion US dollars, still over a tenth of GDP although their share "
            "has fallen since 2015. The PARE 1+1 programme matches migrants' savings invested in a business.",
            "en",
        ),
        "labour_market": (
            "Emigration has thinned the workforce in rural districts, while young people, young women "
            "especially, remain out of work or study. The employment agency (ANOFM) registers more "
            "farm and construction jobseekers than vacancies in {year}.",
            "en",
        ),
        "management_capacity": (
            "The EU-Moldova Mobility Partnership (2008) and the extended migration profile (Government "
            "Decision 634/2012) are the frame; bilateral labour agreements, with Israel among others, "
            "organise recruitment without fees to the worker.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_OUT": {2015: women(1_080_000, 0.55), 2020: women(1_160_000, 0.56), 2024: women(1_170_000, 0.56)},
        "MIG_STOCK_IN": {2015: women(107_000, 0.57), 2020: women(104_000, 0.57), 2024: women(98_000, 0.57)},
        "NET_MIGRATION": {2015: -38_000, 2020: -22_000, 2023: -31_000, 2024: -28_000},
        "RETURNEES": {2015: women(11_800, 0.42), 2020: women(24_600, 0.44), 2023: women(14_300, 0.45)},
        "REFUGEES_HOSTED": {
            2015: women(300, 0.40),
            2020: women(450, 0.40),
            2023: women(112_000, 0.60),
            2024: women(126_000, 0.60),
        },
        "REMIT_IN_USD": {2015: 1_530, 2020: 1_880, 2023: 2_050, 2024: 2_000},
        "REMIT_IN_GDP": {2015: "22.1", 2020: "15.9", 2023: "12.4", 2024: "11.5"},
        "REMIT_COST": {2015: "3.4", 2020: "3.0", 2023: "3.1", 2024: "2.9"},
        "EMIG_RATE_TERTIARY": {2015: ("11.9", "12.8", "10.7"), 2020: ("13.0", "13.9", "11.8")},
        "HDI": {2015: "0.751", 2020: "0.767", 2023: "0.785"},
        "UNEMP_RATE": {
            2015: ("5.0", "4.2", "5.7"),
            2020: ("3.8", "3.1", "4.5"),
            2023: ("4.6", "3.8", "5.3"),
            2024: ("4.0", "3.4", "4.6"),
        },
        "UNEMP_RATE@Y15-24": {
            2015: ("9.8", "9.0", "10.4"),
            2020: ("9.6", "8.7", "10.3"),
            2023: ("11.2", "10.1", "12.0"),
        },
        "YOUTH_NEET": {2015: ("28.9", "33.0", "25.0"), 2020: ("26.8", "31.2", "22.6"), 2023: ("24.4", "28.3", "20.7")},
        "VACANCY_RATE": {2015: "1.2", 2020: "1.5", 2023: "1.7"},
        "SDG_10_7_2": {2019: 3, 2023: 3},
        "BLMA_IN_FORCE": {2015: 6, 2020: 8, 2023: 11, 2024: 12},
        "ILO_CONVENTIONS": {2015: 2, 2023: 2},
        "LABOUR_ATTACHES": {2015: women(4, 0.5), 2020: women(6, 0.5), 2023: women(8, 0.5)},
        "PREDEPARTURE_TRAINED": {
            2015: ("22.0", "25.0", "19.0"),
            2020: ("31.0", "34.0", "28.0"),
            2023: ("38.0", "42.0", "35.0"),
        },
    },
    sources={
        "RETURNEES": "National Bureau of Statistics of the Republic of Moldova, labour force survey (migration module)",
        "VACANCY_RATE": "National Bureau of Statistics of the Republic of Moldova, job vacancy survey",
        "BLMA_IN_FORCE": "Ministry of Labour and Social Protection, bilateral agreements register",
        "LABOUR_ATTACHES": "Ministry of Foreign Affairs and European Integration, staffing records",
        "PREDEPARTURE_TRAINED": "ANOFM Moldova, pre-departure information records",
    },
    skills=(
        DemoSkill(SURPLUS, "9211", "01", HIGH, "ANOFM Moldova, labour market forecast barometer {year}"),
        DemoSkill(SURPLUS, "6111", "01", MEDIUM, "ANOFM Moldova, labour market forecast barometer {year}"),
        DemoSkill(SURPLUS, "7112", "41", MEDIUM, "ANOFM Moldova, labour market forecast barometer {year}"),
        DemoSkill(DIASPORA, "5322", "88", HIGH, "IOM Moldova, diaspora mapping in Italy"),
    ),
)

PHILIPPINES = DemoProfile(
    country="PH",
    owner="ph-migrant-workers",
    visibility=ProfileVisibility.PUBLIC,
    narratives={
        "migration_data": (
            "About 6 million Filipinos live abroad and some two million workers are deployed every year, "
            "land-based and at sea. Deployments fell by three quarters in 2020 and recovered by 2023.",
            "en",
        ),
        "development_impact": (
            "Remittances of about 40 billion US dollars make the Philippines the fourth largest recipient in "
            "the world, close to a tenth of GDP. Recruitment costs borne by workers keep falling under the "
            "no-placement-fee policy.",
            "en",
        ),
        "labour_market": (
            "Nursing schools graduate more nurses than the country's hospitals hire, and TESDA certifies "
            "caregivers well beyond domestic demand; the Department of Migrant Workers reports nurses and "
            "caregivers among the top deployed occupations in {year}.",
            "en",
        ),
        "management_capacity": (
            "The Department of Migrant Workers (2022) merged the POEA and the labour attaché offices; every "
            "worker attends pre-departure orientation, and over forty bilateral labour agreements are in force.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_OUT": {2015: women(5_690_000, 0.55), 2020: women(6_094_000, 0.55), 2024: women(6_350_000, 0.55)},
        "MIG_STOCK_IN": {2015: women(212_000, 0.48), 2020: women(226_000, 0.48), 2024: women(240_000, 0.48)},
        "NET_MIGRATION": {2015: -120_000, 2020: -67_000, 2023: -180_000, 2024: -190_000},
        "LABOUR_EMIGRANTS": {
            2015: women(1_844_000, 0.45),
            2020: women(549_800, 0.40),
            2023: women(2_100_000, 0.47),
            2024: women(2_180_000, 0.48),
        },
        "RETURNEES": {2020: women(800_000, 0.45), 2023: women(400_000, 0.50)},
        "REMIT_IN_USD": {2015: 29_800, 2020: 34_910, 2023: 39_100, 2024: 40_200},
        "REMIT_IN_GDP": {2015: "10.2", 2020: "9.6", 2023: "8.9", 2024: "8.7"},
        "REMIT_COST": {2015: "4.8", 2020: "4.3", 2023: "4.0", 2024: "3.9"},
        "RECRUIT_COST": {2015: ("1.4", "1.6", "1.2"), 2020: ("1.1", "1.3", "0.9"), 2023: ("0.9", "1.0", "0.8")},
        "EMIG_RATE_TERTIARY": {2015: ("6.4", "7.5", "5.1"), 2020: ("6.9", "8.1", "5.5")},
        "HDI": {2015: "0.693", 2020: "0.702", 2023: "0.720"},
        "UNEMP_RATE": {
            2015: ("6.3", "6.5", "6.2"),
            2020: ("10.3", "10.0", "10.5"),
            2023: ("4.3", "4.2", "4.4"),
            2024: ("3.9", "3.8", "4.0"),
        },
        "YOUTH_NEET": {2015: ("22.3", "27.5", "17.3"), 2020: ("20.4", "25.1", "15.9"), 2023: ("12.8", "15.7", "10.1")},
        "SDG_10_7_2": {2019: 4, 2023: 4},
        "BLMA_IN_FORCE": {2015: 33, 2020: 38, 2023: 42, 2024: 44},
        "ILO_CONVENTIONS": {2015: 3, 2023: 3},
        "LABOUR_ATTACHES": {
            2015: women(68, 0.47),
            2020: women(84, 0.48),
            2023: women(96, 0.50),
            2024: women(102, 0.50),
        },
        "PREDEPARTURE_TRAINED": {
            2015: ("93.0", "95.0", "91.0"),
            2020: ("96.0", "97.0", "95.0"),
            2023: ("98.0", "99.0", "97.0"),
        },
    },
    sources={
        "LABOUR_EMIGRANTS": "Department of Migrant Workers (formerly POEA), OFW deployment statistics",
        "RETURNEES": "Overseas Workers Welfare Administration, repatriation and return statistics",
        "BLMA_IN_FORCE": "Department of Migrant Workers, bilateral labour agreements",
        "LABOUR_ATTACHES": "Department of Migrant Workers, Migrant Workers Offices staffing",
        "PREDEPARTURE_TRAINED": "Overseas Workers Welfare Administration, pre-departure orientation seminars",
    },
    skills=(
        DemoSkill(SURPLUS, "2221", "86", HIGH, "Philippine DMW/POEA deployment statistics {year}"),
        DemoSkill(SURPLUS, "3221", "86", HIGH, "Philippine DMW/POEA deployment statistics {year}"),
        DemoSkill(SURPLUS, "5322", "88", HIGH, "TESDA, caregiving NC II certifications {year}"),
        DemoSkill(
            DIASPORA, "2221", "86", HIGH, "Commission on Filipinos Overseas, stock estimate of overseas Filipinos"
        ),
    ),
)

SENEGAL = DemoProfile(
    country="SN",
    owner="sn-labour",
    visibility=ProfileVisibility.MEMBERS,
    narratives={
        "migration_data": (
            "Environ 650 000 personnes nées au Sénégal vivent à l'étranger, en Afrique de l'Ouest, en France, "
            "en Italie et en Espagne ; les hommes y sont majoritaires. Le pays accueille aussi des réfugiés "
            "mauritaniens.",
            "fr",
        ),
        "development_impact": (
            "Remittances of close to 3 billion US dollars equal about a tenth of GDP; sending money to "
            "Senegal still costs more than 7 per cent of the amount, more than twice the SDG target.",
            "en",
        ),
        "labour_market": (
            "Plus d'un tiers des jeunes ne sont ni en emploi, ni en études, ni en formation, les jeunes "
            "femmes davantage. L'ANPEJ recense en {year} un excédent de main-d'œuvre dans la pêche "
            "artisanale, l'agriculture et le bâtiment.",
            "fr",
        ),
        "management_capacity": (
            "The national migration policy (2018) and the Spain-Senegal circular migration arrangements "
            "frame labour departures; selection involves the ministry, the embassy and the employers.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_OUT": {2015: women(587_000, 0.42), 2020: women(640_000, 0.42), 2024: women(690_000, 0.43)},
        "MIG_STOCK_IN": {2015: women(263_000, 0.47), 2020: women(275_000, 0.47), 2024: women(282_000, 0.47)},
        "NET_MIGRATION": {2015: -20_000, 2020: -13_000, 2023: -26_000, 2024: -24_000},
        "RETURNEES": {2015: women(3_100, 0.10), 2020: women(4_800, 0.10), 2023: women(6_200, 0.12)},
        "REFUGEES_HOSTED": {2015: women(14_400, 0.50), 2020: women(14_500, 0.50), 2023: women(13_900, 0.50)},
        "REFUGEES_ORIGIN": {2015: women(22_000, 0.40), 2020: women(11_000, 0.40), 2023: women(9_000, 0.40)},
        "REMIT_IN_USD": {2015: 1_880, 2020: 2_570, 2023: 2_900, 2024: 3_000},
        "REMIT_IN_GDP": {2015: "10.0", 2020: "10.5", 2023: "9.3", 2024: "9.2"},
        "REMIT_COST": {2015: "9.8", 2020: "8.1", 2023: "7.6", 2024: "7.3"},
        "RECRUIT_COST": {2020: ("2.6", "2.9", "2.5"), 2023: ("2.3", "2.6", "2.2")},
        "EMIG_RATE_TERTIARY": {2015: ("16.8", "19.5", "15.6"), 2020: ("15.9", "18.1", "14.8")},
        "HDI": {2015: "0.499", 2020: "0.512", 2023: "0.530"},
        "UNEMP_RATE": {
            2015: ("3.6", "4.6", "2.9"),
            2020: ("3.6", "4.7", "2.8"),
            2023: ("3.0", "3.9", "2.4"),
            2024: ("3.0", "3.8", "2.4"),
        },
        "UNEMP_RATE@Y15-24": {2015: ("7.4", "9.1", "6.2"), 2020: ("7.2", "9.0", "6.0"), 2023: ("6.3", "7.8", "5.2")},
        "YOUTH_NEET": {2015: ("37.6", "43.9", "31.4"), 2020: ("35.2", "41.0", "29.5"), 2023: ("34.0", "39.6", "28.3")},
        "SDG_10_7_2": {2019: 3, 2023: 3},
        "BLMA_IN_FORCE": {2015: 4, 2020: 5, 2023: 6, 2024: 7},
        "ILO_CONVENTIONS": {2015: 1, 2023: 1},
        "LABOUR_ATTACHES": {2020: women(6, 0.33), 2023: women(9, 0.33)},
        "PREDEPARTURE_TRAINED": {2020: ("41.0", "48.0", "39.0"), 2023: ("52.0", "58.0", "50.0")},
    },
    sources={
        "RETURNEES": "IOM Senegal, return and reintegration data; ANSD",
        "BLMA_IN_FORCE": "Ministry of Foreign Affairs and Senegalese Abroad, treaty register",
        "LABOUR_ATTACHES": "Ministry of Foreign Affairs and Senegalese Abroad, staffing records",
        "PREDEPARTURE_TRAINED": "Ministry of Labour, Employment and Relations with Institutions, departure records",
    },
    skills=(
        DemoSkill(SURPLUS, "6222", "03", HIGH, "ANPEJ Sénégal, situation du marché du travail {year}"),
        DemoSkill(SURPLUS, "9211", "01", MEDIUM, "ANPEJ Sénégal, situation du marché du travail {year}"),
        DemoSkill(SURPLUS, "9313", "41", MEDIUM, "ANPEJ Sénégal, situation du marché du travail {year}"),
        DemoSkill(DIASPORA, "2512", "62", MEDIUM, "Direction générale d'appui aux Sénégalais de l'extérieur"),
    ),
    # Its government is still writing 2025: the demo shows a draft, private to Senegal.
    draft_years=(2025,),
)

MOROCCO = DemoProfile(
    country="MA",
    owner="ma-employment",
    visibility=ProfileVisibility.PUBLIC,
    narratives={
        "migration_data": (
            "Plus de 3 millions de Marocains nés au pays vivent à l'étranger, surtout en France, en Espagne, "
            "en Italie et en Belgique. Les départs saisonniers encadrés par l'ANAPEC vers Huelva concernent "
            "surtout des femmes.",
            "fr",
        ),
        "development_impact": (
            "Remittances rose from about 7 to almost 12 billion US dollars between 2015 and 2023, around "
            "8 per cent of GDP, and proved resilient through the pandemic.",
            "en",
        ),
        "labour_market": (
            "Unemployment is highest among young people and women, and over a third of young women are not "
            "in employment, education or training. ANAPEC reports more job-seekers than vacancies in "
            "agriculture, hospitality and software development in {year}.",
            "en",
        ),
        "management_capacity": (
            "ANAPEC runs the pre-selection and pre-departure orientation of workers recruited abroad, "
            "including the GECCO seasonal contingent and the THAMM and PALIM skills partnerships.",
            "en",
        ),
    },
    series={
        "MIG_STOCK_OUT": {2015: women(2_860_000, 0.46), 2020: women(3_140_000, 0.46), 2024: women(3_300_000, 0.47)},
        "MIG_STOCK_IN": {2015: women(92_000, 0.47), 2020: women(102_000, 0.46), 2024: women(108_000, 0.46)},
        "NET_MIGRATION": {2015: -52_000, 2020: -36_000, 2023: -45_000, 2024: -40_000},
        "LABOUR_EMIGRANTS": {
            2015: women(4_600, 0.88),
            2020: women(2_700, 0.90),
            2023: women(17_500, 0.90),
            2024: women(19_300, 0.90),
        },
        "REMIT_IN_USD": {2015: 6_900, 2020: 7_420, 2023: 11_800, 2024: 12_100},
        "REMIT_IN_GDP": {2015: "6.8", 2020: "6.5", 2023: "8.2", 2024: "7.9"},
        "REMIT_COST": {2015: "6.9", 2020: "5.7", 2023: "5.3", 2024: "5.2"},
        "RECRUIT_COST": {2020: ("0.4", "0.3", "0.6"), 2023: ("0.3", "0.2", "0.5")},
        "EMIG_RATE_TERTIARY": {2015: ("14.3", "13.1", "15.0"), 2020: ("15.1", "14.2", "15.7")},
        "HDI": {2015: "0.671", 2020: "0.683", 2023: "0.710"},
        "UNEMP_RATE": {
            2015: ("9.7", "10.4", "9.4"),
            2020: ("11.9", "13.4", "11.4"),
            2023: ("13.0", "17.2", "11.5"),
            2024: ("13.3", "19.4", "11.6"),
        },
        "UNEMP_RATE@Y15-24": {
            2015: ("20.8", "21.4", "20.6"),
            2020: ("31.2", "33.9", "30.3"),
            2023: ("35.8", "37.0", "35.3"),
        },
        "YOUTH_NEET": {2015: ("28.5", "44.1", "13.4"), 2020: ("27.9", "40.5", "15.6"), 2023: ("25.8", "36.9", "15.1")},
        "SDG_10_7_2": {2019: 4, 2023: 4},
        "BLMA_IN_FORCE": {2015: 10, 2020: 11, 2023: 13, 2024: 14},
        "ILO_CONVENTIONS": {2015: 1, 2023: 1},
        "LABOUR_ATTACHES": {2020: women(12, 0.42), 2023: women(14, 0.43)},
        "PREDEPARTURE_TRAINED": {
            2015: ("72.0", "74.0", "54.0"),
            2020: ("81.0", "83.0", "63.0"),
            2023: ("92.0", "94.0", "76.0"),
        },
    },
    sources={
        "LABOUR_EMIGRANTS": "ANAPEC, international placement report",
        "BLMA_IN_FORCE": "Ministry of Economic Inclusion, Small Business, Employment and Skills, agreements register",
        "LABOUR_ATTACHES": "Ministry of Foreign Affairs, staffing records",
        "PREDEPARTURE_TRAINED": "ANAPEC, pre-departure orientation records",
    },
    skills=(
        DemoSkill(SURPLUS, "9211", "01", HIGH, "ANAPEC Maroc, bilan des placements {year}"),
        DemoSkill(SURPLUS, "5120", "56", MEDIUM, "ANAPEC Maroc, bilan des placements {year}"),
        DemoSkill(SURPLUS, "5131", "56", MEDIUM, "ANAPEC Maroc, bilan des placements {year}"),
        DemoSkill(SURPLUS, "2512", "62", MEDIUM, "ANAPEC Maroc, bilan des placements {year}"),
        DemoSkill(DIASPORA, "2211", "86", MEDIUM, "Ministry Delegate for Moroccans Living Abroad"),
    ),
)

DEMO_PROFILES: tuple[DemoProfile, ...] = (ITALY, GERMANY, SPAIN, MOLDOVA, PHILIPPINES, SENEGAL, MOROCCO)


def illustrative(source: str) -> str:
    """The comment every demo figure carries: none is copied verbatim from its source."""
    return f"Illustrative: shaped like {source}, not copied from it."


def observation_rows(spec: DemoProfile, year: int) -> Iterator[dict[str, Any]]:
    """The figures of ``spec``'s profile for ``year``, as ``ObservationInput`` bodies.

    A profile carries the series up to its year (never a year to come), over
    the thirty years before it at most (the validation refuses older ones).
    """
    last = min(year, timezone.localdate().year)
    for key, series in spec.series.items():
        code, _, age = key.partition("@")
        source = spec.sources.get(code) or SOURCES[code]
        for period, figure in series.items():
            if not year - 30 <= period <= last:
                continue
            values = figure if isinstance(figure, tuple) else (figure,)
            for sex, value in zip((Sex.TOTAL, Sex.FEMALE, Sex.MALE), values, strict=False):
                yield {
                    "indicator": code,
                    "sex": sex,
                    "age": age or TOTAL_AGE,
                    "time_period": period,
                    "value": str(value),
                    "source": source,
                    "comment": illustrative(source),
                }


def _load_observations(actor: Actor, profile: MigrationProfile, rows: list[dict[str, Any]]) -> int:
    """Save a draft's figures in bulk, each validated by ``ObservationInput`` against the profile.

    The bulk path of ``services.observation_save``: the same permission check and
    the same validation, one audit row per profile instead of one per figure.
    ``ObservationInput`` checks a figure against those already saved (one per
    indicator, sex, age and year; women and men not above the total), so the
    rows go in three waves, totals, then women, then men: when a man's figure is
    validated its total and its women's figure are in the table, as they would
    be for an official typing them in that order.
    """
    from exchange.profiles.inputs import ObservationInput

    access.can_edit_observations(actor, profile).check()
    for sex in (Sex.TOTAL, Sex.FEMALE, Sex.MALE):
        wave = []
        for row in rows:
            if row["sex"] != sex:
                continue
            body = ObservationInput(data=row, profile=profile)
            if not body.is_valid():
                # seed_demo reports a Django ValidationError as a command error naming the fields.
                raise ValidationError(f"{profile}, {row['indicator']} {sex} {row['time_period']}: {body.errors}")
            wave.append(Observation(profile=profile, **body.validated_data))
        Observation.objects.bulk_create(wave)
    audit_record(actor=actor, action="profile.observations_loaded", obj=profile, changes={"observations": len(rows)})
    return len(rows)


def _add_skills(actor: Actor, profile: MigrationProfile, rows: tuple[DemoSkill, ...]) -> None:
    """Part 3's skills rows of a draft, validated by ``SkillInput`` and written by ``skill_save``."""
    from exchange.profiles.inputs import SkillInput
    from exchange.profiles.services import skill_save

    for row in rows:
        source = row.source.format(year=profile.year)
        body = SkillInput(
            data={
                "kind": row.kind,
                "isco_code": row.isco,
                "isic_code": row.isic or "",
                "severity": row.severity,
                "source": source,
                "time_period": profile.year,
                "comment": illustrative(source),
            },
            profile=profile,
        )
        if not body.is_valid():
            raise ValidationError(f"{profile.country} {profile.year} {row.kind} {row.isco}: {body.errors}")
        skill_save(actor=actor, profile=profile, data=body.validated_data)


def _narratives(spec: DemoProfile, year: int) -> dict[str, str]:
    data: dict[str, str] = {}
    for part, (text, language) in spec.narratives.items():
        data[part] = text.format(year=year)
        data[f"{part}_language"] = language
    return data


def _official(ctx: DemoContext, slug: str) -> Actor:
    from accounts.management.commands.seed_demo import DEMO_ORGANISATIONS

    spec = next(spec for spec in DEMO_ORGANISATIONS if spec.slug == slug)
    organisation: Organisation = ctx.organisations[slug]
    user: User = ctx.users[spec.email(Role.OFFICIAL)]
    return Actor(user=user, organisation=organisation, role=Role.OFFICIAL)


def _write(actor: Actor, spec: DemoProfile, year: int, *, publish: bool) -> MigrationProfile:
    """Create one profile as its government's official would, fill it, and publish it if asked."""
    from exchange.api.profiles import ProfileWriteSerializer
    from exchange.profiles.services import profile_create, profile_publish

    payload = {"country": spec.country, "year": year, "visibility": spec.visibility, **_narratives(spec, year)}
    with tenant_scope(actor):
        body = ProfileWriteSerializer(data=payload)
        if not body.is_valid():
            raise ValidationError(f"{spec.country} {year}: {body.errors}")
        profile = profile_create(actor=actor, data=body.validated_data)
        _load_observations(actor, profile, list(observation_rows(spec, year)))
        _add_skills(actor, profile, spec.skills)
        if publish:
            profile = profile_publish(actor=actor, profile=profile)
    return profile


def _refresh_suggestions() -> None:
    """Recompute shortage × surplus suggestions now (publishing also enqueues it after commit)."""
    from exchange.profiles.suggestions import suggestions_refresh

    suggestions_refresh()


def seed_profiles(ctx: DemoContext) -> None:
    """The demo countries' migration profiles, written and published through the services."""
    created = 0
    statuses: Counter[str] = Counter()
    for spec in DEMO_PROFILES:
        for year in (*spec.years, *spec.draft_years):
            # Any version of that country and year, in any state: the seed leaves it alone.
            profile = MigrationProfile.objects.filter(country=spec.country, year=year).order_by("-version").first()
            if profile is None:
                profile = _write(_official(ctx, spec.owner), spec, year, publish=year in spec.years)
                ctx.log(f"Created migration profile {spec.country} {year} ({profile.get_status_display().lower()})")
                created += 1
            statuses[profile.status] += 1
    _refresh_suggestions()
    total = sum(len(spec.years) + len(spec.draft_years) for spec in DEMO_PROFILES)
    breakdown = ", ".join(
        f"{statuses[status]} {ProfileStatus(status).label.lower()}"
        for status in ProfileStatus.values
        if statuses[status]
    )
    ctx.log(f"Demo migration profiles: {total} ({created} new): {breakdown}.")
