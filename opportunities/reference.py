"""Validators other apps use for reference codes, and the CEFR levels.

The code sets are read once per process and cached: the classifications change
only with a data migration (and a deploy). An empty table is never cached, so a
call made before ``migrate`` does not poison the cache.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from opportunities.models import CefrLevel, Currency, Language, Occupation, Sector

__all__ = [
    "CefrLevel",
    "currency_exists",
    "is_valid_cefr",
    "is_valid_isco",
    "isco_exists",
    "isic_exists",
    "language_exists",
]

_ISCO_SYNTAX = re.compile(r"[0-9]{1,4}")


class _Codes:
    """A lazily loaded, process-wide map of code to level (or to ``None``)."""

    def __init__(self, load: Callable[[], Iterable[tuple[str, Any]]]) -> None:
        self._load = load
        self._value: dict[str, Any] | None = None

    def get(self) -> dict[str, Any]:
        if self._value is None:
            value = dict(self._load())
            if not value:
                return value
            self._value = value
        return self._value

    def clear(self) -> None:
        self._value = None


_ISCO = _Codes(lambda: Occupation.objects.values_list("code", "level"))
_ISIC = _Codes(lambda: Sector.objects.values_list("code", "level"))
_LANGUAGES = _Codes(lambda: ((code, None) for code in Language.objects.values_list("code", flat=True)))
_CURRENCIES = _Codes(lambda: ((code, None) for code in Currency.objects.values_list("code", flat=True)))


def clear_caches() -> None:
    """Forget the cached code sets (after loading new reference data)."""
    for codes in (_ISCO, _ISIC, _LANGUAGES, _CURRENCIES):
        codes.clear()


def is_valid_isco(code: object) -> bool:
    """Whether ``code`` is an ISCO-08 code in form: a string of 1 to 4 digits (no database read)."""
    return isinstance(code, str) and _ISCO_SYNTAX.fullmatch(code) is not None


def isco_exists(code: object, *, level: int | None = None) -> bool:
    """Whether ``code`` is an ISCO-08 group (of ``level``, 1–4, if given; 4 is a unit group)."""
    if not is_valid_isco(code):
        return False
    found = _ISCO.get().get(code)  # type: ignore[call-overload]  # is_valid_isco: a str
    return found is not None and (level is None or found == level)


def isic_exists(code: object, *, level: str | None = None) -> bool:
    """Whether ``code`` is an ISIC Rev.4 code ("section", "division", "group" or "class" if given).

    Sections are letters ("A"), divisions two digits ("01").
    """
    if not isinstance(code, str):
        return False
    found = _ISIC.get().get(code)
    return found is not None and (level is None or found == level)


def language_exists(code: object) -> bool:
    """Whether ``code`` is an ISO 639-1 language code (lower case, "de")."""
    return isinstance(code, str) and code in _LANGUAGES.get()


def currency_exists(code: object) -> bool:
    """Whether ``code`` is an active ISO 4217 currency code (upper case, "EUR")."""
    return isinstance(code, str) and code in _CURRENCIES.get()


def is_valid_cefr(code: object) -> bool:
    """Whether ``code`` is a CEFR level, A1 to C2."""
    return isinstance(code, str) and code in CefrLevel.values
