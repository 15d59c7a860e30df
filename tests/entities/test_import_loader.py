"""The import loader: COPY into staging, parties resolved within the dataset, idempotent merge."""

import datetime
import itertools
import time
import uuid
from decimal import Decimal

import psycopg
import pytest
from django.db import IntegrityError, connection, transaction

from entities.importing.loader import (
    BATCH_FOREIGN_KEYS,
    SHIPMENT_TABLES,
    LoadResult,
    _batch_foreign_keys,
    _begin,
    _lock_parties,
    load_companies,
    load_shipments,
    uuid7_hex,
)
from entities.importing.types import CompanyRow, ShipmentRow
from entities.models import Dataset, Entity, EntityName, FlowSummary, Identifier, Shipment
from entities.names import name_forms
from entities.services import Scope, entity_create

KZ_SPELLINGS = ("ТОО «Казах Чип Трейд»", "TOO Kazakh Chip Treyd", "Kazakh Chip Treyd LLP")


def shipment(line, *, exporter="Elektronik Handel Vogt GmbH", importer=KZ_SPELLINGS[0], **kw):
    """A parsed row as the parser gives it: names with their normalized forms and match keys."""
    values = {
        "date": datetime.date(2022, 5, 1),
        "hs_code": "854231",
        "declaration_number": f"10005020/{line:06d}",
        "line_no": "1",
        "exporter_country": "DE",
        "importer_country": "KZ",
        "origin_country": "DE",
        "destination_country": "KZ",
        "description": "Integrated circuits",
        "quantity": Decimal("2598"),
        "unit": "pcs",
        "value": Decimal("120000.00"),
        "currency": "EUR",
        **kw,
    }
    exporter_norm, exporter_keys = name_forms(exporter)
    importer_norm, importer_keys = name_forms(importer)
    values.setdefault("import_key", f"decl:{values['declaration_number']}:{values['line_no']}")
    return ShipmentRow(
        line=line,
        exporter=exporter,
        exporter_norm=exporter_norm,
        exporter_keys=exporter_keys,
        importer=importer,
        importer_norm=importer_norm,
        importer_keys=importer_keys,
        **values,
    )


def company(line, name, **kw):
    norm, keys = name_forms(name)
    return CompanyRow(line=line, name=name, norm=norm, keys=keys, **kw)


def entities_of(dataset):
    return Entity.objects.filter(dataset=dataset)


def test_three_spellings_become_one_entity_with_aliases(dataset):
    rows = [shipment(2 + i, importer=name) for i, name in enumerate(KZ_SPELLINGS * 2)]
    rows.append(shipment(8, importer=KZ_SPELLINGS[2]))  # the most frequent spelling names it

    result = load_shipments(rows, dataset=dataset)

    assert result == LoadResult(
        read=7, imported=7, updated=0, unchanged=0, entities_created=2, duplicates_in_file=0
    )
    kz = Entity.objects.get(dataset=dataset, countries=["KZ"])
    assert kz.name == "Kazakh Chip Treyd LLP"
    assert kz.aliases == ["ТОО «Казах Чип Трейд»", "TOO Kazakh Chip Treyd"]
    assert (kz.schema, kz.source, kz.investigation_id) == ("Company", "import", None)
    assert set(EntityName.objects.filter(entity=kz).values_list("name", "norm", "dataset")) == {
        (name, "kazakh chip treyd", dataset.pk) for name in KZ_SPELLINGS
    }
    assert Shipment.objects.filter(dataset=dataset, importer=kz).count() == 7
    vogt = Entity.objects.get(dataset=dataset, countries=["DE"])
    assert vogt.name == "Elektronik Handel Vogt GmbH"
    assert vogt.aliases == []
    assert not Identifier.objects.filter(entity__dataset=dataset).exists()


