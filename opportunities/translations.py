"""A listing's text in several languages: which text a reader is shown.

The listing's own ``title``, ``summary`` and ``description``, in its
``text_language``, are the **authoritative** text. ``ListingTranslation`` rows carry
the same text in the site's other languages (``settings.LANGUAGES``). A reader is
shown the text in their language — the signed-in user's profile language, else the
request's (``Accept-Language``, the language chooser) — when the listing has it,
and the authoritative text otherwise or when they ask for it (``?text=authoritative``
on the pages). Whatever is shown says which language it is in, whether it is the
authoritative text, and which language the authoritative text is in, so that pages
can mark a translation as one and link to the authoritative text.

The rules a write must satisfy (which languages, once each, never the authoritative
one) are ``opportunities.inputs.ListingWriteSerializer``'s; who may read a
translation is who may read its listing (``opportunities.access``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

# The text fields a translation carries, in the order of the write body.
TEXT_FIELDS = ("title", "summary", "description")
# Right-to-left scripts among ISO 639-1 codes (Django's LANG_INFO knows only some).
_RTL = frozenset({"ar", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})
# ?text=authoritative on a page: the authoritative text, whatever the reader's language.
AUTHORITATIVE_PARAM = "text"
AUTHORITATIVE_VALUE = "authoritative"


def site_languages() -> list[str]:
    """The languages a translation may be in: the site's own (``settings.LANGUAGES``)."""
    return [code for code, _name in settings.LANGUAGES]


def direction(code: str) -> str:
    """``rtl`` or ``ltr``: the value of a ``dir`` attribute for text in ``code``."""
    return "rtl" if (code or "").split("-")[0].lower() in _RTL else "ltr"


def reader_language(user: Any = None) -> str:
    """The reader's language: the signed-in user's profile language, else the active one."""
    languages = site_languages()
    chosen = getattr(user, "language", "") if user is not None and getattr(user, "is_authenticated", False) else ""
    if chosen in languages:
        return str(chosen)
    active = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0].lower()
    return active if active in languages else settings.LANGUAGE_CODE


def language_name(code: str) -> str:
    """The language's name in the active language ("Spanish", "espagnol"); the code if unknown."""
    if not code:
        return ""
    try:
        return str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return code


@dataclass(frozen=True)
class DisplayText:
    """The text a reader is shown, and what it is."""

    language: str
    authoritative: bool
    authoritative_language: str
    title: str
    summary: str
    description: str
    # Shown the authoritative text on request: the reader's language, which has a translation.
    reader_translation: str = ""

    @property
    def attrs(self) -> SafeString:
        """`` lang="…" dir="…"`` for the element holding the text (nothing when its language is not given)."""
        if not self.language:
            return mark_safe("")
        return format_html(' lang="{}" dir="{}"', self.language, self.dir)

    @property
    def reader_translation_name(self) -> str:
        return language_name(self.reader_translation)

    @property
    def dir(self) -> str:
        return direction(self.language)

    @property
    def authoritative_dir(self) -> str:
        return direction(self.authoritative_language)

    @property
    def language_name(self) -> str:
        return language_name(self.language)

    @property
    def authoritative_language_name(self) -> str:
        return language_name(self.authoritative_language)

    def as_json(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "authoritative": self.authoritative,
            "authoritative_language": self.authoritative_language,
            "title": self.title,
            "summary": self.summary,
            "description": self.description,
        }


def choose(
    authoritative: Mapping[str, Any],
    translations: Iterable[Mapping[str, Any]],
    language: str,
    *,
    force_authoritative: bool = False,
) -> DisplayText:
    """The text in ``language`` if there is a translation in it, else the authoritative text.

    ``authoritative`` has ``text_language``, ``title``, ``summary``, ``description``
    (a listing's values); each translation ``language`` and the three texts.
    """
    source = str(authoritative.get("text_language") or "")
    if not force_authoritative and language != source:
        for item in translations:
            if item["language"] == language:
                return DisplayText(
                    language=language,
                    authoritative=False,
                    authoritative_language=source,
                    **{name: str(item.get(name) or "") for name in TEXT_FIELDS},
                )
    return DisplayText(
        language=source,
        authoritative=True,
        authoritative_language=source,
        **{name: str(authoritative.get(name) or "") for name in TEXT_FIELDS},
    )


def translation_dicts(listing: Any) -> list[dict[str, str]]:
    """The listing's translations as write-body items: from ``selectors.translated``'s
    annotation, a prefetch, or else one read."""
    annotated = getattr(listing, "translation_json", None)
    if annotated is not None:
        return [{"language": item["language"], **{name: item[name] for name in TEXT_FIELDS}} for item in annotated]
    cache = getattr(listing, "_prefetched_objects_cache", {})
    if "translations" in cache:
        rows: Iterable[Any] = cache["translations"]
    elif listing.pk is None:
        rows = []
    else:
        from opportunities.access import translation_rows

        rows = translation_rows().filter(listing_id=listing.pk)
    return [
        {"language": row.language, **{name: getattr(row, name) for name in TEXT_FIELDS}}
        for row in sorted(rows, key=lambda row: row.language)
    ]


def for_listing(listing: Any, language: str, *, force_authoritative: bool = False) -> DisplayText:
    """What ``choose`` shows of a listing model instance."""
    values = {"text_language": listing.text_language, **{name: getattr(listing, name) for name in TEXT_FIELDS}}
    return choose(values, translation_dicts(listing), language, force_authoritative=force_authoritative)


def wants_authoritative(request: Any) -> bool:
    """The reader asked for the authoritative text (``?text=authoritative``)."""
    return request is not None and request.GET.get(AUTHORITATIVE_PARAM) == AUTHORITATIVE_VALUE


def for_request(request: Any, listing: Any) -> DisplayText:
    """What a page shows of a listing to the reader of ``request``: their language, or the
    authoritative text when they asked for it (then saying which translation they left)."""
    language = reader_language(getattr(request, "user", None))
    translated = for_listing(listing, language)
    if translated.authoritative or not wants_authoritative(request):
        return translated
    return replace(for_listing(listing, language, force_authoritative=True), reader_translation=language)
