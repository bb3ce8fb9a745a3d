"""SDMX-CSV in and out of a migration profile: the template, the export, the import and its task."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from accounts.tenancy import Actor, tenant_scope, unscoped
from exchange import imports as jobs
from exchange.models import MigrationProfile, Observation, ProfileImport
from exchange.profiles import imports
from exchange.profiles.sdmx import HEADER, format_value
from tests.conftest import token_client
from tests.factories import member

pytestmark = pytest.mark.django_db

URL = "/api/v1/profiles/"
HEAD = ",".join(HEADER)
FLOW = "CORRIDOR:PROFILE(1.0)"


@pytest.fixture
def mihai(moldova: Any) -> Any:
    return member(moldova, "official", email="official@md.example")


@pytest.fixture
def moldova_api(moldova: Any, mihai: Any) -> APIClient:
    return token_client(mihai, moldova)


@pytest.fixture
def germany_api(germany: Any) -> APIClient:
    return token_client(member(germany, "official", email="official@de.example"), germany)


def _draft(client: APIClient, year: int = 2025, visibility: str = "members") -> dict[str, Any]:
    response = client.post(URL, {"country": "MD", "year": year, "visibility": visibility}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def draft(moldova_api: APIClient) -> dict[str, Any]:
    return _draft(moldova_api)


def upload(client: APIClient, profile: dict[str, Any], content: str | bytes, name: str = "figures.csv") -> Any:
    """POST the file; the task runs (eagerly) once the request's transaction commits."""
    raw = content.encode() if isinstance(content, str) else content
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(f"{URL}{profile['id']}/import/", {"file": SimpleUploadedFile(name, raw)}, format="multipart")


def imported(client: APIClient, profile: dict[str, Any], content: str) -> dict[str, Any]:
    response = upload(client, profile, content)
    assert response.status_code == 202, response.json()
    assert response["Location"] == f"/api/v1/imports/{response.json()['id']}/"
    return client.get(response["Location"]).json()


def line(indicator: str, value: str, *, sex: str = "T", age: str = "_T", period: int = 2024, **cells: str) -> str:
    row = {
        "DATAFLOW": FLOW,
        "REF_AREA": "MDA",
        "INDICATOR": indicator,
        "SEX": sex,
        "AGE": age,
        "TIME_PERIOD": str(period),
        "OBS_VALUE": value,
        "UNIT_MEASURE": "",
        "SOURCE": "UN DESA 2024",
        "COMMENT": "",
        **cells,
    }
    return ",".join(row[column] for column in HEADER)


def figures(profile: dict[str, Any]) -> set[tuple[Any, ...]]:
    with unscoped("assertion"):
        rows = Observation.objects.filter(profile_id=profile["id"])
        return {(r.indicator_id, r.sex, r.age, r.time_period, format_value(r.value), r.source, r.comment) for r in rows}


# --- The template ----------------------------------------------------------------------------