def test_a_name_written_in_other_scripts_forms_and_schemes_is_one_party(dataset, alice):
    """The ORDERED key merges what is surely one name; another order or a typo stays apart
    (for the duplicates list), because a false merge in evidence is worse than a duplicate."""
    same = ["ТОО «Дала Микро»", "Dala Mikro LLP", "„Dala Mikro“ ЖШС", "DALA MIKRO TOO"]
    apart = ["Микро Дала", "Dala Mirko LLP"]
    rows = [shipment(2 + i, exporter=name) for i, name in enumerate(same + apart)]

    assert load_shipments(rows, dataset=dataset).entities_created == 4  # with the importer
    dala = Entity.objects.get(dataset=dataset, name="ТОО «Дала Микро»")
    assert dala.aliases == same[1:]
    assert Shipment.objects.filter(exporter=dala).count() == 4
    # Its names and keys were written with it: search finds it by an alias's spelling, and
    # the duplicates list offers the two left apart.
    from entities.search import possible_duplicates, search_entities

    assert search_entities(user=alice, query="Dala Mikro ЖШС")[0].entity == dala
    assert {d.entity.name for d in possible_duplicates(entity=dala)} == set(apart)
    # A second load changes nothing.
    assert load_shipments(rows, dataset=dataset).unchanged == len(rows)


def test_stored_shipment_values(dataset):
    load_shipments(
        [shipment(2, dispatch_country="KZ", quantity=None, value=None, currency="")],
        dataset=dataset,
    )

    row = Shipment.objects.get(dataset=dataset)
    assert (row.date, row.hs_code, row.quantity, row.value, row.currency) == (
        datetime.date(2022, 5, 1),
        "854231",
        None,
        None,
        "",
    )
    assert (row.origin_country, row.destination_country, row.dispatch_country) == (
        "DE",
        "KZ",
        "KZ",
    )
    assert row.import_key == "decl:10005020/000002:1"
    assert row.declaration_number == "10005020/000002"
    assert (row.source, row.ftm_id, row.extra, row.created_by, row.investigation) == (
        "import",
        "",
        {},
        None,
        None,
    )
    assert row.public_id is not None
    assert row.exporter.name == "Elektronik Handel Vogt GmbH"


def test_party_identifier_creates_identifier_and_joins_spellings(dataset):
    rows = [
        shipment(2, importer="ТОО «Аспан Арба»", importer_id="940140000385"),
        shipment(3, importer="Aspan Arba Logistics", importer_id=" 940140000385 "),
    ]

    result = load_shipments(rows, dataset=dataset)

    assert result.entities_created == 2
    aspan = Entity.objects.get(identifiers__value="940140000385")
    assert aspan.dataset == dataset
    assert aspan.name == "ТОО «Аспан Арба»"
    assert aspan.aliases == ["Aspan Arba Logistics"]
    assert list(aspan.identifiers.values_list("scheme", "value")) == [
        ("registration", "940140000385")
    ]


def test_identifier_links_to_existing_entity_even_if_name_differs(dataset):
    existing = entity_create(
        scope=Scope(dataset=dataset),
        name="Kazakh Chips",
        identifiers=[("kz_bin", "940140000385")],
    )

    result = load_shipments(
        [shipment(2, importer="Совсем Другое Имя", importer_id="940140000385")], dataset=dataset
    )

    assert result.entities_created == 1  # the exporter only
    assert Shipment.objects.get(dataset=dataset).importer == existing
    existing.refresh_from_db()
    assert existing.aliases == ["Совсем Другое Имя"]
    assert EntityName.objects.filter(entity=existing, name="Совсем Другое Имя").exists()
    assert list(existing.identifiers.values_list("scheme", "value")) == [("kz_bin", "940140000385")]


def test_existing_entity_reused_by_normalized_name(dataset):
    first = entity_create(scope=Scope(dataset=dataset), name="ТОО «Казах Чип Трейд»")
    second = entity_create(scope=Scope(dataset=dataset), name="Kazakh Chip Treyd")

    result = load_shipments([shipment(2, importer="TOO Kazakh Chip Treyd")], dataset=dataset)

    assert result.entities_created == 1
    assert Shipment.objects.get(dataset=dataset).importer == first  # the lowest id
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.aliases == ["TOO Kazakh Chip Treyd"]
    assert second.aliases == []


