"""The case overview answers "where are we": counts that link to their pages, in one query;
recent activity as sentences; cards that later features add through a registry."""

import pytest
from django.urls import reverse
from selectolax.lexbor import LexborHTMLParser

from entities.models import Dataset, LinkKind
from entities.services import Scope, entity_create, link_create, pin_entity, shipment_create
from evidence.models import Document, Snapshot
from investigations import activity, overview
from tests.investigations.test_activity import sentences


def _stats(html: str) -> dict[str, tuple[str, str]]:
    stats = {}
    for a in LexborHTMLParser(html).css("a.stat"):
        label = a.css_first(".stat-label").text()
        stats[label] = (a.css_first(".stat-num").text(), a.attributes["href"])
    return stats


def _add(case, n: int, *, offset: int = 0) -> None:
    scope = Scope(investigation=case)
    for i in range(offset, offset + n):
        a = entity_create(scope=scope, name=f"Company {i}")
        b = entity_create(scope=scope, name=f"Person {i}", schema="Person")
        link_create(scope=scope, kind=LinkKind.DIRECTORSHIP, source=b, target=a)
        shipment_create(scope=scope, date="2022-05-01", hs_code="8542", importer=a)
        Document.objects.create(
            investigation=case,
            title=f"Extract {i}",
            original_name=f"extract-{i}.pdf",
            file=f"test/extract-{i}",
            sha256=f"{i:064d}",
            size=10,
            mime="application/pdf",
            kind="pdf",
            type_label="PDF",
        )
        Snapshot.objects.create(investigation=case, url=f"https://example.org/{i}")


def test_counts_link_to_their_pages(case, alice_client):
    _add(case, 2)
    dataset = Dataset.objects.create(name="KZ customs")
    pin_entity(investigation=case, entity=entity_create(scope=Scope(dataset=dataset), name="X"))
    url = reverse("investigations:detail", kwargs={"case_id": case.public_id})
    stats = _stats(alice_client.get(url).text)
    base = f"/cases/{case.public_id}"
    assert stats == {
        "Entities": ("5", f"{base}/entities/"),  # 4 of the case and 1 pinned
        "Links": ("2", f"{base}/entities/"),
        "Shipments": ("2", f"{base}/shipments/"),
        "Documents": ("2", f"{base}/documents/"),
        "Snapshots": ("2", f"{base}/snapshots/"),
    }


def test_overview_query_count_is_constant(case, alice, alice_client, django_assert_num_queries):
    url = reverse("investigations:detail", kwargs={"case_id": case.public_id})
    with activity.acting_as(alice):
        _add(case, 2)
    # 1 session, 2 user, 3 case with my role, 4 every count (one query), 5 claims by status
    # (the claims card), 6 the latest entries, 7-11 the objects they are about, one query per
    # kind (snapshots, documents, shipments, links, entities), 12 members with their users
    with django_assert_num_queries(12):
        response = alice_client.get(url)
    assert sentences(response.text)[:2] == [
        "Alice asked to capture example.org/1",
        "Alice uploaded Extract 1",
    ]
    with activity.acting_as(alice):
        _add(case, 10, offset=2)
    with django_assert_num_queries(12):
        alice_client.get(url)


@pytest.fixture
def claims_card():
    """What a later feature (claims by status) registers; gone again after the test."""
    overview.register_card(
        overview.Card(
            key="test-claims",
            template="investigations/_test_card.html",
            context=lambda case: {"verified": 2} if case.summary else None,
        )
    )
    yield
    overview.unregister("test-claims")


def test_a_later_feature_adds_a_card_without_touching_the_view(
    case, alice_client, claims_card, settings, tmp_path
):
    (tmp_path / "investigations").mkdir()
    (tmp_path / "investigations" / "_test_card.html").write_text(
        '<section class="panel" id="claims-card">{{ card.verified }} claims verified</section>'
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    url = reverse("investigations:detail", kwargs={"case_id": case.public_id})
    assert "2 claims verified" in alice_client.get(url).text
    case.summary = ""
    case.save()
    assert 'id="claims-card"' not in alice_client.get(url).text  # nothing to show: no card
