"""Possible duplicates and merge: nothing is lost, the log says so, cases never mix."""

import pytest
from django.urls import reverse

from entities.models import Entity, Identifier, Link, LinkKind, Pin, Shipment
from entities.search import possible_duplicates
from entities.services import (
    Scope,
    entity_create,
    entity_merge,
    link_create,
    pin_entity,
    shipment_create,
)
from investigations.errors import DomainError
from investigations.models import ActivityEntry
from tests.factories import make_case

SPELLINGS = [
    "Ivanov Ivan",
    "Ivan Ivanov",
    "Иванов Иван Иванович",
    "Ivanov Ivan Ivanovich",
    "IVANOV, Ivan",
    "Иван Иванов",
]


def test_one_person_in_six_spellings_shows_up_as_duplicates(case):
    scope = Scope(investigation=case)
    people = [entity_create(scope=scope, name=n, schema="Person") for n in SPELLINGS]
    entity_create(scope=scope, name="Petrov Pyotr", schema="Person")
    found = {d.entity.name for d in possible_duplicates(entity=people[0])}
    assert found == set(SPELLINGS[1:])


def test_same_identifier_is_a_duplicate_with_that_reason(case):
    scope = Scope(investigation=case)
    a = entity_create(scope=scope, name="Alpha Trading", identifiers=[("ru_inn", "7707083893")])
    b = entity_create(scope=scope, name="Completely Different Name")
    Identifier.objects.create(entity=b, scheme="ru_inn", value="7707083893")
    [dup] = possible_duplicates(entity=a)
    assert (dup.entity, dup.reason) == (b, "same identifier")


def test_duplicates_stay_within_the_scope(case, alice):
    other = make_case(owner=alice, title="Other case")
    a = entity_create(scope=Scope(investigation=case), name="Aspan Arba")
    entity_create(scope=Scope(investigation=other), name="Aspan Arba")
    assert possible_duplicates(entity=a) == []


def test_merge_moves_everything_and_loses_nothing(case, alice, dataset):
    scope = Scope(investigation=case)
    keep = entity_create(
        scope=scope,
        name="Kazakh Chip Trade",
        countries=["KZ"],
        identifiers=[("kz_bin", "940140000385")],
    )
    dup = entity_create(
        scope=scope,
        name="Казах Чип Трейд",
        aliases=["KCT"],
        countries=["KZ", "RU"],
        start_date="2022-04",
        notes="Founded by the son.",
        identifiers=[("ru_inn", "7707083893")],
    )
    owner = entity_create(scope=scope, name="Timur", schema="Person")
    buyer = entity_create(scope=scope, name="Sky Mechanics")
    link_create(scope=scope, kind=LinkKind.OWNERSHIP, source=owner, target=dup, percentage=100)
    link_create(scope=scope, kind=LinkKind.UNKNOWN, source=keep, target=dup, role="same?")
    shipment_create(scope=scope, date="2022-05-15", exporter=dup, importer=buyer, hs_code="8542")
    shipment_create(scope=scope, date="2022-05-01", exporter=buyer, importer=dup, hs_code="8542")

    entity_merge(survivor=keep, duplicate=dup, case=case, actor=alice)

    keep.refresh_from_db()
    assert not Entity.objects.filter(pk=dup.pk).exists()
    assert keep.aliases == ["Казах Чип Трейд", "KCT"]
    assert keep.countries == ["KZ", "RU"]
    assert keep.start_date == "2022-04"
    assert "Founded by the son." in keep.notes
    assert set(keep.identifiers.values_list("scheme", flat=True)) == {"kz_bin", "ru_inn"}
    assert Link.objects.get(kind=LinkKind.OWNERSHIP).target == keep
    assert not Link.objects.filter(kind=LinkKind.UNKNOWN).exists()  # keep<->dup: now moot
    assert Shipment.objects.filter(exporter=keep).count() == 1
    assert Shipment.objects.filter(importer=keep).count() == 1
    assert "kazakh chip treyd" in set(keep.name_forms.values_list("norm", flat=True))
    merge = ActivityEntry.objects.filter(investigation=case, changes__has_key="merge").get()
    assert merge.actor == alice
    assert merge.changes["merge"]["merged"] == "Казах Чип Трейд"
    assert merge.changes["merge"]["shipments moved"] == 2
    assert ActivityEntry.objects.filter(
        investigation=case, action="deleted", object_repr="Казах Чип Трейд"
    ).exists()


def test_merge_moves_pins_of_dataset_entities(case, alice, dataset):
    scope = Scope(dataset=dataset)
    keep = entity_create(scope=scope, name="Aspan Arba LLP")
    dup = entity_create(scope=scope, name="TOO Aspan Arba")
    pin_entity(investigation=case, entity=dup)
    entity_merge(survivor=keep, duplicate=dup, case=None)
    assert list(Pin.objects.values_list("entity", flat=True)) == [keep.pk]


def test_merging_across_case_files_is_refused(case, alice):
    other = make_case(owner=alice, title="Other case")
    a = entity_create(scope=Scope(investigation=case), name="Aspan Arba")
    b = entity_create(scope=Scope(investigation=other), name="Aspan Arba")
    with pytest.raises(DomainError, match="same case file"):
        entity_merge(survivor=a, duplicate=b, case=None)
    with pytest.raises(DomainError, match="not part of this case file"):
        entity_merge(survivor=a, duplicate=b, case=case)
    assert Entity.objects.count() == 2