def test_identified_party_matches_by_name_only_entities_without_identifiers(dataset):
    other_bin = entity_create(
        scope=Scope(dataset=dataset),
        name="Kazakh Chip Treyd LLP",
        identifiers=[("kz_bin", "111111111111")],
    )
    no_id = entity_create(scope=Scope(dataset=dataset), name="ТОО «Казах Чип Трейд»")

    load_shipments(
        [shipment(2, importer="TOO Kazakh Chip Treyd", importer_id="940140000385")],
        dataset=dataset,
    )

    assert Shipment.objects.get(dataset=dataset).importer == no_id
    assert set(no_id.identifiers.values_list("scheme", "value")) == {
        ("registration", "940140000385")
    }
    assert other_bin.identifiers.count() == 1


def test_other_datasets_and_case_files_are_never_matched(dataset, case):
    other = Dataset.objects.create(name="Sanctions")
    in_other = entity_create(
        scope=Scope(dataset=other), name="Kazakh Chip Treyd", identifiers=[("kz_bin", "1")]
    )
    in_case = entity_create(
        scope=Scope(investigation=case),
        name="ТОО «Казах Чип Трейд»",
        identifiers=[("kz_bin", "2")],
    )

    load_shipments(
        [
            shipment(2, importer="TOO Kazakh Chip Treyd"),
            shipment(3, exporter="Anything", exporter_id="1"),
            shipment(4, exporter="Something", exporter_id="2"),
        ],
        dataset=dataset,
    )

    parties = set(Shipment.objects.filter(dataset=dataset).values_list("exporter", "importer"))
    used = {pk for pair in parties for pk in pair}
    assert not used & {in_other.pk, in_case.pk}
    assert all(Entity.objects.get(pk=pk).dataset_id == dataset.pk for pk in used)
    in_other.refresh_from_db()
    in_case.refresh_from_db()
    assert in_other.aliases == []
    assert in_case.aliases == []
    assert EntityName.objects.filter(entity__in=[in_other, in_case]).count() == 2


def test_second_load_changes_nothing(dataset):
    rows = [shipment(2 + i, importer=name) for i, name in enumerate(KZ_SPELLINGS)]
    rows.append(shipment(9, importer="Sky Mechanics", importer_id="7707083893"))
    first = load_shipments(rows, dataset=dataset)
    before = {
        "entities": list(entities_of(dataset).order_by("pk").values()),
        "names": sorted(EntityName.objects.filter(dataset=dataset).values_list("entity", "name")),
        "identifiers": list(Identifier.objects.values_list("entity", "scheme", "value")),
        "shipments": list(Shipment.objects.filter(dataset=dataset).order_by("pk").values()),
    }

    second = load_shipments(rows, dataset=dataset)

    assert first.imported == 4
    assert second == LoadResult(
        read=4, imported=0, updated=0, unchanged=4, entities_created=0, duplicates_in_file=0
    )
    assert before == {
        "entities": list(entities_of(dataset).order_by("pk").values()),
        "names": sorted(EntityName.objects.filter(dataset=dataset).values_list("entity", "name")),
        "identifiers": list(Identifier.objects.values_list("entity", "scheme", "value")),
        "shipments": list(Shipment.objects.filter(dataset=dataset).order_by("pk").values()),
    }


def test_namesakes_resolve_the_same_way_on_a_second_load(dataset):
    older = entity_create(
        scope=Scope(dataset=dataset), name="Beta Systems", identifiers=[("kz_bin", "B1")]
    )
    rows = [
        shipment(2, importer="Alpha Trade"),  # no entity named so yet: a new one
        # The older entity, by its number, written with that name: it becomes an alias.
        shipment(3, importer="TOO Alpha Trade", importer_id="B1"),
    ]
    load_shipments(rows, dataset=dataset, batch_size=1)
    older.refresh_from_db()
    assert older.aliases == ["TOO Alpha Trade"]
    alpha = Shipment.objects.get(import_key=rows[0].import_key).importer
    assert alpha != older

    again = load_shipments(rows, dataset=dataset, batch_size=1)

    assert (again.unchanged, again.updated) == (2, 0)
    assert Shipment.objects.get(import_key=rows[0].import_key).importer == alpha


