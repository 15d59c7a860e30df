"""Batch screening: a CSV of names against the datasets and my case files, never others'."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from entities.models import Dataset, Schema
from entities.services import Scope, entity_create
from tests.factories import make_case

URL = "/screening/"


@pytest.fixture
def lists(case, charlie):
    sanctions = Dataset.objects.create(name="OpenSanctions")
    entity_create(
        scope=Scope(dataset=sanctions),
        name="Иван Петров",
        schema=Schema.PERSON,
        nationality=["RU"],
        start_date="1971-03-02",
        extra={"topics": ["sanction"]},
    )
    entity_create(
        scope=Scope(dataset=sanctions),
        name="Ivan Petrov",
        schema=Schema.PERSON,
        nationality=["RU"],
        start_date="1985",
    )
    entity_create(scope=Scope(investigation=case), name="Aspan Arba LLP", countries=["KZ"])
    secret = make_case(owner=charlie, title="Charlie's secret case")
    entity_create(scope=Scope(investigation=secret), name="Secret Aspan Arba", countries=["KZ"])
    return sanctions


def _upload(client, text, *, fmt="html", name="names.csv", encoding="utf-8"):
    file = SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")
    return client.post(URL, {"file": file, "format": fmt})


def test_screening_ranks_matches_by_name_country_and_date_of_birth(lists, alice_client):
    text = "name;country;date_of_birth\nIvan Petrov;Russia;02.03.1971\nТОО «Аспан Арба»;KZ;\n"
    response = _upload(alice_client, text)
    page = response.content.decode()
    assert response.status_code == 200 and "2 names screened" in page
    rows = response.context["result"].rows
    petrov = rows[0].matches
    assert [m.entity.start_date for m in petrov] == ["1971-03-02"]  # born 1985: score too low
    assert petrov[0].sanctioned and petrov[0].topics == "sanction"
    assert "same date of birth" in petrov[0].reasons
    assert [m.entity.name for m in rows[1].matches] == ["Aspan Arba LLP"]
    assert "Secret Aspan Arba" not in page and "Charlie" not in page


def test_screening_downloads_csv_and_reports_bad_rows(lists, alice_client):
    text = "Name,Country,DOB\nIvan Petrov,RU,\n,KZ,\nAspan Arba,Narnia,\nX,RU,31.02.1990\n"
    response = _upload(alice_client, text, fmt="csv")
    assert response["Content-Disposition"] == 'attachment; filename="screening.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:8] == [
        "line",
        "name",
        "country",
        "date_of_birth",
        "rank",
        "score",
        "match",
        "matched_name",
    ]
    petrov = [r for r in rows[1:] if r[1] == "Ivan Petrov"]
    assert {r[6] for r in petrov} == {"Иван Петров", "Ivan Petrov"}
    assert any(r[13] == "yes" and r[14] == "sanction" for r in petrov)
    bad = [r for r in rows if r[6].startswith("bad row")]
    assert [(r[0], r[6]) for r in bad] == [
        ("3", "bad row: name: a name is required"),
        ("4", "bad row: country: unknown country"),
        ("5", "bad row: date_of_birth: not a real date"),
    ]


def test_a_formula_in_a_name_is_not_a_formula_in_the_csv(lists, alice_client):
    response = _upload(alice_client, 'name\n"=HYPERLINK(""http://x"")"\n', fmt="csv")
    body = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK" in body


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("country\nKZ\n", "needs a “name” column"),
        ("%PDF-1.4 not a table", "cannot be read"),
    ],
)
def test_unreadable_files_are_a_form_error(lists, alice_client, text, message):
    response = _upload(alice_client, text)
    assert response.status_code == 200 and message in response.content.decode()


def test_uploads_are_bounded(lists, alice_client, settings):
    settings.SCREENING_MAX_ROWS = 2
    response = _upload(alice_client, "name\na\nb\nc\n")
    assert "more than 2 rows" in response.content.decode()
    settings.SCREENING_MAX_BYTES = 10
    response = _upload(alice_client, "name\nIvan Petrov\n")
    assert "screening takes at most 10" in response.content.decode()


def test_results_page_query_count_is_constant(lists, alice_client, django_assert_num_queries):
    # 1 session, 2 user, 3 my case files, 4 candidates of every row (one statement),
    # 5 their entities with datasets and cases, 6 their identifiers
    with django_assert_num_queries(6):
        _upload(alice_client, "name\nIvan Petrov\n")
    with django_assert_num_queries(6):
        _upload(alice_client, "name\nIvan Petrov\nAspan Arba\nPetrov Ivan\nНикто\n")


def test_screening_page_needs_a_login(client):
    response = client.get(reverse("screening"))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
