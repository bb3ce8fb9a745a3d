"""Serializers for the public reference lists. Titles and names follow the request language."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from opportunities.models import Currency, Language, Occupation, Sector
from opportunities.selectors import occupation_ancestors


class OccupationRefSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="ISCO-08 code.")
    title = serializers.CharField(read_only=True, help_text="Title in the request language (en, fr or es).")


class OccupationSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent_id", read_only=True, allow_null=True, help_text="The parent group; null for a major group."
    )
    title = serializers.CharField(read_only=True, help_text="Title in the request language (en, fr or es).")
    skill_level = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=4),
        read_only=True,
        help_text="ISCO skill level(s) most occupations in the group require (1 = elementary, 4 = professional).",
    )

    class Meta:
        model = Occupation
        fields = ["code", "level", "parent_code", "title", "title_en", "title_fr", "title_es", "skill_level"]
        read_only_fields = fields


class OccupationDetailSerializer(OccupationSerializer):
    parents = serializers.SerializerMethodField(help_text="Ancestors, from the major group down to the direct parent.")
    children = serializers.SerializerMethodField(help_text="The groups directly below, in code order.")

    class Meta(OccupationSerializer.Meta):
        fields = [*OccupationSerializer.Meta.fields, "parents", "children"]
        read_only_fields = fields

    @extend_schema_field(OccupationRefSerializer(many=True))
    def get_parents(self, obj: Occupation) -> list[dict[str, str]]:
        return OccupationRefSerializer(occupation_ancestors(occupation=obj), many=True).data  # type: ignore[return-value]  # many=True: a ReturnList

    @extend_schema_field(OccupationRefSerializer(many=True))
    def get_children(self, obj: Occupation) -> list[dict[str, str]]:
        return OccupationRefSerializer(obj.children.order_by("code"), many=True).data  # type: ignore[return-value]  # many=True: a ReturnList


class SectorSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(
        source="parent_id", read_only=True, allow_null=True, help_text="The section of a division; null for a section."
    )
    title = serializers.CharField(
        read_only=True, help_text="Title (English: UNSD publishes no verifiable French or Spanish ISIC Rev.4 titles)."
    )

    class Meta:
        model = Sector
        fields = ["code", "level", "parent_code", "title", "title_en"]
        read_only_fields = fields


class CountrySerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="ISO 3166-1 alpha-2 code.")
    name = serializers.CharField(read_only=True, help_text="Name in the request language.")


class LanguageSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="Name in the request language.")

    class Meta:
        model = Language
        fields = ["code", "name"]
        read_only_fields = fields


class CurrencySerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True, help_text="Name in the request language.")

    class Meta:
        model = Currency
        fields = ["code", "name", "minor_units"]
        read_only_fields = fields


class CefrLevelSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True, help_text="A1, A2, B1, B2, C1 or C2.")
    name = serializers.CharField(read_only=True, help_text="The level and its band, in the request language.")
