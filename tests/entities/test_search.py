"""Search understands names: scripts, legal forms, spellings; and never leaks other cases."""

import pytest
from django.urls import reverse

from entities.search import search_entities
from entities.services import Scope, entity_create
from tests.factories import make_case


def _names(hits):
    return [h.entity.name for h in hits]


@pytest.fixture
def names(case, dataset):
    scope = Scope(investigation=case)
    entity_create(scope=scope, name="Aspan Arba LLP")
    entity_create(scope=scope, name="ООО «Скай Механикс»")
    entity_create(scope=scope, name="Vogt Elektronik GmbH")
    entity_create(
        scope=Scope(dataset=dataset),
        name="АО «Казах Чип Трейд»",
        aliases=["Kazakh Chip Trade JSC", "Kazakh Chip Trading"],
    )
    entity_create(scope=Scope(dataset=dataset), name="Unrelated Bakery Ltd")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ТОО «Аспан Арба»", "Aspan Arba LLP"),
        ("aspan arba", "Aspan Arba LLP"),
        ("Sky Mechanics", "ООО «Скай Механикс»"),
        ("Скай Механикс ООО", "ООО «Скай Механикс»"),
        ("Казах Чип Трейд", "АО «Казах Чип Трейд»"),
        ("kazakh chip trade", "АО «Казах Чип Трейд»"),
        ("Vogt", "Vogt Elektronik GmbH"),
    ],
)
def test_finds_names_across_scripts_and_legal_forms(names, alice, query, expected):
    hits = search_entities(user=alice, query=query)
    assert hits, query
    assert _names(hits)[0] == expected


def test_unrelated_names_do_not_match(names, alice):
    assert "Unrelated Bakery Ltd" not in _names(search_entities(user=alice, query="Aspan Arba"))


def test_never_returns_entities_of_other_case_files(names, alice, charlie):
    secret = make_case(owner=charlie, title="Charlie's")
    entity_create(scope=Scope(investigation=secret), name="Aspan Arba Secret Holding")
    assert "Aspan Arba Secret Holding" not in _names(search_entities(user=alice, query="aspan"))
    charlie_hits = _names(search_entities(user=charlie, query="aspan arba"))
    assert "Aspan Arba Secret Holding" in charlie_hits
    assert "Aspan Arba LLP" not in charlie_hits  # alice's case, not charlie's
    # Dataset entities are shared with everyone.
    assert "АО «Казах Чип Трейд»" in _names(search_entities(user=charlie, query="Kazakh chip"))


def test_search_page_links_into_the_case_and_the_dataset(names, case, alice_client):
    text = alice_client.get(reverse("search"), {"q": "Казах Чип"}).text
    assert "Kazakh" in text or "Казах" in text
    assert "/datasets/" in text
    text = alice_client.get(reverse("search"), {"q": "aspan"}).text
    assert f"/cases/{case.public_id}/entities/" in text


def test_search_page_query_count_does_not_grow(
    names, case, alice, alice_client, django_assert_max_num_queries
):
    scope = Scope(investigation=case)
    for n in range(15):
        entity_create(scope=scope, name=f"Aspan Arba Branch {n}")
    # session, user, visible case ids, the trigram threshold for the transaction, ranked hits,
    # entities in bulk, case files, document pages and snapshots matching the text: 9
    with django_assert_max_num_queries(9):
        alice_client.get(reverse("search"), {"q": "aspan arba"})