def test_merge_from_the_page(case, alice_client):
    scope = Scope(investigation=case)
    keep = entity_create(scope=scope, name="Ivan Ivanov", schema="Person")
    dup = entity_create(scope=scope, name="Иванов Иван", schema="Person")
    url = reverse(
        "entities:detail", kwargs={"case_id": case.public_id, "entity_id": keep.public_id}
    )
    page = alice_client.get(url).text
    assert "Possible duplicates" in page and "Иванов Иван" in page
    response = alice_client.post(url + "merge/", {"other": dup.public_id}, follow=True)
    assert "merged into" in response.text
    assert list(Entity.objects.values_list("name", flat=True)) == ["Ivan Ivanov"]


def test_merge_page_refuses_an_entity_of_another_case(case, alice, alice_client):
    other = make_case(owner=alice, title="Other case")
    keep = entity_create(scope=Scope(investigation=case), name="A")
    theirs = entity_create(scope=Scope(investigation=other), name="A")
    url = reverse("entities:merge", kwargs={"case_id": case.public_id, "entity_id": keep.public_id})
    response = alice_client.post(url, {"other": theirs.public_id}, follow=True)
    assert "Choose an entity of this case file" in response.text
    assert Entity.objects.count() == 2


def test_merge_keeps_extra_ftm_values_and_the_ftm_id(dataset):
    scope = Scope(dataset=dataset)
    keep = entity_create(
        scope=scope, name="Ivan Ivanov", schema="Person", extra={"topics": ["sanction"]}
    )
    dup = entity_create(
        scope=scope,
        name="Иван Иванов",
        schema="Person",
        ftm_id="os-123",
        extra={"topics": ["role.pep"], "weakAlias": ["Vanya"]},
    )
    entity_merge(survivor=keep, duplicate=dup, case=None)
    keep.refresh_from_db()
    assert keep.extra == {"topics": ["sanction", "role.pep"], "weakAlias": ["Vanya"]}
    assert keep.ftm_id == "os-123"
    assert "vanya" in set(keep.name_forms.values_list("norm", flat=True))


def test_a_pinned_dataset_entity_with_the_same_identifier_is_offered(case, dataset, alice):
    mine = entity_create(
        scope=Scope(investigation=case),
        name="ТОО «Дала Микро»",
        identifiers=[("kz_bin", "940140000385")],
    )
    shared = entity_create(
        scope=Scope(dataset=dataset),
        name="Dala Micro Trading LLP",
        identifiers=[("kz_bin", "940140000385")],
    )
    by_name = entity_create(scope=Scope(dataset=dataset), name="Dala Mikro LLP")
    unpinned = entity_create(scope=Scope(dataset=dataset), name="Dala Mikro")
    # Imports may leave two entities of a dataset with one number; services refuse it.
    Identifier.objects.create(entity=unpinned, scheme="kz_bin", value="940140000385")
    assert possible_duplicates(entity=mine) == []  # nothing pinned yet
    pin_entity(investigation=case, entity=shared, actor=alice)
    pin_entity(investigation=case, entity=by_name, actor=alice)

    found = possible_duplicates(entity=mine)
    assert [(d.entity, d.reason, d.pinned) for d in found] == [
        (shared, "same identifier", True),
        (by_name, "transliteration", True),
    ]
    assert unpinned not in [d.entity for d in found]
    # Seen from the pinned entity's page in the case: the case entity, same identifier first.
    assert next(d.entity for d in possible_duplicates(entity=shared, case=case)) == mine


def test_a_dataset_entity_page_shows_its_own_duplicates(dataset, alice_client):
    a = entity_create(
        scope=Scope(dataset=dataset),
        name="Qazaq Chip Trade",
        identifiers=[("kz_bin", "940140000385")],
    )
    b = entity_create(scope=Scope(dataset=dataset), name="Другое имя")
    Identifier.objects.create(entity=b, scheme="kz_bin", value="940140000385")
    c = entity_create(scope=Scope(dataset=dataset), name="АО «Казах Чип Трейд»")
    entity_create(scope=Scope(dataset=dataset), name="Unrelated Bakery")
    assert [(d.entity, d.reason) for d in possible_duplicates(entity=a)] == [
        (b, "same identifier"),
        (c, "sounds alike"),
    ]
    page = alice_client.get(
        reverse(
            "datasets:entity", kwargs={"dataset_id": dataset.public_id, "entity_id": a.public_id}
        )
    ).text
    assert "Possible duplicates" in page and "Другое имя" in page and "sounds alike" in page
    assert "Unrelated Bakery" not in page


def test_a_pinned_duplicate_is_linked_not_merged(case, dataset, alice, alice_client):
    mine = entity_create(scope=Scope(investigation=case), name="ТОО «Дала Микро»")
    shared = entity_create(scope=Scope(dataset=dataset), name="Dala Mikro LLP")
    pin_entity(investigation=case, entity=shared, actor=alice)
    url = reverse(
        "entities:detail", kwargs={"case_id": case.public_id, "entity_id": mine.public_id}
    )
    page = alice_client.get(url).text
    assert "Link as the same" in page and "Merge into this one" not in page
