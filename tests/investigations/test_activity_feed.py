"""The activity feed reads as sentences a person would write: a capture, an edit, a link and an
import, exactly; a job's life is one entry with its outcome; an entity's page shows what
happened to it, its links, citations and shipments."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from entities.models import Dataset, ImportJob, LinkKind
from entities.services import Scope, entity_create, link_create, shipment_create
from evidence import services as evidence_services
from evidence.models import Snapshot
from investigations import activity
from investigations.jobs import JobStatus
from tests.factories import UserFactory, make_case
from tests.investigations.test_activity import sentences


@pytest.fixture
def newsroom(db):
    dana = UserFactory(username="dana", first_name="Dana")
    marat = UserFactory(username="marat", first_name="Marat")
    erlan = UserFactory(username="erlan", first_name="Erlan", is_staff=True)
    case = make_case(owner=marat, members={dana: "reporter"})
    scope = Scope(investigation=case)
    with activity.acting_as(dana):
        dala = entity_create(
            scope=scope, name="ТОО «Дала Микро»", start_date="2022-04", countries=["KZ"]
        )
        timur = entity_create(scope=scope, name="Timur Hartmann", schema="Person")
    return {
        "dana": dana,
        "marat": marat,
        "erlan": erlan,
        "case": case,
        "dala": dala,
        "timur": timur,
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _feed(world, user="dana") -> list[str]:
    url = reverse("investigations:activity", kwargs={"case_id": world["case"].public_id})
    return sentences(_client(world[user]).get(url).text)


def _finish_capture(snapshot, *, status=JobStatus.DONE, seconds=2.1, **fields):
    """What the worker leaves on the row (a conditional UPDATE: no signal, no entry)."""
    started = timezone.now()
    Snapshot.objects.filter(pk=snapshot.pk).update(
        status=status,
        attempts=1,
        claimed_by="task-1",
        started_at=started,
        finished_at=started + datetime.timedelta(seconds=seconds),
        **fields,
    )


def test_a_capture_reads_as_its_outcome_in_one_entry(newsroom):
    with activity.acting_as(newsroom["dana"]):
        snapshot = evidence_services.snapshot_request(
            investigation=newsroom["case"], url="https://www.example.kz/", actor=newsroom["dana"]
        )
    assert _feed(newsroom)[0] == "Dana asked to capture www.example.kz"
    _finish_capture(snapshot, http_status=200, body_truncated=True)
    feed = _feed(newsroom)
    assert feed[0] == "Dana captured www.example.kz (200, 2.1 s)"
    assert sum("www.example.kz" in s for s in feed) == 1  # one entry for the job's whole life


def test_a_failed_capture_says_why(newsroom):
    with activity.acting_as(newsroom["dana"]):
        snapshot = evidence_services.snapshot_request(
            investigation=newsroom["case"],
            url="https://catalogue.example.ru/chips?page=2",
            actor=newsroom["dana"],
        )
    _finish_capture(snapshot, status=JobStatus.FAILED, error="The server did not answer.")
    url = reverse("investigations:activity", kwargs={"case_id": newsroom["case"].public_id})
    text = _client(newsroom["dana"]).get(url).text
    assert sentences(text)[0] == "Dana could not capture catalogue.example.ru/chips?page=2"
    assert "The server did not answer." in text


def test_an_edit_shows_what_changed_formatted_and_labelled(newsroom):
    dala, case = newsroom["dala"], newsroom["case"]
    url = reverse("entities:edit", kwargs={"case_id": case.public_id, "entity_id": dala.public_id})
    response = _client(newsroom["dana"]).post(
        url,
        {
            "schema": "Company",
            "name": "ТОО «Дала Микро»",
            "countries": "KZ",
            "start_date": "2022-04-07",
            "identifier_scheme": ["kz_bin"],
            "identifier_value": ["220440012351"],
        },
    )
    assert response.status_code == 302
    feed_url = reverse("investigations:activity", kwargs={"case_id": case.public_id})
    text = _client(newsroom["marat"]).get(feed_url).text
    assert sentences(text)[0] == "Dana edited the company ТОО «Дала Микро»"
    from selectolax.lexbor import LexborHTMLParser

    first = LexborHTMLParser(text).css_first(".feed-entry")
    changes = [" ".join(div.text(separator=" ").split()) for div in first.css(".feed-changes div")]
    assert changes == ["Incorporated Apr 2022 → 7 Apr 2022"]
    assert "updated_at" not in text and "search" not in first.text()


def test_a_link_reads_as_who_is_what_to_whom(newsroom):
    with activity.acting_as(newsroom["marat"]):
        link_create(
            scope=Scope(investigation=newsroom["case"]),
            kind=LinkKind.DIRECTORSHIP,
            source=newsroom["timur"],
            target=newsroom["dala"],
        )
    assert _feed(newsroom)[0] == "Marat added Timur Hartmann as director of ТОО «Дала Микро»"


def test_an_import_reads_as_a_sentence_on_the_dataset_page_and_imports(newsroom):
    dataset = Dataset.objects.create(name="KZ customs")
    ImportJob.objects.create(
        kind="shipments",
        dataset=dataset,
        original_name="customs-2022.csv",
        file="imports/customs-2022.csv",
        created_by=newsroom["erlan"],
        status=JobStatus.DONE,
        rows_read=1_200_037,
        rows_imported=1_200_000,
        rows_rejected=37,
    )
    expected = "Erlan imported 1,200,000 rows into KZ customs (37 rejected)"
    dataset_page = _client(newsroom["dana"]).get(
        reverse("datasets:detail", kwargs={"dataset_id": dataset.public_id})
    )
    assert sentences(dataset_page.text) == [expected]
    imports_page = _client(newsroom["erlan"]).get(reverse("imports:list"))
    assert sentences(imports_page.text) == [expected]


def test_the_entity_page_shows_its_links_citations_and_shipments(newsroom):
    case, dala, timur, dana = (newsroom[k] for k in ("case", "dala", "timur", "dana"))
    other = entity_create(scope=Scope(investigation=case), name="Somebody Else")
    with activity.acting_as(dana):
        link = link_create(
            scope=Scope(investigation=case),
            kind=LinkKind.OWNERSHIP,
            source=timur,
            target=dala,
            percentage=100,
        )
        shipment_create(
            scope=Scope(investigation=case),
            date="2022-05-03",
            hs_code="854231",
            exporter=dala,
            quantity=2598,
            unit="pcs",
            value="119508.00",
            currency="EUR",
        )
        snapshot = evidence_services.snapshot_request(
            investigation=case, url="https://dala.example.kz/", entity=dala, actor=dana
        )
        _finish_capture(snapshot, http_status=200, seconds=1.0)
        evidence_services.citation_create(
            investigation=case,
            claim=link,
            snapshot=Snapshot.objects.get(pk=snapshot.pk),
            quote="Учредитель: Тимур Хартманн",
            actor=dana,
        )
        link_create(
            scope=Scope(investigation=case), kind=LinkKind.UNKNOWN, source=timur, target=other
        )
    url = reverse(
        "entities:detail", kwargs={"case_id": case.public_id, "entity_id": dala.public_id}
    )
    feed = sentences(_client(dana).get(url).text)
    assert feed == [
        "Dana cited dala.example.kz for Timur Hartmann as owner of ТОО «Дала Микро» (100 %)",
        "Dana captured dala.example.kz (200, 1.0 s)",
        "Dana recorded a shipment from ТОО «Дала Микро» to ?",
        "Dana added Timur Hartmann as owner of ТОО «Дала Микро» (100 %)",
        "Dana added the company ТОО «Дала Микро»",
    ]
    # Deleting the link keeps its story on the entity's page.
    with activity.acting_as(dana):
        link.delete()
    feed = sentences(_client(dana).get(url).text)
    assert feed[0] == "Dana removed Timur Hartmann as owner of ТОО «Дала Микро» (100 %)"
