"""Reference data: the classifications every opportunity is described with.

ISCO-08 occupations (with their ESCO job titles), ISIC Rev.4 sectors, ISO 639-1
languages and ISO 4217 currencies. The rows are loaded by data migrations from the
CSV files in ``opportunities/data/`` (see SOURCES.md there) and never edited in
the application. Countries come from django-countries and need no table.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

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


class Language(models.Model):
    """An ISO 639-1 language."""

    code = models.CharField(_("ISO 639-1 code"), max_length=2, primary_key=True)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_fr = models.CharField(_("name (French)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)

    class Meta:
        verbose_name = _("language")
        verbose_name_plural = _("languages")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return getattr(self, f"name_{active_language()}") or self.name_en


class Currency(models.Model):
    """An active ISO 4217 currency (funds, precious metals and testing codes excluded)."""

    code = models.CharField(_("ISO 4217 code"), max_length=3, primary_key=True)
    numeric = models.CharField(_("numeric code"), max_length=3, unique=True)
    minor_units = models.PositiveSmallIntegerField(_("minor units"), help_text=_("Digits after the decimal point."))
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_fr = models.CharField(_("name (French)"), max_length=100)
    name_es = models.CharField(_("name (Spanish)"), max_length=100)

    class Meta:
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        return getattr(self, f"name_{active_language()}") or self.name_en
