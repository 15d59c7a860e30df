"""Hardening 1: a shared dataset entity is read-only from inside a case file.

A member may pin it, link it and cite it; never edit, merge or delete it (STORIES.md, "What must
never happen"). Each write path is refused by the service and through HTTP with a clear message,
and the dataset's rows and other case files' links, pins and citations stay as they were.
"""

import pytest
from django.urls import reverse

from entities.models import Dataset, Entity, EntityName, Identifier, Link, LinkKind, Pin
from entities.services import (
    ReadOnlyEntity,
    Scope,
    entity_create,
    entity_delete,
    entity_merge,
    entity_update,
    link_create,
    pin_entity,
)
from evidence.models import Citation
from evidence.services import citation_create
from investigations.models import ActivityEntry
from tests.factories import UserFactory, make_case, make_document

READ_ONLY = "belongs to the shared dataset “KZ customs”: it is read-only in a case file"


@pytest.fixture
def shared(case, alice, bob):
    """Two entities of a dataset, pinned into bob's case and relied on by another case file."""
    dataset = Dataset.objects.create(name="KZ customs")
    dscope = Scope(dataset=dataset)
    a = entity_create(
        scope=dscope, name="Kazakh Chip Trade", identifiers=[("kz_bin", "940140000385")]
    )
    b = entity_create(scope=dscope, name="Казах Чип Трейд", aliases=["KCT"])
    director = entity_create(scope=dscope, name="Erlan Example", schema="Person")
    link_create(scope=dscope, kind=LinkKind.DIRECTORSHIP, source=director, target=b)
    for entity in (a, b):
        pin_entity(investigation=case, entity=entity, actor=bob)
    own = entity_create(scope=Scope(investigation=case), name="Kazakh Chip Trade (ours)")

    dora = UserFactory(username="dora")
    other = make_case(owner=dora, title="Someone else's case")
    person = entity_create(scope=Scope(investigation=other), name="Timur", schema="Person")
    link_create(scope=Scope(investigation=other), kind=LinkKind.OWNERSHIP, source=person, target=b)
    document = make_document(case=other)
    citation_create(investigation=other, claim=b, document=document, quote="owned by")
    return {"dataset": dataset, "a": a, "b": b, "own": own, "other": other}


def _shared_state(dataset) -> dict:
    """Everything of the dataset and of the other case file a case member must not change."""
    entities = Entity.objects.filter(dataset=dataset)
    return {
        "entities": sorted(
            entities.values_list(*[f.attname for f in Entity._meta.concrete_fields])
        ),
        "identifiers": sorted(
            Identifier.objects.filter(entity__dataset=dataset).values_list(
                "entity", "scheme", "value"
            )
        ),
        "names": sorted(EntityName.objects.filter(dataset=dataset).values_list("entity", "name")),
        "links": sorted(Link.objects.values_list("pk", "source", "target", "investigation")),
        "pins": sorted(Pin.objects.values_list("pk", "investigation", "entity")),
        "citations": sorted(Citation.objects.values_list("pk", "entity", "investigation")),
    }


def _url(name, case, entity):
    return reverse(
        f"entities:{name}", kwargs={"case_id": case.public_id, "entity_id": entity.public_id}
    )


# --- Through HTTP, as bob (a reporter of the case) -------------------------------------------


@pytest.mark.parametrize(
    ("survivor", "duplicate"),
    [("a", "b"), ("b", "a"), ("own", "b"), ("a", "own")],
    ids=["pinned-into-pinned", "pinned-into-pinned-reversed", "pinned-into-own", "own-into-pinned"],
)
def test_hardening_1_merging_a_pinned_dataset_entity_is_refused(
    case, bob_client, shared, survivor, duplicate
):
    before = _shared_state(shared["dataset"])
    own_before = Entity.objects.filter(investigation=case).count()
    response = bob_client.post(
        _url("merge", case, shared[survivor]),
        {"other": shared[duplicate].public_id},
        follow=True,
    )
    assert response.status_code == 200
    assert READ_ONLY in response.text
    assert "” merged into “" not in response.text  # the success message
    assert _shared_state(shared["dataset"]) == before
    assert Entity.objects.filter(investigation=case).count() == own_before
    assert not ActivityEntry.objects.filter(changes__has_key="merge").exists()


