import pytest

from entities.models import Dataset, LinkKind, Schema
from entities.services import Scope, entity_create, link_create, shipment_create


@pytest.fixture
def scope(case):
    return Scope(investigation=case)


@pytest.fixture
def chips(case, scope, alice):
    """The story in DESIGN.md, small: German distributor -> Kazakh reseller -> Russian buyer."""
    de = entity_create(
        scope=scope,
        name="Elektronik Handel Vogt GmbH",
        countries=["DE"],
        identifiers=[("de_vat", "DE136695976")],
        created_by=alice,
    )
    kz = entity_create(
        scope=scope,
        name="ТОО «Аспан Арба»",
        aliases=["Aspan Arba LLP"],
        countries=["KZ"],
        start_date="2022-04",
        identifiers=[("kz_bin", "940140000385")],
        created_by=alice,
    )
    ru = entity_create(
        scope=scope,
        name="ООО «Скай Механикс»",
        countries=["RU"],
        identifiers=[("ru_inn", "7707083893")],
        created_by=alice,
    )
    son = entity_create(
        scope=scope, name="Timur Vogt", schema=Schema.PERSON, nationality=["DE"], created_by=alice
    )
    link_create(
        scope=scope,
        kind=LinkKind.OWNERSHIP,
        source=son,
        target=kz,
        percentage=100,
        start_date="2022-04",
    )
    link_create(scope=scope, kind=LinkKind.DIRECTORSHIP, source=son, target=kz, role="director")
    for month in (5, 6):
        shipment_create(
            scope=scope,
            date=f"2022-{month:02d}-01",
            exporter=de,
            importer=kz,
            hs_code="854231",
            quantity=2598,
            unit="pcs",
            value=120000,
            currency="EUR",
            origin_country="DE",
            destination_country="KZ",
        )
        shipment_create(
            scope=scope,
            date=f"2022-{month:02d}-15",
            exporter=kz,
            importer=ru,
            hs_code="854231",
            quantity=2598,
            unit="pcs",
            value=150000,
            currency="USD",
            origin_country="DE",
            dispatch_country="KZ",
            destination_country="RU",
        )
    return {"de": de, "kz": kz, "ru": ru, "son": son}


@pytest.fixture
def dataset(db):
    return Dataset.objects.create(name="KZ customs 2021-2023")


@pytest.fixture(autouse=True)
def _forget_shared_words():
    """Search remembers the datasets' words per process; each test's database starts empty."""
    from entities import search

    search._SHARED_WORDS.clear()
