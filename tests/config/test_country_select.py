"""The country selects are rendered once per language, attributes and selection (config.forms):
the HTML is Django's own, in the reader's language, with the reader's own selection."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.utils import translation

from config.forms import CachedSelect, CountriesField, CountriesSelect
from tests.conftest import signed_in


def _django(field: CountriesField, name: str, value: list[str], attrs: dict[str, str]) -> str:
    """The same select rendered option by option by Django's SelectMultiple."""
    return forms.SelectMultiple(choices=field.choices).render(name, value, attrs)


@pytest.mark.parametrize("language", ["en", "fr", "es"])
@pytest.mark.parametrize("value", [[], ["MA"], ["SN", "MA"]])
def test_the_select_is_what_django_renders_in_each_language(language, value):
    field = CountriesField()
    attrs = {"id": "id_partner_country", "aria-describedby": "id_partner_country_helptext"}
    with translation.override(language):
        first = field.widget.render("partner_country", value, attrs)
        again = field.widget.render("partner_country", value, attrs)
        assert first == again == _django(field, "partner_country", value, attrs)
    assert isinstance(field.widget, CountriesSelect)


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("value", ["", "SN"])
def test_the_single_select_is_what_django_renders_with_the_choices_it_is_given(language, value):
    with translation.override(language):
        choices = [("", "Any"), *CountriesField().choices]
        cached = CachedSelect(choices=choices)
        assert cached.render("partner_country", value) == cached.render("partner_country", value)
        assert cached.render("partner_country", value) == forms.Select(choices=choices).render("partner_country", value)
        # Other choices are another select, never the one rendered before.
        fewer = CachedSelect(choices=[("", "Any"), ("MA", "Morocco")])
        assert fewer.render("partner_country", value).count("<option") == 2


def test_each_language_gets_its_own_names():
    field = CountriesField()
    rendered = {}
    for language in ("en", "fr", "es", "en"):
        with translation.override(language):
            rendered[language] = field.widget.render("owner_country", [], {"id": "id_owner_country"})
    assert '<option value="MA">Morocco</option>' in rendered["en"]
    assert '<option value="MA">Maroc</option>' in rendered["fr"]
    assert '<option value="MA">Marruecos</option>' in rendered["es"]


def _selected(html: str, name: str) -> list[str]:
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert select is not None
    return re.findall(r'<option value="([A-Z]{2})" selected>', select.group(0))


def test_one_readers_selection_never_shows_in_anothers_page(alice, charlie):
    searching = signed_in(alice).get("/listings/", {"partner_country": ["MA", "SN"], "owner_country": "IT"})
    assert _selected(searching.content.decode(), "partner_country") == ["MA", "SN"]
    assert _selected(searching.content.decode(), "owner_country") == ["IT"]
    # Another organisation's reader, the same page without a search: nothing chosen.
    other = signed_in(charlie).get("/listings/").content.decode()
    assert _selected(other, "partner_country") == []
    assert _selected(other, "owner_country") == []
    # And a wrong code is shown back with its error, not another reader's selection.
    wrong = signed_in(charlie).get("/listings/", {"partner_country": "XX"})
    assert wrong.status_code == 400
    assert _selected(wrong.content.decode(), "partner_country") == []
    assert 'aria-describedby="id_partner_country_helptext id_partner_country_error"' in wrong.content.decode()


def test_the_public_page_shows_each_visitor_their_own_country(client, db):
    chosen = client.get("/public/listings/", {"partner_country": "SN"}).content.decode()
    assert _selected(chosen, "partner_country") == ["SN"]
    plain = client.get("/public/listings/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert _selected(plain, "partner_country") == []
    assert '<option value="SN">Sénégal</option>' in plain
