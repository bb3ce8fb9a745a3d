"""A listing's text in several languages (issue 16, [12]).

The listing's own title, summary and description, in its ``text_language``, are the
authoritative text; translations into the site's other languages are written with the
listing (replace semantics), moderated with it once it is published, searched, and
shown to readers in their language with a note and a link to the authoritative text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from accounts.tenancy import Actor, unscoped
from opportunities.models import Listing, ListingTranslation
from opportunities.translations import language_name
from tests.conftest import signed_in, token_client
from tests.opportunities.conftest import create_listing, publish, seasonal_scheme, transition
from tests.opportunities.test_web_listings import form_data

pytestmark = pytest.mark.django_db

URL = "/api/v1/listings/"

SPANISH = {
    "language": "es",
    "title": "Cosecha de fruta roja en Trentino",
    "summary": "Contratos de temporada con alojamiento.",
    "description": "Recolección de manzanas y arándanos.",
}
FRENCH = {
    "language": "fr",
    "title": "Récolte de fruits rouges au Trentin",
    "summary": "Contrats saisonniers avec logement.",
    "description": "Cueillette des pommes et des myrtilles.",
}
ARABIC = {
    "language": "ar",
    "title": "جني الفواكه الحمراء في ترينتينو",
    "summary": "عقود موسمية مع السكن.",
    "description": "قطف التفاح والتوت.",
}


def scheme(**overrides: Any) -> dict[str, Any]:
    return seasonal_scheme(
        title="Red-fruit harvest in Trentino",
        summary="Seasonal contracts with housing.",
        description="Apple and blueberry picking.",
        text_language="en",
        **overrides,
    )


def stored(listing: Listing) -> list[tuple[str, str]]:
    with unscoped("the test reads what was saved"):
        return list(ListingTranslation.objects.filter(listing=listing).values_list("language", "title"))


@pytest.fixture
def italian(italy: Any, alice: Any) -> Actor:
    return Actor(user=alice, organisation=italy, role="admin")


@pytest.fixture
def moroccan(morocco: Any, charlie: Any) -> Actor:
    return Actor(user=charlie, organisation=morocco, role="admin")


@pytest.fixture
def published(italian: Actor, moderator: Actor) -> Listing:
    listing = create_listing(italian, scheme(translations=[SPANISH, ARABIC], visibility="public"))
    return publish(listing, italian, moderator)


# --- Writing ------------------------------------------------------------------------------------


def test_the_api_writes_translations_with_the_listing_and_reads_them_back(alice: Any, italy: Any) -> None:
    client = token_client(alice, italy)
    response = client.post(URL, scheme(translations=[SPANISH, FRENCH]), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [t["language"] for t in body["translations"]] == ["es", "fr"]
    assert body["translations"][0] == SPANISH
    detail = client.get(f"{URL}{body['id']}/").json()
    assert detail["translations"] == body["translations"]
    assert detail["title"] == "Red-fruit harvest in Trentino"  # the authoritative text stays the listing's own


@pytest.mark.parametrize(
    ("translations", "field", "words"),
    [
        ([{**SPANISH, "language": "en"}], "translations", "language of the authoritative text"),
        ([SPANISH, {**SPANISH, "title": "Otra"}], "translations", "each language one translation"),
        ([{**SPANISH, "language": "de"}], "translations", "not one of the site's languages"),
        ([{"language": "es", "summary": "Sin título"}], "translations", "required"),
    ],
)
def test_a_bad_translation_is_a_400_naming_the_field_and_saves_nothing(
    alice: Any, italy: Any, translations: list[dict[str, str]], field: str, words: str
) -> None:
    before = Listing.objects.count()
    response = token_client(alice, italy).post(URL, scheme(translations=translations), format="json")
    assert response.status_code == 400
    errors = response.json()
    assert field in errors
    assert words in str(errors[field])
    assert Listing.objects.count() == before


def test_translations_need_the_language_of_the_authoritative_text(alice: Any, italy: Any) -> None:
    payload = {**scheme(translations=[SPANISH]), "text_language": ""}
    response = token_client(alice, italy).post(URL, payload, format="json")
    assert response.status_code == 400
    assert "text_language" in response.json()


def test_a_patch_replaces_the_translations_and_leaves_them_alone_without_the_field(
    alice: Any, italy: Any, italian: Actor
) -> None:
    listing = create_listing(italian, scheme(translations=[SPANISH, FRENCH]))
    client = token_client(alice, italy)
    assert client.patch(f"{URL}{listing.pk}/", {"summary": "Renamed"}, format="json").status_code == 200
    assert [lang for lang, _title in stored(listing)] == ["es", "fr"]
    response = client.patch(f"{URL}{listing.pk}/", {"translations": [ARABIC]}, format="json")
    assert response.status_code == 200
    assert [t["language"] for t in response.json()["translations"]] == ["ar"]
    assert stored(listing) == [("ar", ARABIC["title"])]
    assert client.patch(f"{URL}{listing.pk}/", {"translations": []}, format="json").json()["translations"] == []
    # Changing the authoritative language to one a translation is in is refused, naming the rule.
    client.patch(f"{URL}{listing.pk}/", {"translations": [FRENCH]}, format="json")
    refused = client.patch(f"{URL}{listing.pk}/", {"text_language": "fr"}, format="json")
    assert refused.status_code == 400 and "translations" in refused.json()


def test_translations_of_a_published_listing_are_moderated_like_its_text(
    alice: Any, italy: Any, mona: Any, agency: Any, published: Listing
) -> None:
    client = token_client(alice, italy)
    response = client.patch(f"{URL}{published.pk}/", {"translations": [FRENCH]}, format="json")
    assert response.status_code == 200
    # The published version stays live until a moderator approves the edit.
    assert [t["language"] for t in response.json()["translations"]] == ["ar", "es"]
    assert client.get(URL, {"q": "myrtilles"}).json()["count"] == 0
    revisions = client.get(f"{URL}{published.pk}/revisions/").json()
    assert revisions[0]["status"] == "pending"
    change = revisions[0]["changes"]["translations"]
    assert [t["language"] for t in change["from"]] == ["ar", "es"]
    assert change["to"] == [FRENCH]
    moderator = token_client(mona, agency)
    assert moderator.post(f"{URL}{published.pk}/approve/").status_code == 200
    assert stored(published) == [("fr", FRENCH["title"])]
    assert client.get(URL, {"q": "myrtilles"}).json()["count"] == 1


def test_the_moderator_reads_the_proposed_translations_in_the_review(
    alice: Any, italy: Any, mona: Any, published: Listing
) -> None:
    token_client(alice, italy).patch(f"{URL}{published.pk}/", {"translations": [FRENCH]}, format="json")
    page = signed_in(mona).get(f"/moderation/{published.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Translations of the text" in page
    assert f"French: {FRENCH['title']} — {FRENCH['summary']}" in page
    assert f"Spanish: {SPANISH['title']}" in page  # what it replaces


def test_a_rejected_revision_leaves_the_translations_as_they_were(
    alice: Any, italy: Any, moderator: Actor, published: Listing
) -> None:
    token_client(alice, italy).patch(f"{URL}{published.pk}/", {"translations": []}, format="json")
    transition(published, moderator, "reject", reason="Keep the Spanish text.")
    assert [lang for lang, _title in stored(published)] == ["ar", "es"]


# --- Reading: the API ----------------------------------------------------------------------------


def test_the_api_shows_the_text_in_the_accept_language(charlie: Any, morocco: Any, published: Listing) -> None:
    client = token_client(charlie, morocco)
    spanish = client.get(f"{URL}{published.pk}/", HTTP_ACCEPT_LANGUAGE="es").json()["display"]
    assert spanish == {
        "language": "es",
        "authoritative": False,
        "authoritative_language": "en",
        "title": SPANISH["title"],
        "summary": SPANISH["summary"],
        "description": SPANISH["description"],
    }
    # No French translation: the authoritative text, saying so.
    french = client.get(f"{URL}{published.pk}/", HTTP_ACCEPT_LANGUAGE="fr").json()["display"]
    assert french["authoritative"] is True and french["language"] == "en"
    assert french["title"] == "Red-fruit harvest in Trentino"
    listed = client.get(URL, HTTP_ACCEPT_LANGUAGE="ar").json()["results"]
    assert next(row for row in listed if row["id"] == str(published.pk))["display"]["title"] == ARABIC["title"]
    public = Client().get(f"/api/v1/public/listings/{published.pk}/", HTTP_ACCEPT_LANGUAGE="es").json()
    assert public["display"]["title"] == SPANISH["title"] and public["translations"][1] == SPANISH


def test_the_profile_language_wins_over_the_accept_language(charlie: Any, morocco: Any, published: Listing) -> None:
    charlie.language = "ar"
    charlie.save(update_fields=["language"])
    display = token_client(charlie, morocco).get(f"{URL}{published.pk}/", HTTP_ACCEPT_LANGUAGE="es").json()["display"]
    assert display["language"] == "ar" and display["title"] == ARABIC["title"]
    page = signed_in(charlie).get(f"/listings/{published.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ARABIC["title"] in page and SPANISH["title"] not in page


# --- Reading: the pages --------------------------------------------------------------------------


def _h1(page: str) -> str:
    match = re.search(r"<h1[^>]*>", page)
    assert match is not None
    return match.group(0)


def test_the_page_shows_a_translation_with_a_note_and_a_link_to_the_authoritative_text(
    charlie: Any, published: Listing
) -> None:
    browser = signed_in(charlie)
    page = browser.get(f"/listings/{published.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in page and SPANISH["description"] in page
    assert "data-translation-note" in page
    with translation.override("es"):
        english = language_name("en")
    assert english in page  # "the authoritative text is in inglés", in the reader's language
    assert 'href="?text=authoritative"' in page
    assert _h1(page) == '<h1 lang="es" dir="ltr">'
    authoritative = browser.get(
        f"/listings/{published.pk}/", {"text": "authoritative"}, HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Red-fruit harvest in Trentino" in authoritative and SPANISH["title"] not in authoritative
    assert _h1(authoritative) == '<h1 lang="en" dir="ltr">'
    assert 'href="?text=authoritative"' not in authoritative and 'href="?"' in authoritative  # back to Spanish


def test_arabic_is_marked_right_to_left(charlie: Any, published: Listing) -> None:
    page = signed_in(charlie).get(f"/listings/{published.pk}/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert _h1(page) == '<h1 lang="ar" dir="rtl">'
    assert f'<p class="lead" lang="ar" dir="rtl">{ARABIC["summary"]}</p>' in page


def test_a_reader_in_the_authoritative_language_sees_no_note(charlie: Any, published: Listing) -> None:
    page = signed_in(charlie).get(f"/listings/{published.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "data-translation-note" not in page
    assert _h1(page) == '<h1 lang="en" dir="ltr">'


def test_the_list_pages_and_the_public_pages_and_feed_show_the_readers_language(
    charlie: Any, published: Listing
) -> None:
    listed = signed_in(charlie).get("/listings/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert f'<h3 lang="es" dir="ltr"><a href="/listings/{published.pk}/">{SPANISH["title"]}</a></h3>' in listed
    anonymous = Client()
    public = anonymous.get(f"/public/listings/{published.pk}/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in public and 'href="?text=authoritative"' in public
    assert '"title": "Cosecha de fruta roja en Trentino"' in public and '"inLanguage": "es"' in public  # JSON-LD
    public_list = anonymous.get("/public/listings/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert ARABIC["title"] in public_list
    feed = anonymous.get("/feeds/listings.atom", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert SPANISH["title"] in feed and SPANISH["summary"] in feed


def test_the_form_writes_translation_rows(client: Client, bob: Any) -> None:
    data = form_data(
        **{
            "translations-TOTAL_FORMS": "2",
            "translations-0-language": "fr",
            "translations-0-title": "Cueilleurs de fruits pour le Trentin",
            "translations-0-summary": "Récolte des pommes.",
            "translations-1-language": "",  # an empty row is ignored
            "translations-1-title": "",
        }
    )
    response = signed_in(bob).post("/listings/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    listing = Listing.objects.get(title="Fruit pickers for Trentino")
    assert stored(listing) == [("fr", "Cueilleurs de fruits pour le Trentin")]
    edit = signed_in(bob).get(f"/listings/{listing.pk}/edit/").content.decode()
    assert 'value="Cueilleurs de fruits pour le Trentin"' in edit
    assert "<script>" not in edit  # no inline script: the rows are plain form fields


def test_the_form_names_a_translation_in_the_authoritative_language(client: Client, bob: Any) -> None:
    data = form_data(
        **{
            "translations-TOTAL_FORMS": "1",
            "translations-0-language": "en",
            "translations-0-title": "Fruit pickers again",
        }
    )
    response = signed_in(bob).post("/listings/new/", data)
    assert response.status_code == 400
    assert "language of the authoritative text" in response.content.decode()
    assert not Listing.objects.filter(title="Fruit pickers for Trentino").exists()


# --- Search ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["arándanos", "arandanos", "recolección manzanas", "التفاح"])
def test_a_search_in_another_language_finds_the_translation(
    charlie: Any, morocco: Any, published: Listing, query: str
) -> None:
    found = token_client(charlie, morocco).get(URL, {"q": query}).json()["results"]
    assert [row["id"] for row in found] == [str(published.pk)]


# --- Privacy -----------------------------------------------------------------------------------------


def test_another_tenants_private_listing_keeps_its_translations_to_itself(
    charlie: Any, morocco: Any, italian: Actor
) -> None:
    secret = {**SPANISH, "title": "Borrador confidencial de Italia", "description": "Palabra zarzamoraxyz."}
    draft = create_listing(italian, scheme(translations=[secret]))
    outsider = token_client(charlie, morocco)
    assert outsider.get(f"{URL}{draft.pk}/").status_code == 404
    assert outsider.get(URL, {"q": "zarzamoraxyz"}).json()["count"] == 0
    listed = outsider.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Borrador confidencial" not in listed
    assert signed_in(charlie).get(f"/listings/{draft.pk}/").status_code == 404
    assert Client().get(f"/public/listings/{draft.pk}/").status_code == 404
    assert "Borrador confidencial" not in Client().get("/feeds/listings.atom").content.decode()