def test_hardening_1_editing_a_pinned_dataset_entity_is_refused(case, bob_client, shared):
    before = _shared_state(shared["dataset"])
    url = _url("edit", case, shared["a"])
    page = bob_client.get(url)
    assert page.status_code == 400
    assert READ_ONLY in page.text
    response = bob_client.post(
        url,
        {
            "schema": "Company",
            "name": "Renamed by a reporter",
            "aliases": "Another alias",
            "identifiers": "ru_inn: 7707083893",
            "notes": "overwritten",
        },
    )
    assert response.status_code == 400
    assert READ_ONLY in response.text
    assert _shared_state(shared["dataset"]) == before


def test_hardening_1_deleting_a_pinned_dataset_entity_is_refused(case, bob_client, shared):
    before = _shared_state(shared["dataset"])
    response = bob_client.post(_url("delete", case, shared["b"]), follow=True)
    assert response.status_code == 200
    assert READ_ONLY in response.text
    assert "deleted" not in response.text
    assert _shared_state(shared["dataset"]) == before


def test_hardening_1_pinning_linking_and_citing_still_work(case, bob_client, shared):
    """The read-only rule takes nothing away that a case may do with a dataset entity."""
    third = entity_create(scope=Scope(dataset=shared["dataset"]), name="Sky Mechanics")
    response = bob_client.post(
        reverse(
            "datasets:pin",
            kwargs={"dataset_id": shared["dataset"].public_id, "entity_id": third.public_id},
        ),
        {"case": case.public_id},
    )
    assert response.status_code == 302
    assert Pin.objects.filter(investigation=case, entity=third).exists()
    response = bob_client.post(
        reverse(
            "entities:link-create",
            kwargs={"case_id": case.public_id, "entity_id": shared["own"].public_id},
        ),
        {"kind": LinkKind.UNKNOWN, "direction": "out", "other": shared["a"].public_id},
    )
    assert response.status_code == 302
    assert Link.objects.filter(
        investigation=case, source=shared["own"], target=shared["a"]
    ).exists()
    document = make_document(case=case, title="Customs letter", sha256="1" * 64)
    citation_create(investigation=case, claim=shared["a"], document=document, quote="imports")
    assert Citation.objects.filter(investigation=case, entity=shared["a"]).exists()


# --- In the services -------------------------------------------------------------------------


def test_hardening_1_services_refuse_every_write_from_a_case(case, alice, shared):
    a, b, own = shared["a"], shared["b"], shared["own"]
    before = _shared_state(shared["dataset"])
    attempts = {
        "update fields": lambda: entity_update(entity=a, case=case, notes="changed"),
        "rename": lambda: entity_update(entity=a, case=case, name="New name"),
        "aliases": lambda: entity_update(entity=b, case=case, aliases=["Other"]),
        "identifiers": lambda: entity_update(
            entity=a, case=case, identifiers=[("ru_inn", "7707083893")]
        ),
        "delete": lambda: entity_delete(entity=b, case=case),
        "merge pinned into pinned": lambda: entity_merge(
            survivor=a, duplicate=b, case=case, actor=alice
        ),
        "merge pinned into own": lambda: entity_merge(
            survivor=own, duplicate=b, case=case, actor=alice
        ),
        "merge own into pinned": lambda: entity_merge(
            survivor=a, duplicate=own, case=case, actor=alice
        ),
    }
    for label, attempt in attempts.items():
        with pytest.raises(ReadOnlyEntity, match=READ_ONLY):
            attempt()
        for entity in (a, b):
            entity.refresh_from_db()
        assert _shared_state(shared["dataset"]) == before, label
    assert Entity.objects.filter(pk=own.pk).exists()


def test_hardening_1_the_message_says_what_to_do_instead(case, shared):
    with pytest.raises(ReadOnlyEntity) as caught:
        entity_delete(entity=shared["a"], case=case)
    assert caught.value.message == (
        "“Kazakh Chip Trade” belongs to the shared dataset “KZ customs”: it is read-only in a "
        "case file. Pin it, link it or cite it instead."
    )


def test_hardening_1_an_entity_of_another_case_is_refused_too(case, shared):
    theirs = Entity.objects.get(investigation=shared["other"])
    with pytest.raises(Exception, match="not part of this case file"):
        entity_update(entity=theirs, case=case, notes="changed")
    with pytest.raises(Exception, match="not part of this case file"):
        entity_merge(survivor=shared["own"], duplicate=theirs, case=case)


def test_hardening_1_own_entities_and_the_dataset_itself_stay_writable(case, shared):
    own = entity_update(entity=shared["own"], case=case, notes="ours to change")
    assert own.notes == "ours to change"
    # Staff tools act on the dataset itself, not through a case file.
    merged = entity_merge(survivor=shared["a"], duplicate=shared["b"], case=None)
    assert merged.aliases == ["Казах Чип Трейд", "KCT"]
