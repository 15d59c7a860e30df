"""Hardening 2: the shipment tables' party filter never names an entity the page cannot show.

A case page resolves its own entities and the ones pinned into it; a dataset page its own. Any
other id behaves like an unknown one: no name, no rows.
"""

import pytest
from django.urls import reverse

from entities.models import Dataset
from entities.services import Scope, entity_create, pin_entity, shipment_create
from tests.factories import make_case

SECRET = "Secret Holdings Almaty"


@pytest.fixture
def parties(case, alice, charlie, chips):
    secret = entity_create(scope=Scope(investigation=case), name=SECRET)
    shipment_create(
        scope=Scope(investigation=case), date="2022-07-01", exporter=secret, hs_code="8542"
    )
    dataset = Dataset.objects.create(name="KZ customs")
    other_dataset = Dataset.objects.create(name="Sanctions")
    shared = entity_create(scope=Scope(dataset=dataset), name="Sky Mechanics Shared")
    shipment_create(scope=Scope(dataset=dataset), date="2022-08-01", importer=shared, hs_code="88")
    listed = entity_create(scope=Scope(dataset=other_dataset), name="Listed Elsewhere Ltd")
    charlies = make_case(owner=charlie, title="Charlie's own case")
    return {
        "secret": secret,
        "dataset": dataset,
        "shared": shared,
        "listed": listed,
        "charlies": charlies,
    }


def _case_shipments(case):
    return reverse("entities:shipments", kwargs={"case_id": case.public_id})


def _dataset_shipments(dataset):
    return reverse("datasets:shipments", kwargs={"dataset_id": dataset.public_id})


def test_hardening_2_an_outsider_never_reads_a_case_entity_name_through_the_party_filter(
    parties, charlie_client
):
    party = {"party": parties["secret"].public_id}
    for url in (_dataset_shipments(parties["dataset"]), _case_shipments(parties["charlies"])):
        response = charlie_client.get(url, party)
        assert response.status_code == 200
        assert SECRET not in response.text
        assert "Showing shipments of" not in response.text
        assert "<strong>0</strong> shipments" in response.text
        htmx = charlie_client.get(url, party, headers={"HX-Request": "true"})
        assert SECRET not in htmx.text


def test_hardening_2_the_party_filter_resolves_only_what_the_page_shows(
    case, parties, alice_client
):
    # A case page: its own entities and pinned dataset entities; not another dataset's.
    response = alice_client.get(_case_shipments(case), {"party": parties["secret"].public_id})
    assert f"Showing shipments of <strong>{SECRET}</strong>" in response.text
    assert "<strong>1</strong> shipment<" in response.text
    response = alice_client.get(_case_shipments(case), {"party": parties["shared"].public_id})
    assert "Sky Mechanics Shared" not in response.text
    pin_entity(investigation=case, entity=parties["shared"])
    response = alice_client.get(_case_shipments(case), {"party": parties["shared"].public_id})
    assert "Showing shipments of <strong>Sky Mechanics Shared</strong>" in response.text
    # A dataset page: the dataset's own entities only, even for a member of the case.
    dataset_url = _dataset_shipments(parties["dataset"])
    response = alice_client.get(dataset_url, {"party": parties["secret"].public_id})
    assert SECRET not in response.text
    response = alice_client.get(dataset_url, {"party": parties["listed"].public_id})
    assert "Listed Elsewhere Ltd" not in response.text
    assert "<strong>0</strong> shipments" in response.text
    response = alice_client.get(dataset_url, {"party": parties["shared"].public_id})
    assert "Showing shipments of <strong>Sky Mechanics Shared</strong>" in response.text
    assert "<strong>1</strong> shipment<" in response.text


def test_hardening_2_datasets_load_through_access(parties, alice):
    from django.contrib.auth.models import AnonymousUser
    from django.http import Http404

    from investigations import access

    public_id = parties["dataset"].public_id
    assert access.get_dataset_for(alice, public_id) == parties["dataset"]
    assert set(access.visible_datasets(alice)) == {parties["dataset"], parties["listed"].dataset}
    for user in (AnonymousUser(), None):
        assert not access.visible_datasets(user).exists()
        with pytest.raises(Http404):
            access.get_dataset_for(user, public_id)
    with pytest.raises(Http404):
        access.get_dataset_for(alice, parties["secret"].public_id)


def test_hardening_2_filtered_shipment_table_query_count(
    case, parties, alice_client, django_assert_num_queries
):
    for day in (2, 3):
        shipment_create(
            scope=Scope(investigation=case),
            date=f"2022-07-0{day}",
            exporter=parties["secret"],
            hs_code="8542",
        )
    url = _case_shipments(case)
    # 1 session, 2 user, 3 case with my role, 4 the party among the case's own and pinned
    # entities, 5 count, 6 totals per currency, 7 the page of shipments with their parties
    with django_assert_num_queries(7):
        response = alice_client.get(url, {"party": parties["secret"].public_id})
    assert "<strong>3</strong> shipments" in response.text
    # An id the page may not name costs no shipment query at all.
    with django_assert_num_queries(4):
        alice_client.get(url, {"party": parties["listed"].public_id})