def test_changed_value_on_second_load_is_updated(dataset):
    rows = [shipment(2), shipment(3)]
    load_shipments(rows, dataset=dataset)
    untouched = Shipment.objects.get(import_key=rows[0].import_key)

    rows[1].value = Decimal("130000.00")
    result = load_shipments(rows, dataset=dataset)

    assert (result.imported, result.updated, result.unchanged) == (0, 1, 1)
    assert Shipment.objects.get(import_key=rows[1].import_key).value == Decimal("130000.00")
    assert Shipment.objects.get(import_key=rows[0].import_key).updated_at == untouched.updated_at


def test_same_number_written_differently_is_unchanged(dataset):
    load_shipments([shipment(2, value=Decimal("120000"), quantity=Decimal("5.5"))], dataset=dataset)

    again = load_shipments(
        [shipment(2, value=Decimal("120000.000"), quantity=Decimal("5.500"))], dataset=dataset
    )

    assert (again.updated, again.unchanged) == (0, 1)


def test_changed_party_on_second_load_is_updated(dataset):
    load_shipments([shipment(2)], dataset=dataset)

    result = load_shipments([shipment(2, importer="ООО «Скай Механикс»")], dataset=dataset)

    assert (result.updated, result.entities_created) == (1, 1)
    assert Shipment.objects.get(dataset=dataset).importer.name == "ООО «Скай Механикс»"


def test_duplicates_within_the_file_keep_the_first_line(dataset):
    rows = [
        shipment(5, value=Decimal("1.00")),
        shipment(2, value=Decimal("2.00")),
        shipment(2, value=Decimal("3.00")),
        shipment(7, declaration_number="other"),
    ]
    for row in rows[:3]:
        row.import_key = "decl:X:1"

    result = load_shipments(rows, dataset=dataset)

    assert result == LoadResult(
        read=4, imported=2, updated=0, unchanged=0, entities_created=2, duplicates_in_file=2
    )
    assert Shipment.objects.get(import_key="decl:X:1").value == Decimal("2.00")


def test_batches_share_parties_and_find_duplicates_of_earlier_batches(dataset):
    rows = [shipment(2 + i, importer=KZ_SPELLINGS[i % 3]) for i in range(7)]
    repeat = shipment(20, value=Decimal("1.00"))
    repeat.import_key = rows[0].import_key
    seen = []

    result = load_shipments([*rows, repeat], dataset=dataset, batch_size=2, on_progress=seen.append)

    assert seen == [2, 4, 6, 8]
    assert result == LoadResult(
        read=8, imported=7, updated=0, unchanged=0, entities_created=2, duplicates_in_file=1
    )
    kz = Entity.objects.get(dataset=dataset, countries=["KZ"])
    assert (kz.name, kz.aliases) == (KZ_SPELLINGS[0], list(KZ_SPELLINGS[1:]))
    assert Shipment.objects.filter(importer=kz).count() == 7
    assert Shipment.objects.get(import_key=rows[0].import_key).value == Decimal("120000.00")

    again = load_shipments([*rows, repeat], dataset=dataset, batch_size=3)
    assert (again.unchanged, again.duplicates_in_file, again.entities_created) == (7, 1, 0)


def test_rows_without_key_or_norm_are_completed(dataset):
    row = shipment(2, import_key="")
    row.importer_norm, row.importer_keys = "", "{}"

    assert load_shipments([row], dataset=dataset).imported == 1
    assert load_shipments([row], dataset=dataset).unchanged == 1
    stored = Shipment.objects.get(dataset=dataset)
    assert stored.import_key.startswith("sha:")
    assert EntityName.objects.get(entity=stored.importer).norm == "kazakh chip treyd"


def test_party_without_a_name_or_any_party(dataset):
    result = load_shipments(
        [shipment(2, exporter="", importer="", importer_id="940140000385")], dataset=dataset
    )

    assert result.entities_created == 1
    row = Shipment.objects.get(dataset=dataset)
    assert row.exporter is None
    assert row.importer.name == "940140000385"


