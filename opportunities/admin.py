"""Read-only admin for the reference classifications (data migrations own the rows)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from opportunities.models import Currency, EscoOccupation, Language, Occupation, Sector


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only: a change here would diverge from the published classification."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Occupation)
class OccupationAdmin(ReadOnlyAdmin):
    list_display = ["code", "level", "title_en", "title_fr", "title_es", "skill_level"]
    list_filter = ["level"]
    search_fields = ["code", "title_en", "title_fr", "title_es"]
    fields = ["code", "level", "parent", "title_en", "title_fr", "title_es", "skill_level"]


@admin.register(EscoOccupation)
class EscoOccupationAdmin(ReadOnlyAdmin):
    list_display = ["esco_code", "title_en", "occupation", "regulated_profession"]
    list_filter = ["regulated_profession"]
    list_select_related = ["occupation"]
    search_fields = ["esco_code", "title_en", "occupation__code"]


@admin.register(Sector)
class SectorAdmin(ReadOnlyAdmin):
    list_display = ["code", "level", "title_en", "parent"]
    list_select_related = ["parent"]
    list_filter = ["level"]
    search_fields = ["code", "title_en"]


@admin.register(Language)
class LanguageAdmin(ReadOnlyAdmin):
    list_display = ["code", "name_en", "name_fr", "name_es"]
    search_fields = ["code", "name_en", "name_fr", "name_es"]


@admin.register(Currency)
class CurrencyAdmin(ReadOnlyAdmin):
    list_display = ["code", "numeric", "minor_units", "name_en", "name_fr", "name_es"]
    search_fields = ["code", "numeric", "name_en", "name_fr", "name_es"]