def test_the_template_is_the_header_and_one_commented_example_per_part(anon_api):
    response = anon_api.get("/api/v1/reference/indicators/template.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    lines = text.removeprefix("\ufeff").splitlines()
    assert lines[0] == HEAD
    examples = [row for row in lines[1:] if row]
    assert len(examples) == 4 and all(row.startswith("#" + FLOW) for row in examples)
    codes = {row.split(",")[2] for row in examples}
    assert codes == {"MIG_STOCK_IN", "REMIT_IN_USD", "LF_MIGRANT_SHARE", "SDG_10_7_2"}


def test_the_template_imports_as_it_is_and_changes_nothing(moldova_api, draft, anon_api):
    template = anon_api.get("/api/v1/reference/indicators/template.csv").content.decode()
    job = imported(moldova_api, draft, template)
    assert (job["status"], job["saved"], job["total"], job["errors"]) == ("succeeded", 0, 0, [])


def test_the_templates_examples_import_once_uncommented(moldova_api, draft, anon_api):
    template = anon_api.get("/api/v1/reference/indicators/template.csv").content.decode()
    job = imported(moldova_api, draft, template.replace("\n#", "\n"))
    assert (job["status"], job["saved"]) == ("succeeded", 4), job["errors"]


# --- Importing ----------------------------------------------------------------------------------


def test_a_file_with_a_bom_crlf_comments_and_quoted_cells_is_imported_whole(moldova_api, draft):
    text = "\r\n".join(
        [
            HEAD,
            "# a comment, skipped",
            line("MIG_STOCK_OUT", "1000", UNIT_MEASURE="persons"),
            line("MIG_STOCK_OUT", "560", sex="SEX_F"),  # ILOSTAT's sex codes are understood
            line("MIG_STOCK_OUT", "440", sex="M"),
            line("MIG_STOCK_OUT", "120", sex="F", age="Y15-24", SOURCE='"UN DESA, International Migrant Stock"'),
            line("REMIT_IN_USD", "1850.50", COMMENT='"Two lines,\r\nwith a comma"'),
            "",
        ]
    )
    job = imported(moldova_api, draft, "\ufeff" + text)
    assert job["status"] == "succeeded", job["errors"]
    assert (job["saved"], job["total"], job["processed"]) == (5, 5, 5)
    assert job["finished_at"] and job["profile"] == draft["id"]
    rows = figures(draft)
    assert ("MIG_STOCK_OUT", "F", "Y15-24", 2024, "120", "UN DESA, International Migrant Stock", "") in rows
    assert ("REMIT_IN_USD", "T", "_T", 2024, "1850.5", "UN DESA 2024", "Two lines,\r\nwith a comma") in rows
    assert ("MIG_STOCK_OUT", "F", "_T", 2024, "560", "UN DESA 2024", "") in rows
    with unscoped("assertion"):
        assert AuditEvent.objects.filter(action="profile.imported", object_id=draft["id"]).count() == 1


def test_every_bad_row_is_reported_with_its_line_and_column_and_nothing_is_saved(moldova_api, draft):
    text = "\n".join(
        [
            HEAD,  # 1
            line("MIG_STOCK_OUT", "1000"),  # 2: fine
            line("RETURNEES", "7", period=2023, REF_AREA="DEU"),  # 3: another country
            line("REMIT_IN_USD", "12", UNIT_MEASURE="percent"),  # 4: not the catalogue's unit
            line("MIG_STOCK_IN", "-5"),  # 5: negative persons
            line("RETURNEES", "10"),  # 6: fine
            line("RETURNEES", "11"),  # 7: the same figure twice in the file
            line("MIG_STOCK_OUT", "600", sex="F"),  # 8: fine
            line("MIG_STOCK_OUT", "450", sex="M"),  # 9: 600 + 450 > 1000 (line 2)
            line("NOT_AN_INDICATOR", "1"),  # 10
            line("MIG_STOCK_OUT", "1", period=2999, SOURCE=""),  # 11: two problems
            line("HDI", "0.7", DATAFLOW="OTHER:FLOW(1.0)"),  # 12
            "too,few,cells",  # 13
        ]
    )
    job = imported(moldova_api, draft, text)
    assert job["status"] == "failed" and job["saved"] == 0
    where = {(e["row"], e["column"]) for e in job["errors"]}
    assert where == {
        (3, "REF_AREA"),
        (4, "UNIT_MEASURE"),
        (5, "OBS_VALUE"),
        (7, "INDICATOR"),
        (9, "OBS_VALUE"),
        (10, "INDICATOR"),
        (11, "TIME_PERIOD"),
        (11, "SOURCE"),
        (12, "DATAFLOW"),
        (13, ""),
    }, job["errors"]
    ref_area = next(e for e in job["errors"] if e["column"] == "REF_AREA")
    assert "MDA" in ref_area["message"] and "DEU" in ref_area["message"]
    assert figures(draft) == set()  # all or nothing


def test_one_bad_row_among_many_saves_nothing(moldova_api, draft):
    rows = [line("MIG_STOCK_OUT", str(n), period=2000 + n % 25, age=f"Y{n}-{n + 1}", sex="F") for n in range(300)]
    rows[250] = line("MIG_STOCK_OUT", "12.5", period=2020)  # persons are whole
    job = imported(moldova_api, draft, "\n".join([HEAD, *rows]))
    assert job["status"] == "failed" and job["errors"] == [
        {"row": 252, "column": "OBS_VALUE", "message": "MIG_STOCK_OUT counts persons: a whole number."}
    ]
    assert job["processed"] == job["total"] == 300
    assert figures(draft) == set()


def test_a_header_without_a_required_column_is_an_error_on_line_1(moldova_api, draft):
    job = imported(moldova_api, draft, "DATAFLOW,REF_AREA,INDICATOR,TIME_PERIOD,SOURCE,COLOR\n")
    assert {(e["row"], e["column"]) for e in job["errors"]} == {(1, "OBS_VALUE"), (1, "COLOR")}


def test_the_optional_columns_may_be_left_out(moldova_api, draft):
    text = f"REF_AREA,DATAFLOW,INDICATOR,TIME_PERIOD,OBS_VALUE,SOURCE\nMDA,{FLOW},HDI,2023,0.75,UNDP\n"
    job = imported(moldova_api, draft, text)
    assert job["status"] == "succeeded", job["errors"]
    assert figures(draft) == {("HDI", "T", "_T", 2023, "0.75", "UNDP", "")}


def test_errors_beyond_the_cap_are_counted_not_listed(moldova_api, draft, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_ERRORS", 3)
    job = imported(moldova_api, draft, "\n".join([HEAD, *[line("NOPE", "1")] * 5]))
    assert [e["row"] for e in job["errors"]] == [2, 3, 4, 0]
    assert "2 more" in job["errors"][-1]["message"]


def test_the_import_sets_the_figures_it_names_and_leaves_the_others(moldova_api, draft):
    observations = f"{URL}{draft['id']}/observations/"
    for indicator, value in (("MIG_STOCK_OUT", "1000"), ("HDI", "0.7")):
        body = {"indicator": indicator, "time_period": 2024, "value": value, "source": "before"}
        assert moldova_api.post(observations, body, format="json").status_code == 201
    text = "\n".join([HEAD, line("MIG_STOCK_OUT", "1100", SOURCE="after"), line("MIG_STOCK_OUT", "500", sex="F")])
    job = imported(moldova_api, draft, text)
    assert job["status"] == "succeeded" and job["saved"] == 2, job["errors"]
    assert figures(draft) == {
        ("MIG_STOCK_OUT", "T", "_T", 2024, "1100", "after", ""),
        ("MIG_STOCK_OUT", "F", "_T", 2024, "500", "UN DESA 2024", ""),
        ("HDI", "T", "_T", 2024, "0.7", "before", ""),
    }


def test_women_and_men_above_a_total_already_in_the_draft_are_refused(moldova_api, draft):
    body = {"indicator": "MIG_STOCK_OUT", "time_period": 2024, "value": "1000", "source": "before"}
    moldova_api.post(f"{URL}{draft['id']}/observations/", body, format="json")
    job = imported(
        moldova_api,
        draft,
        "\n".join([HEAD, line("MIG_STOCK_OUT", "600", sex="F"), line("MIG_STOCK_OUT", "450", sex="M")]),
    )
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(3, "OBS_VALUE")]


# --- Export ----------------------------------------------------------------------------------


def test_export_then_import_into_a_fresh_draft_reproduces_the_figures(moldova_api, draft):
    text = "\n".join(
        [
            HEAD,
            line("MIG_STOCK_OUT", "1000.0000"),
            line("MIG_STOCK_OUT", "560", sex="F"),
            line("MIG_STOCK_OUT", "120", sex="F", age="Y15-24"),
            line("NET_MIGRATION", "-12000", SOURCE='"=SUM(A1) looks like a formula"'),
            line("REMIT_IN_USD", "1850.25", COMMENT='"with, a comma ""and quotes"""'),
            line("LF_MIGRANT_SHARE", "4.5", sex="F", period=2020, COMMENT="-starts with a minus"),
        ]
    )
    assert imported(moldova_api, draft, text)["status"] == "succeeded"
    response = moldova_api.get(f"{URL}{draft['id']}/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    exported = b"".join(response.streaming_content).decode()
    assert exported.startswith(HEAD + "\r\n")
    assert f"{FLOW},MDA,MIG_STOCK_OUT,T,_T,2024,1000,persons," in exported  # no trailing zeros
    assert ",1850.25,usd_millions," in exported and ",-12000," in exported
    fresh = _draft(moldova_api, year=2024)
    job = imported(moldova_api, fresh, exported)
    assert job["status"] == "succeeded" and job["saved"] == 6, job["errors"]
    assert figures(fresh) == figures(draft)


def test_values_are_written_without_trailing_zeros_or_exponents():
    from decimal import Decimal

    cases = {"1000.0000": "1000", "12.5000": "12.5", "0.0000": "0", "-12000.0000": "-12000", "0.0001": "0.0001"}
    assert {k: format_value(Decimal(k)) for k in cases} == cases


# --- Who may -----------------------------------------------------------------------------------


def test_a_bad_upload_is_a_400_naming_file(moldova_api, draft, monkeypatch):
    url = f"{URL}{draft['id']}/import/"
    assert "file" in moldova_api.post(url, {}, format="multipart").json()
    for raw in (b"", b"\xef\xbb\xbf  \r\n", "é".encode("latin-1") + b",x\n"):
        response = upload(moldova_api, draft, raw)
        assert response.status_code == 400 and "file" in response.json(), raw
    monkeypatch.setattr(jobs, "MAX_BYTES", 20)
    response = upload(moldova_api, draft, HEAD)
    assert response.status_code == 400 and "file" in response.json()
    with unscoped("assertion"):
        assert not ProfileImport.objects.exists()


def test_outsiders_get_404_and_only_the_owners_writers_import_into_a_draft(moldova, moldova_api, germany_api, draft):
    text = "\n".join([HEAD, line("HDI", "0.7")])
    job = imported(moldova_api, draft, text)
    # A draft is the owner's alone: export, import and the import's status are 404 to others.
    assert germany_api.get(f"{URL}{draft['id']}/export.csv").status_code == 404
    assert upload(germany_api, draft, text).status_code == 404
    assert germany_api.get(f"/api/v1/imports/{job['id']}/").status_code == 404
    viewer = token_client(member(moldova, "viewer", email="viewer@md.example"), moldova)
    assert upload(viewer, draft, text).status_code == 403
    assert viewer.get(f"/api/v1/imports/{job['id']}/").status_code == 200  # the organisation's own import
    moldova_api.post(f"{URL}{draft['id']}/publish/")
    assert germany_api.get(f"{URL}{draft['id']}/export.csv").status_code == 200  # a reader now
    assert upload(germany_api, draft, text).status_code == 403
    # Who asks comes first: a published profile is a 409 even with no file at all.
    assert moldova_api.post(f"{URL}{draft['id']}/import/", {}, format="multipart").status_code == 409


def test_an_import_fails_clearly_when_the_profile_was_published_meanwhile(moldova, mihai, moldova_api, draft):
    actor = Actor(user=mihai, organisation=moldova, role="official")
    with unscoped("test setup"):
        profile = MigrationProfile.objects.get(pk=draft["id"])
    text = f"{HEAD}\n{line('HDI', '0.7')}\n"
    with tenant_scope(actor), TestCase.captureOnCommitCallbacks(execute=False):
        job = imports.profile_import_create(actor=actor, profile=profile, text=text, filename="x.csv")
    moldova_api.post(f"{URL}{draft['id']}/publish/")  # before the worker gets to it
    with tenant_scope(actor):
        imports.profile_import_run(str(job.pk))
    with unscoped("assertion"):
        job.refresh_from_db()
    assert job.status == "failed" and "published" in job.errors[0]["message"]
    assert figures(draft) == set()


def test_a_figure_added_while_the_file_is_checked_fails_the_import_and_saves_nothing(moldova_api, draft, monkeypatch):
    save = imports._save

    def meanwhile(job: Any, actor: Any, book: Any) -> Any:
        # Someone adds the same figure between the check and the save.
        body = {"indicator": "HDI", "time_period": 2024, "value": "0.7", "source": "meanwhile"}
        assert moldova_api.post(f"{URL}{draft['id']}/observations/", body, format="json").status_code == 201
        return save(job, actor, book)

    monkeypatch.setattr(imports, "_save", meanwhile)
    job = imported(moldova_api, draft, "\n".join([HEAD, line("HDI", "0.75"), line("REMIT_IN_USD", "12")]))
    assert job["status"] == "failed" and job["errors"][0]["row"] == 0, job
    assert figures(draft) == {("HDI", "T", "_T", 2024, "0.7", "meanwhile", "")}


# --- A real worker ---------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_import_runs_in_a_real_celery_worker_on_redis(celery_worker, moldova_api, draft):
    rows = [line("MIG_STOCK_OUT", str(1000 + n), period=2000 + n) for n in range(25)]
    response = moldova_api.post(
        f"{URL}{draft['id']}/import/",
        {"file": SimpleUploadedFile("f.csv", "\n".join([HEAD, *rows]).encode())},
        format="multipart",
    )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job = moldova_api.get(response["Location"]).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert (job["status"], job["saved"], job["processed"]) == ("succeeded", 25, 25), job
    assert len(figures(draft)) == 25