def test_load_is_atomic(dataset):
    entity_count = Entity.objects.count()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        load_shipments([shipment(2), shipment(3)], dataset=dataset)
        assert Shipment.objects.filter(dataset=dataset).count() == 2
        raise Boom

    assert not Shipment.objects.filter(dataset=dataset).exists()
    assert Entity.objects.count() == entity_count
    assert not EntityName.objects.filter(dataset=dataset).exists()


def test_failing_row_leaves_nothing(dataset):
    with pytest.raises(Exception, match="shipment_hs_code_digits"):
        load_shipments([shipment(2), shipment(3, hs_code="85A2")], dataset=dataset)

    assert not Shipment.objects.filter(dataset=dataset).exists()
    assert not entities_of(dataset).exists()


def test_progress_is_reported_per_batch_and_may_query(dataset):
    seen = []

    def on_progress(rows):  # between COPY and merge the connection is free
        seen.append((rows, Dataset.objects.filter(pk=dataset.pk).exists()))

    result = load_shipments(
        (shipment(2 + i) for i in range(7)), dataset=dataset, on_progress=on_progress, batch_size=3
    )

    assert seen == [(3, True), (6, True), (7, True)]
    assert result.read == result.imported == 7


def test_parser_failing_midway_leaves_nothing(dataset):
    def rows():
        yield from (shipment(2 + i) for i in range(5))
        raise ValueError("unreadable line 7")

    with pytest.raises(ValueError, match="line 7"):
        load_shipments(rows(), dataset=dataset, batch_size=2)

    assert not Shipment.objects.filter(dataset=dataset).exists()
    assert not entities_of(dataset).exists()
    # The connection is usable again, and a second attempt loads the file.
    assert load_shipments([shipment(2)], dataset=dataset).imported == 1


def test_empty_input(dataset):
    assert load_shipments([], dataset=dataset) == LoadResult(0, 0, 0, 0, 0, 0)
    assert load_companies([], dataset=dataset) == LoadResult(0, 0, 0, 0, 0, 0)


def test_companies_create_and_upsert(dataset):
    rows = [
        company(
            2,
            "ТОО «Аспан Арба»",
            country="KZ",
            registration_number="940140000385",
            scheme="kz_bin",
            incorporation_date="2022-04-12",
            address="Almaty, Abay 10",
        ),
        company(3, "Aspan Arba LLP", registration_number="940140000385", scheme="kz_bin"),
        company(4, "ООО «Скай Механикс»", country="RU"),
    ]

    first = load_companies(rows, dataset=dataset)

    assert first == LoadResult(
        read=3, imported=2, updated=0, unchanged=0, entities_created=2, duplicates_in_file=1
    )
    aspan = Entity.objects.get(dataset=dataset, identifiers__value="940140000385")
    assert (aspan.name, aspan.aliases, aspan.countries) == (
        "ТОО «Аспан Арба»",
        ["Aspan Arba LLP"],
        ["KZ"],
    )
    assert (aspan.start_date, aspan.addresses) == ("2022-04-12", ["Almaty, Abay 10"])
    assert list(aspan.identifiers.values_list("scheme", "value")) == [("kz_bin", "940140000385")]
    assert EntityName.objects.filter(entity=aspan).count() == 2

    again = load_companies(rows, dataset=dataset)
    assert again == LoadResult(
        read=3, imported=0, updated=0, unchanged=2, entities_created=0, duplicates_in_file=1
    )

    rows[0].address = "Astana, Kabanbay Batyr 2"
    rows[2].incorporation_date = "2021"
    changed = load_companies(rows, dataset=dataset)
    assert (changed.imported, changed.updated, changed.unchanged) == (0, 2, 0)
    aspan.refresh_from_db()
    assert aspan.addresses == ["Almaty, Abay 10", "Astana, Kabanbay Batyr 2"]
    assert Entity.objects.get(dataset=dataset, name="ООО «Скай Механикс»").start_date == "2021"
    assert entities_of(dataset).count() == 2


