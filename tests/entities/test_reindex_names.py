"""manage.py reindex_names: stale or missing search rows are written again from entities.names."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from entities.models import Dataset, EntityName, NameKey
from entities.search import search_entities
from entities.services import Scope, entity_create


def test_reindex_names_rebuilds_keys_a_search_needs(case, alice):
    own = entity_create(scope=Scope(investigation=case), name="ТОО «Дала Микро»", aliases=["DM"])
    dataset = Dataset.objects.create(name="KZ customs")
    shared = entity_create(
        scope=Scope(dataset=dataset), name="Qazaq Chip Trade", extra={"weakAlias": ["QCT LLP"]}
    )
    expected = {
        e.pk: sorted(NameKey.objects.filter(entity=e).values_list("kind", "key"))
        for e in (own, shared)
    }
    # Keys gone stale: written by an older entities.names, or lost.
    NameKey.objects.all().delete()
    EntityName.objects.filter(entity=shared).update(norm="stale")
    assert not search_entities(user=alice, query="TOO Dala Mikro")

    out = StringIO()
    call_command("reindex_names", stdout=out)
    assert "2 entities reindexed." in out.getvalue()
    for entity in (own, shared):
        assert (
            sorted(NameKey.objects.filter(entity=entity).values_list("kind", "key"))
            == (expected[entity.pk])
        )
    assert EntityName.objects.filter(entity=shared, name="QCT LLP").exists()  # from extra
    assert [h.entity for h in search_entities(user=alice, query="TOO Dala Mikro")] == [own]


def test_reindex_names_of_one_dataset_or_case(case):
    dataset = Dataset.objects.create(name="Sanctions")
    shared = entity_create(scope=Scope(dataset=dataset), name="Sky Mechanics")
    own = entity_create(scope=Scope(investigation=case), name="Aspan Arba")
    NameKey.objects.all().delete()
    call_command("reindex_names", "--dataset", "Sanctions", stdout=StringIO())
    assert NameKey.objects.filter(entity=shared).exists()
    assert not NameKey.objects.filter(entity=own).exists()
    call_command("reindex_names", "--case", case.slug, stdout=StringIO())
    assert NameKey.objects.filter(entity=own).exists()
    with pytest.raises(CommandError, match="No dataset named"):
        call_command("reindex_names", "--dataset", "Nope", stdout=StringIO())