def test_companies_enrich_parties_of_a_shipment_import(dataset):
    load_shipments(
        [shipment(2, importer="TOO Kazakh Chip Treyd", importer_id="BIN1")], dataset=dataset
    )
    importer = Shipment.objects.get(dataset=dataset).importer

    result = load_companies(
        [
            company(
                2,
                "ТОО «Казах Чип Трейд»",
                country="KZ",
                registration_number="BIN1",
                scheme="kz_bin",
                incorporation_date="2022-04",
            ),
            company(3, "Elektronik Handel Vogt GmbH", country="DE", address="Berlin"),
        ],
        dataset=dataset,
    )

    assert (result.imported, result.updated, result.entities_created) == (0, 2, 0)
    importer.refresh_from_db()
    assert list(importer.identifiers.values_list("scheme", "value")) == [("kz_bin", "BIN1")]
    assert importer.start_date == "2022-04"
    assert importer.countries == ["KZ"]
    assert importer.aliases == ["ТОО «Казах Чип Трейд»"]
    vogt = Entity.objects.get(dataset=dataset, name="Elektronik Handel Vogt GmbH")
    assert (vogt.countries, vogt.addresses) == (["DE"], ["Berlin"])


def test_companies_in_several_batches(dataset):
    rows = [
        company(2 + i, f"Company {chr(65 + i)} LLP", registration_number=f"BIN{i}")
        for i in range(5)
    ]
    rows.append(company(9, "Company A Limited", registration_number="BIN0", country="KZ"))

    result = load_companies(rows, dataset=dataset, batch_size=2)

    assert result == LoadResult(
        read=6, imported=5, updated=0, unchanged=0, entities_created=5, duplicates_in_file=1
    )
    first = Entity.objects.get(dataset=dataset, identifiers__value="BIN0")
    assert (first.name, first.aliases, first.countries) == (
        "Company A LLP",
        ["Company A Limited"],
        [],
    )


def test_companies_never_touch_other_scopes(dataset, case):
    other = Dataset.objects.create(name="Sanctions")
    in_other = entity_create(scope=Scope(dataset=other), name="Aspan Arba LLP")
    in_case = entity_create(
        scope=Scope(investigation=case), name="Aspan Arba", identifiers=[("kz_bin", "9401")]
    )

    result = load_companies(
        [company(2, "ТОО «Аспан Арба»", registration_number="9401", country="KZ")],
        dataset=dataset,
    )

    assert result.entities_created == 1
    in_other.refresh_from_db()
    in_case.refresh_from_db()
    assert (in_other.countries, in_case.countries) == ([], [])
    assert entities_of(dataset).get().identifiers.get().value == "9401"


@pytest.mark.parametrize("per_batch", [True, False], ids=["per-batch", "per-row"])
def test_flow_summary_follows_imports_in_several_batches(dataset, settings, per_batch):
    """Per batch, the loader sums what it inserts itself; per row, the INSERT trigger does."""
    from entities.analysis.flows import flow_table

    settings.IMPORT_BATCH_FOREIGN_KEYS = per_batch
    rows = [
        shipment(n, date=datetime.date(2021 + n % 2, 5, 1), hs_code=("854231", "880622")[n % 2])
        for n in range(2, 12)
    ]
    load_shipments(rows, dataset=dataset, batch_size=3)
    table = flow_table(dataset=dataset, level="heading")
    assert table == flow_table(dataset=dataset, level="heading", from_summary=False)
    assert table.totals == {2021: Decimal("600000.00"), 2022: Decimal("600000.00")}

    rows[0].value = Decimal("1.00")  # 2021, 8542: one value changed on a re-import
    rows[1].value = None  # 2022, 8806: one value unknown now
    rows.append(shipment(12, hs_code="850440", date=datetime.date(2023, 1, 9), quantity=None))
    rows.append(shipment(13, hs_code="850440", date=datetime.date(2023, 1, 9), value=None))
    result = load_shipments(rows, dataset=dataset, batch_size=3)
    assert (result.updated, result.imported) == (2, 2)
    for level in ("chapter", "heading"):
        for by in ("origin", "destination"):
            table = flow_table(dataset=dataset, level=level, by=by)
            assert table == flow_table(dataset=dataset, level=level, by=by, from_summary=False)
    assert table.totals == {
        2021: Decimal("480001.00"),
        2022: Decimal("480000.00"),
        2023: Decimal("120000.00"),
    }
    assert FlowSummary.objects.filter(dataset=dataset).count() == 3


def test_uuid7_hex():
    ids = list(itertools.islice(uuid7_hex(), 3000))  # more than one draw of random bytes
    parsed = [uuid.UUID(hex=h) for h in ids]
    assert all(len(h) == 32 for h in ids)
    assert {(u.version, u.variant) for u in parsed} == {(7, uuid.RFC_4122)}
    assert len(set(ids)) == 3000
    assert ids == sorted(ids, key=lambda h: h[:12])  # time-ordered (by millisecond)
    now_ms = time.time_ns() // 1_000_000
    assert now_ms - 5000 < int(ids[0][:12], 16) <= now_ms
    # The random bits are random: every hex digit turns up in every random position.
    for position in [*range(13, 16), *range(17, 32)]:
        assert len({h[position] for h in ids}) == 16, position


def test_imported_shipments_get_time_ordered_version_7_ids(dataset):
    load_shipments([shipment(n) for n in range(2, 6)], dataset=dataset, batch_size=2)

    ids = list(Shipment.objects.filter(dataset=dataset).order_by("id").values_list("public_id"))
    assert {u.version for (u,) in ids} == {7}
    assert [u.hex[:12] for (u,) in ids] == sorted(u.hex[:12] for (u,) in ids)


# --- Foreign keys checked per batch ------------------------------------------------------

ROW_TRIGGER_SQL = """
CREATE TABLE test_rows_seen (id bigint);
CREATE FUNCTION test_row_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO test_rows_seen VALUES (NEW.id); RETURN NULL; END $$;
CREATE TRIGGER test_row_seen AFTER INSERT ON entities_shipment
    FOR EACH ROW EXECUTE FUNCTION test_row_seen();
"""


@pytest.mark.parametrize("per_batch", [True, False], ids=["per-batch", "per-row"])
def test_row_triggers_are_off_for_the_shipment_insert_only(dataset, settings, per_batch):
    """A row trigger like PostgreSQL's foreign-key checks: skipped by the loader's INSERT when
    checks run per batch, and back on for whatever the caller writes next."""
    settings.IMPORT_BATCH_FOREIGN_KEYS = per_batch
    with connection.cursor() as cursor:
        cursor.execute(ROW_TRIGGER_SQL)  # rolled back with the test

        result = load_shipments([shipment(2), shipment(3)], dataset=dataset, batch_size=1)

        assert result.imported == 2
        cursor.execute("SELECT count(*) FROM test_rows_seen")
        assert cursor.fetchone()[0] == (0 if per_batch else 2)
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"
        Shipment.objects.create(dataset=dataset, date=datetime.date(2022, 1, 1), hs_code="8542")
        cursor.execute("SELECT count(*) FROM test_rows_seen")
        assert cursor.fetchone()[0] == (1 if per_batch else 3)
    # The flow summary's triggers fire in both modes.
    summary = FlowSummary.objects.filter(dataset=dataset)
    assert sum(summary.values_list("shipments", flat=True)) == 3


def test_per_batch_checks_need_the_setting_and_the_privilege(dataset, settings):
    role = f"casefile_test_{uuid.uuid4().hex[:12]}"
    with connection.cursor() as cursor:
        assert _batch_foreign_keys(cursor)  # the tests' role is a superuser
        settings.IMPORT_BATCH_FOREIGN_KEYS = False
        assert not _batch_foreign_keys(cursor)
        settings.IMPORT_BATCH_FOREIGN_KEYS = True
        # A role that may not set session_replication_role: PostgreSQL checks every row.
        cursor.execute(f"CREATE ROLE {role}")  # rolled back with the test
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(BATCH_FOREIGN_KEYS)
        assert cursor.fetchone() == (False,)
        cursor.execute("RESET ROLE")
        cursor.execute(f"GRANT SET ON PARAMETER session_replication_role TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
        cursor.execute(BATCH_FOREIGN_KEYS)
        assert cursor.fetchone() == (True,)
        cursor.execute("RESET ROLE")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("per_batch", [True, False], ids=["per-batch", "per-row"])
def test_an_entity_the_import_links_to_cannot_be_deleted_while_it_runs(settings, per_batch):
    settings.IMPORT_BATCH_FOREIGN_KEYS = per_batch
    dataset = Dataset.objects.create(name="KZ customs")
    vogt = entity_create(scope=Scope(dataset=dataset), name="Elektronik Handel Vogt GmbH")
    db = connection.settings_dict
    attempts = []

    def rows():
        yield from (shipment(2), shipment(3))  # batch 1: resolves the exporter to vogt
        yield from (shipment(4), shipment(5))  # batch 2: copied once batch 1 has merged
        # Batch 1 is merged now. Another session deletes vogt (its names first, which nothing
        # locks): it must wait for the import, here until its lock timeout.
        with psycopg.connect(
            dbname=db["NAME"], host=db["HOST"], port=db["PORT"], user=db["USER"]
        ) as other:
            other.execute("SET lock_timeout = '300ms'")
            other.execute("DELETE FROM entities_entityname WHERE entity_id = %s", [vogt.pk])
            try:
                other.execute("DELETE FROM entities_entity WHERE id = %s", [vogt.pk])
                other.commit()
                attempts.append("deleted")
            except psycopg.errors.LockNotAvailable:
                other.rollback()
                attempts.append("waited")
        yield shipment(6)

    result = load_shipments(rows(), dataset=dataset, batch_size=2)

    assert attempts == ["waited"]
    assert result.imported == 5
    assert Shipment.objects.filter(dataset=dataset, exporter=vogt).count() == 5


def test_an_entity_deleted_since_it_was_resolved_fails_the_load(dataset):
    kept = entity_create(scope=Scope(dataset=dataset), name="Elektronik Handel Vogt GmbH")
    with transaction.atomic(), connection.cursor() as cursor:
        _begin(cursor, dataset, SHIPMENT_TABLES)
        cursor.execute(
            "INSERT INTO pg_temp.import_new (pkey, ident, scheme, name, norm, keys,"
            " first_line, entity_id) VALUES ('n:a', '', '', 'a', 'a', '{}', 2, %s),"
            " ('n:b', '', '', 'b', 'b', '{}', 3, %s)",
            [kept.pk, kept.pk + 1000],  # the second entity is gone
        )
        with pytest.raises(IntegrityError, match=r"1 of the entities .* were deleted"):
            _lock_parties(cursor)


def test_the_loader_accounts_for_every_foreign_key_and_trigger_of_shipments(db):
    """The merge runs with row triggers off. A foreign key or trigger added to entities_shipment
    must be handled by the loader as well (LOCK_DATASET and LOCK_PARTIES for the keys it sets,
    SUM_FLOWS for the flow summary), and then listed here."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname FROM pg_constraint AS c"
            " JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
            " WHERE c.conrelid = 'entities_shipment'::regclass AND c.contype = 'f'"
            " ORDER BY a.attname"
        )
        assert [name for (name,) in cursor.fetchall()] == [
            "created_by_id",  # NULL in imported rows
            "dataset_id",
            "exporter_id",
            "importer_id",
            "investigation_id",  # NULL in imported rows
        ]
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger"
            " WHERE tgrelid = 'entities_shipment'::regclass AND NOT tgisinternal ORDER BY tgname"
        )
        assert cursor.fetchall() == [
            ("shipment_flows_delete", "O"),
            ("shipment_flows_insert", "O"),  # the loader sums what it inserts itself
            ("shipment_flows_update", "A"),  # fires for the loader's updates too
        ]
