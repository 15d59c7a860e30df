"""FollowTheMoney export and import: valid lines, a lossless round trip, sanctions-list input."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from followthemoney import model

from entities.ftm import (
    export_case_lines,
    export_dataset_lines,
    import_lines,
    validate_export,
    validate_line,
)
from entities.models import (
    Dataset,
    Entity,
    EntityName,
    Identifier,
    Link,
    LinkKind,
    Schema,
    Shipment,
)
from entities.services import Scope, entity_create, link_create, pin_entity, shipment_create
from tests.factories import make_case


def _by_schema(lines):
    found = {}
    for line in lines:
        data = json.loads(line)
        found.setdefault(data["schema"], []).append(data)
    return found


def _id(entity):
    return entity.ftm_id or f"casefile-{entity.public_id}"


def _comparable(lines):
    return {
        (
            d["id"],
            d["schema"],
            tuple(sorted((p, tuple(sorted(v))) for p, v in d["properties"].items())),
        )
        for d in map(json.loads, lines)
    }


@pytest.fixture
def sanctions(db):
    return Dataset.objects.create(name="OpenSanctions (test)")


@pytest.fixture
def story(case, alice, sanctions):
    """Vogt GmbH (owned by the father) ships chips to Aspan Arba (owned by the son) -> Russia."""
    scope = Scope(investigation=case)
    de = entity_create(
        scope=scope,
        name="Elektronik Handel Vogt GmbH",
        countries=["DE"],
        identifiers=[("de_vat", "DE136695976"), ("de_register", "Aachen HRB 44123")],
        source="https://www.handelsregister.de/",
        created_by=alice,
    )
    kz = entity_create(
        scope=scope,
        name="ТОО «Аспан Арба»",
        aliases=["Aspan Arba LLP", "TOO Aspan Arba"],
        countries=["KZ"],
        start_date="2022-04",
        addresses=["Almaty, Abay Ave 10"],
        notes="Registered six weeks after the invasion.",
        identifiers=[("kz_bin", "940140000385"), ("ru_inn", "7707083893")],
        source="stat.gov.kz registry extract",
        created_by=alice,
    )
    ru = entity_create(
        scope=scope,
        name="ООО «Скай Механикс»",
        countries=["RU"],
        identifiers=[("ru_ogrn", "1027700132195"), ("ru_kpp", "773601001")],
        created_by=alice,
    )
    father = entity_create(
        scope=scope,
        name="Klaus Vogt",
        schema=Schema.PERSON,
        nationality=["DE"],
        start_date="1961-03-02",
        created_by=alice,
    )
    son = entity_create(
        scope=scope,
        name="Timur Vogt",
        schema=Schema.PERSON,
        nationality=["DE"],
        countries=["KZ"],
        start_date="1994",
        identifiers=[("kz_iin", "940101300123")],
        created_by=alice,
    )
    listed = entity_create(
        scope=Scope(dataset=sanctions),
        name="JSC Mikron",
        countries=["RU"],
        ftm_id="NK-mikron",
        identifiers=[("ru_inn", "7735007358")],
        extra={"topics": ["sanction"], "program": ["EU-RUS"]},
    )
    link_create(
        scope=scope,
        kind=LinkKind.OWNERSHIP,
        source=son,
        target=kz,
        percentage=Decimal("100"),
        start_date="2022-04",
        summary="Sole founder.",
    )
    link_create(
        scope=scope,
        kind=LinkKind.OWNERSHIP,
        source=father,
        target=de,
        percentage=Decimal("50.5"),
        shares=Decimal("12625"),
    )
    link_create(scope=scope, kind=LinkKind.FAMILY, source=father, target=son, role="son")
    link_create(
        scope=scope,
        kind=LinkKind.DIRECTORSHIP,
        source=son,
        target=kz,
        role="director",
        start_date="2022-04-18",
    )
    link_create(
        scope=scope, kind=LinkKind.EMPLOYMENT, source=father, target=de, role="managing director"
    )
    link_create(
        scope=scope,
        kind=LinkKind.UNKNOWN,
        source=ru,
        target=listed,
        role="supplier",
        provenance="https://example.org/leak",
    )
    first = shipment_create(
        scope=scope,
        date=datetime.date(2022, 5, 15),
        exporter=de,
        importer=kz,
        hs_code="854231",
        description="Microcircuits, processors",
        quantity=Decimal("2598"),
        unit="pcs",
        value=Decimal("120000.50"),
        currency="EUR",
        origin_country="US",
        destination_country="KZ",
        dispatch_country="DE",
        declaration_number="50106/150522/0012345",
    )
    second = shipment_create(
        scope=scope,
        date=datetime.date(2022, 6, 1),
        exporter=kz,
        importer=ru,
        hs_code="8806",
        quantity=Decimal("12.5"),
        unit="kg",
        value=Decimal("150000"),
        currency="USD",
        origin_country="CN",
        destination_country="RU",
    )
    return {"de": de, "kz": kz, "ru": ru, "father": father, "son": son, "listed": listed,
            "shipments": [first, second]}  # fmt: skip


# --- export -----------------------------------------------------------------------------------


def test_every_exported_line_validates_with_followthemoney(story, case):
    lines = list(export_case_lines(case))

    assert lines
    for line in lines:
        assert "\n" not in line
        assert validate_line(line) == [], line
        data = json.loads(line)
        proxy = model.get_proxy(data)
        assert proxy.id == data["id"]
        assert model.get_proxy(data, cleaned=False).to_dict()["properties"] == data["properties"]
    assert validate_export(lines) == []  # ids unique, every reference resolves and fits
    counts = {schema: len(rows) for schema, rows in _by_schema(lines).items()}
    assert counts == {"Company": 4, "Person": 2, "Ownership": 2, "Family": 1, "Directorship": 1,
                      "Employment": 1, "UnknownLink": 1, "EconomicActivity": 2}  # fmt: skip


def test_entities_carry_names_countries_dates_and_identifiers(story, case):
    found = _by_schema(export_case_lines(case))
    companies = {c["id"]: c["properties"] for c in found["Company"]}
    people = {p["id"]: p["properties"] for p in found["Person"]}

    kz = companies[_id(story["kz"])]
    assert kz["name"] == ["ТОО «Аспан Арба»"]
    assert kz["alias"] == ["Aspan Arba LLP", "TOO Aspan Arba"]
    assert kz["country"] == ["kz"]
    assert kz["incorporationDate"] == ["2022-04"]
    assert kz["innCode"] == ["7707083893"]
    assert kz["registrationNumber"] == ["940140000385"]
    assert kz["address"] == ["Almaty, Abay Ave 10"]
    assert kz["publisher"] == ["stat.gov.kz registry extract"]
    de = companies[_id(story["de"])]
    assert de["vatCode"] == ["DE136695976"]
    assert de["registrationNumber"] == ["Aachen HRB 44123"]
    assert de["sourceUrl"] == ["https://www.handelsregister.de/"]
    ru = companies[_id(story["ru"])]
    assert (ru["ogrnCode"], ru["kppCode"]) == (["1027700132195"], ["773601001"])
    # The pinned dataset entity keeps its FtM id and its extra properties.
    listed = companies["NK-mikron"]
    assert listed["topics"] == ["sanction"]
    assert listed["program"] == ["EU-RUS"]

    son = people[_id(story["son"])]
    assert son["nationality"] == ["de"]
    assert son["country"] == ["kz"]
    assert son["birthDate"] == ["1994"]
    assert son["idNumber"] == ["940101300123"]
    assert people[_id(story["father"])]["birthDate"] == ["1961-03-02"]


def test_links_become_ftm_intervals(story, case):
    found = _by_schema(export_case_lines(case))
    son, father, kz, de = (_id(story[k]) for k in ("son", "father", "kz", "de"))

    ownership = {o["properties"]["asset"][0]: o["properties"] for o in found["Ownership"]}
    assert ownership[kz]["owner"] == [son]
    assert ownership[kz]["percentage"] == ["100"]
    assert ownership[kz]["startDate"] == ["2022-04"]
    assert ownership[kz]["summary"] == ["Sole founder."]
    assert ownership[de]["percentage"] == ["50.5"]
    assert ownership[de]["sharesCount"] == ["12625"]
    family = found["Family"][0]["properties"]
    assert (family["person"], family["relative"], family["relationship"]) == (
        [father],
        [son],
        ["son"],
    )
    directorship = found["Directorship"][0]["properties"]
    assert (directorship["director"], directorship["organization"]) == ([son], [kz])
    assert directorship["role"] == ["director"]
    assert directorship["startDate"] == ["2022-04-18"]
    employment = found["Employment"][0]["properties"]
    assert (employment["employee"], employment["employer"]) == ([father], [de])
    other = found["UnknownLink"][0]["properties"]
    assert other["object"] == ["NK-mikron"]
    assert other["sourceUrl"] == ["https://example.org/leak"]


def test_shipments_become_economic_activities(story, case):
    found = _by_schema(export_case_lines(case))
    first = next(a["properties"] for a in found["EconomicActivity"]
                 if a["properties"]["vedCode"] == ["854231"])  # fmt: skip

    for prop in ("ccdNumber", "vedCode", "sender", "receiver", "customsAmount", "originCountry",
                 "destinationCountry", "date"):  # fmt: skip
        assert first.get(prop), prop
    assert first["ccdNumber"] == ["50106/150522/0012345"]
    assert first["sender"] == [_id(story["de"])]
    assert first["receiver"] == [_id(story["kz"])]
    assert first["customsAmount"] == ["120000.5"]
    assert first["originCountry"] == ["us"]
    assert first["destinationCountry"] == ["kz"]
    assert first["departureCountry"] == ["de"]
    assert first["date"] == ["2022-05-15"]
    assert first["goodsDescription"] == ["Microcircuits, processors — 2,598 pcs"]
    assert first["summary"] == ["quantity=2598; unit=pcs; currency=EUR"]
    second = next(a["properties"] for a in found["EconomicActivity"]
                  if a["properties"]["vedCode"] == ["8806"])  # fmt: skip
    assert second["goodsDescription"] == ["12.5 kg"]
    assert second["summary"] == ["quantity=12.5; unit=kg; currency=USD"]


def test_entity_schemata_follow_ftm_ranges_of_their_links(case):
    scope = Scope(investigation=case)
    association = entity_create(scope=scope, name="Almaty Tech Association",
                                schema=Schema.ORGANIZATION)  # fmt: skip
    trust = entity_create(scope=scope, name="Vogt Family Trust", schema=Schema.LEGAL_ENTITY)
    holder = entity_create(scope=scope, name="Aigerim Sadykova", schema=Schema.PERSON)
    nominee = entity_create(scope=scope, name="Erlan Nurlanov", schema=Schema.PERSON)
    # An organisation owned as an asset is exported as a Company; a legal entity that directs
    # nothing but is directed is an Organization; a person "owned" cannot be fitted.
    link_create(
        scope=scope,
        kind=LinkKind.OWNERSHIP,
        source=holder,
        target=association,
        percentage=Decimal("25"),
    )
    link_create(scope=scope, kind=LinkKind.DIRECTORSHIP, source=holder, target=trust)
    link_create(
        scope=scope,
        kind=LinkKind.OWNERSHIP,
        source=holder,
        target=nominee,
        percentage=Decimal("100"),
        role="nominee",
    )

    lines = list(export_case_lines(case))
    found = {d["id"]: d for d in map(json.loads, lines)}

    assert validate_export(lines) == []
    assert found[_id(association)]["schema"] == "Company"
    assert found[_id(trust)]["schema"] == "Organization"
    assert found[_id(nominee)]["schema"] == "Person"
    unknown = [d for d in found.values() if d["schema"] == "UnknownLink"]
    assert len(unknown) == 1
    assert unknown[0]["properties"]["role"] == ["nominee"]
    assert unknown[0]["properties"]["description"] == ["Ownership, 100%"]
    copy = Dataset.objects.create(name="Fitted")
    assert import_lines(lines, dataset=copy).errors == []
    assert sorted(export_dataset_lines(copy)) == sorted(lines)


def test_validate_line_reports_what_ftm_rejects():
    assert validate_line("{not json") and validate_line("{not json")[0].startswith("not JSON")
    assert validate_line(json.dumps({"id": "x", "schema": "Spaceship"})) == [
        "unknown schema 'Spaceship'"
    ]
    bad = {"id": "x-1", "schema": "Company",
           "properties": {"name": ["A"], "country": ["KZ"], "incorporationDate": ["2022-13"],
                          "birthDate": ["1990"]}}  # fmt: skip
    errors = validate_line(json.dumps(bad))
    assert any(e.startswith("incorporationDate") for e in errors)
    assert any("no property 'birthDate'" in e for e in errors)
    assert any(e.startswith("country: not in canonical form") for e in errors)
    assert validate_line(json.dumps({"id": "o-1", "schema": "Ownership", "properties": {}})) == [
        "owner: required",
        "asset: required",
    ]


def test_export_command_by_slug_and_by_public_id(story, case):
    by_slug, by_id = io.StringIO(), io.StringIO()
    call_command("export_ftm", case.slug, stdout=by_slug)
    call_command("export_ftm", str(case.public_id), stdout=by_id)

    lines = by_slug.getvalue().splitlines()
    assert lines == list(export_case_lines(case))
    assert by_id.getvalue() == by_slug.getvalue()
    with pytest.raises(CommandError, match="No case file"):
        call_command("export_ftm", "no-such-case", stdout=io.StringIO())
    with pytest.raises(CommandError, match="No case file"):
        call_command("export_ftm", "2a4c3f1e-0000-4000-8000-000000000000", stdout=io.StringIO())
    with pytest.raises(CommandError, match="either"):
        call_command("export_ftm", stdout=io.StringIO())


def test_export_command_exports_a_dataset(story, sanctions):
    out = io.StringIO()
    call_command("export_ftm", "--dataset", sanctions.name, stdout=out)

    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == ["NK-mikron"]
    with pytest.raises(CommandError, match="No dataset"):
        call_command("export_ftm", "--dataset", "nope", stdout=io.StringIO())


def test_export_does_not_leak_other_case_files(story, case, charlie):
    secret = make_case(owner=charlie, title="Charlie's")
    entity_create(scope=Scope(investigation=secret), name="Secret Holding")
    pin_entity(investigation=secret, entity=story["listed"])

    assert "Secret Holding" not in "\n".join(export_case_lines(case))
    assert [json.loads(line)["schema"] for line in export_case_lines(secret)] == [
        "Company",
        "Company",
    ]


def test_export_query_count_does_not_grow_with_rows(alice, sanctions):
    def build(count):
        scope = Scope(investigation=make_case(owner=alice, title=f"Case of {count}"))
        for i in range(count):
            company = entity_create(scope=scope, name=f"Company {i}",
                                    identifiers=[("registration", f"R-{count}-{i}")])  # fmt: skip
            person = entity_create(scope=scope, name=f"Person {i}", schema=Schema.PERSON)
            listed = entity_create(scope=Scope(dataset=sanctions), name=f"Listed {count}-{i}",
                                   identifiers=[("ru_inn", f"77{count:04}{i:04}")])  # fmt: skip
            link_create(scope=scope, kind=LinkKind.OWNERSHIP, source=person, target=company)
            link_create(scope=scope, kind=LinkKind.UNKNOWN, source=company, target=listed)
            shipment_create(scope=scope, date=datetime.date(2022, 1, 1), exporter=company,
                            importer=listed, hs_code="8542")  # fmt: skip
        return scope.investigation

    def queries(lines):
        with CaptureQueriesContext(connection) as ctx:
            count = len(list(lines))
        return len(ctx.captured_queries), count

    small, large = build(3), build(30)
    # 1 entities of the case and pinned ones (with EXISTS flags for FtM ranges), 1 identifiers
    # of that chunk, 1 links with both ends and their flags, 1 shipments with both parties;
    # the evidence hook: 1 documents, 1 snapshots, 1 citations with their evidence.
    assert queries(export_case_lines(small)) == (7, 3 * 6)
    assert queries(export_case_lines(large)) == (7, 30 * 6)
    assert queries(export_dataset_lines(sanctions)) == (4, 33)


# --- round trip -------------------------------------------------------------------------------


def test_round_trip_case_to_dataset_gives_the_same_entities(story, case):
    first = list(export_case_lines(case))
    copy = Dataset.objects.create(name="Round trip")

    result = import_lines(first, dataset=copy)
    again = list(export_dataset_lines(copy))

    assert result.errors == []
    assert (result.created, result.updated, result.unchanged, result.skipped) == (
        len(first),
        0,
        0,
        0,
    )
    assert _comparable(again) == _comparable(first)
    assert sorted(again) == sorted(first)  # byte for byte, line for line
    shipment = Shipment.objects.get(dataset=copy, hs_code="854231")
    assert (shipment.quantity, shipment.unit, shipment.value, shipment.currency) == (
        Decimal("2598"),
        "pcs",
        Decimal("120000.50"),
        "EUR",
    )
    assert shipment.description == "Microcircuits, processors"
    kz = Entity.objects.get(dataset=copy, ftm_id=_id(story["kz"]))
    assert sorted(kz.identifiers.values_list("scheme", "value")) == [
        ("registration", "940140000385"),
        ("ru_inn", "7707083893"),
    ]
    son = Entity.objects.get(dataset=copy, ftm_id=_id(story["son"]))
    # 12 digits on an entity with a Kazakh country: an IIN again.
    assert list(son.identifiers.values_list("scheme", "value")) == [("kz_iin", "940101300123")]
    assert set(EntityName.objects.filter(entity=kz).values_list("name", flat=True)) == {
        "ТОО «Аспан Арба»",
        "Aspan Arba LLP",
        "TOO Aspan Arba",
    }
    assert Link.objects.get(dataset=copy, kind=LinkKind.FAMILY).role == "son"


def test_second_import_of_the_same_lines_changes_nothing(story, case):
    lines = list(export_case_lines(case))
    copy = Dataset.objects.create(name="Twice")
    import_lines(lines, dataset=copy)
    before = Entity.objects.filter(dataset=copy).values_list("pk", "updated_at")

    again = import_lines(lines, dataset=copy)

    assert (again.created, again.updated, again.unchanged) == (0, 0, len(lines))
    assert again.errors == []
    assert list(Entity.objects.filter(dataset=copy).values_list("pk", "updated_at")) == list(before)


def test_reimport_updates_what_changed(sanctions):
    line = {"id": "co-1", "schema": "Company",
            "properties": {"name": ["Old Name LLC"], "innCode": ["7707083893"]}}  # fmt: skip
    import_lines([json.dumps(line)], dataset=sanctions)
    line["properties"].update(name=["New Name LLC"], ogrnCode=["1027700132195"])

    result = import_lines([json.dumps(line)], dataset=sanctions)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    entity = Entity.objects.get(dataset=sanctions, ftm_id="co-1")
    assert entity.name == "New Name LLC"
    assert sorted(entity.identifiers.values_list("scheme", flat=True)) == ["ru_inn", "ru_ogrn"]
    assert list(EntityName.objects.filter(entity=entity).values_list("name", flat=True)) == [
        "New Name LLC"
    ]


# --- import of outside data -------------------------------------------------------------------

OPENSANCTIONS_SAMPLE = [
    # 1: an ownership before both of its ends.
    {"id": "ofac-own-1", "schema": "Ownership",
     "properties": {"owner": ["Q-petrov"], "asset": ["ru-inn-7736050003"],
                    "percentage": ["51"], "startDate": ["2014-02-27T00:00:00"]},
     "datasets": ["us_ofac_sdn"]},
    {"id": "Q-petrov", "schema": "Person", "caption": "Ivan Petrovich Petrov",
     "properties": {"name": ["Ivan Petrovich Petrov", "PETROV, Ivan"],
                    "alias": ["Иван Петрович Петров", "Ivan Petrov"],
                    "birthDate": ["1965-07-14", "1965"], "nationality": ["ru"],
                    "gender": ["male"], "topics": ["sanction", "role.oligarch"],
                    "sourceUrl": ["https://sanctionssearch.ofac.treas.gov/Details.aspx?id=1"]},
     "datasets": ["us_ofac_sdn"], "first_seen": "2022-03-11T12:00:00", "target": True},
    {"id": "ru-inn-7736050003", "schema": "Company",
     "properties": {"name": ["ПАО «Газпром»"], "alias": ["Gazprom PJSC"],
                    "innCode": ["7736050003"], "ogrnCode": ["1027700070518"],
                    "kppCode": ["997250001"], "jurisdiction": ["ru"],
                    "incorporationDate": ["1993-02-17"], "topics": ["sanction"],
                    "address": ["Saint Petersburg, Lakhtinsky Ave 2"]}},
    {"id": "ofac-sanction-1", "schema": "Sanction",
     "properties": {"entity": ["Q-petrov"], "authority": ["OFAC"], "program": ["RUSSIA-EO14024"]}},
    "{this is not json",
    {"id": "dir-1", "schema": "Directorship",
     "properties": {"director": ["Q-petrov"], "organization": ["missing-company"],
                    "role": ["Chairman"]}},
    {"id": "kz-bin-1", "schema": "Company",
     "properties": {"name": ["ТОО «Аспан Арба»"], "registrationNumber": ["940140000385"],
                    "idNumber": ["940140000385"], "country": ["kz"],
                    "vatCode": ["DE136695976", "ATU13585627"]}},
    {"id": "vessel-1", "schema": "Vessel", "properties": {"name": ["Akademik Cherskiy"]}},
    {"id": "own-vessel", "schema": "Ownership",
     "properties": {"owner": ["ru-inn-7736050003"], "asset": ["vessel-1"]}},
    {"id": "ea-1", "schema": "EconomicActivity",
     "properties": {"sender": ["kz-bin-1"], "receiver": ["ru-inn-7736050003"],
                    "vedCode": ["8542.31"], "date": ["2023-03"], "customsAmount": ["1000"]}},
    {"id": "ea-2", "schema": "EconomicActivity",
     "properties": {"sender": ["kz-bin-1"], "vedCode": ["8542"]}},
]  # fmt: skip


def _sample_lines():
    return [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)
            for row in OPENSANCTIONS_SAMPLE]  # fmt: skip


def test_import_of_an_opensanctions_like_file(sanctions):
    result = import_lines(_sample_lines(), dataset=sanctions)

    assert result.errors[0][0] == 5 and result.errors[0][1].startswith("not JSON")
    assert result.errors[1][0] == 11 and "date" in result.errors[1][1]
    assert result.errors[2] == (6, "Directorship dir-1: entity 'missing-company' is not in the "
                                   "dataset")  # fmt: skip
    assert len(result.errors) == 3
    # Person, 2 companies, the ownership, the first shipment; Sanction, Vessel and the vessel's
    # ownership are skipped.
    assert (result.created, result.updated, result.unchanged, result.skipped) == (5, 0, 0, 3)

    petrov = Entity.objects.get(dataset=sanctions, ftm_id="Q-petrov")
    assert petrov.schema == Schema.PERSON
    assert petrov.name == "Ivan Petrovich Petrov"
    assert petrov.start_date == "1965-07-14"
    assert petrov.nationality == ["RU"]
    assert petrov.source.startswith("https://sanctionssearch")
    assert petrov.extra == {
        "name": ["PETROV, Ivan"],
        "birthDate": ["1965"],
        "gender": ["male"],
        "topics": ["sanction", "role.oligarch"],
    }
    assert set(EntityName.objects.filter(entity=petrov).values_list("name", flat=True)) == {
        "Ivan Petrovich Petrov",
        "Иван Петрович Петров",
        "Ivan Petrov",
    }
    gazprom = Entity.objects.get(dataset=sanctions, ftm_id="ru-inn-7736050003")
    assert sorted(gazprom.identifiers.values_list("scheme", "value")) == [
        ("ru_inn", "7736050003"),
        ("ru_kpp", "997250001"),
        ("ru_ogrn", "1027700070518"),
    ]
    assert gazprom.countries == ["RU"]  # from jurisdiction, which stays for the export
    assert gazprom.extra["jurisdiction"] == ["ru"]
    aspan = Entity.objects.get(dataset=sanctions, ftm_id="kz-bin-1")
    assert sorted(aspan.identifiers.values_list("scheme", "value")) == [
        ("de_vat", "DE136695976"),
        ("eu_vat", "ATU13585627"),
        ("kz_iin", "940140000385"),
        ("registration", "940140000385"),
    ]
    ownership = Link.objects.get(dataset=sanctions, ftm_id="ofac-own-1")
    assert (ownership.source, ownership.target) == (petrov, gazprom)
    assert (ownership.percentage, ownership.start_date) == (Decimal("51"), "2014-02-27")
    shipment = Shipment.objects.get(dataset=sanctions, ftm_id="ea-1")
    assert (shipment.date, shipment.hs_code) == (datetime.date(2023, 3, 1), "854231")
    assert shipment.extra["date"] == ["2023-03"]
    assert shipment.value is None  # no currency given: the amount stays as FtM had it
    assert shipment.extra["customsAmount"] == ["1000"]

    exported = _by_schema(export_dataset_lines(sanctions))
    assert validate_export(json.dumps(d) for rows in exported.values() for d in rows) == []
    activity = exported["EconomicActivity"][0]["properties"]
    assert activity["date"] == ["2023-03"]
    assert activity["customsAmount"] == ["1000"]
    person = exported["Person"][0]["properties"]
    assert person["name"] == ["Ivan Petrovich Petrov", "PETROV, Ivan"]
    assert person["birthDate"] == ["1965-07-14", "1965"]
    assert person["topics"] == ["sanction", "role.oligarch"]

    again = import_lines(_sample_lines(), dataset=sanctions)
    assert (again.created, again.updated, again.unchanged, again.skipped) == (0, 0, 5, 3)


def test_import_command_prints_a_summary_and_the_errors(tmp_path, sanctions):
    path = tmp_path / "sample.json"
    path.write_text("\n".join(_sample_lines()) + "\n", encoding="utf-8")
    out = io.StringIO()

    call_command("import_ftm", str(path), "--dataset", "Fresh list", stdout=out)

    first, *errors = out.getvalue().splitlines()
    assert first.startswith("created 5, updated 0, unchanged 0, skipped 3, errors 3 in ")
    assert first.endswith(" s")
    assert errors[0].startswith("  line 5: not JSON")
    assert Dataset.objects.get(name="Fresh list").entities_entity_set.count() == 3
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("import_ftm", str(tmp_path / "missing.json"), "--dataset", "x",
                     stdout=io.StringIO())  # fmt: skip


def test_import_command_reads_stdin(monkeypatch, sanctions):
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(_sample_lines())))
    out = io.StringIO()

    call_command("import_ftm", "-", "--dataset", sanctions.name, stdout=out)

    assert out.getvalue().startswith("created 5, updated 0, unchanged 0, skipped 3, errors 3")


def test_identifiers_are_stored_as_given_without_check_digits(sanctions):
    line = {
        "id": "x-1",
        "schema": "Company",
        "properties": {"name": ["Broken Checksum LLC"], "innCode": [" 7707083890 "]},
    }

    result = import_lines([json.dumps(line)], dataset=sanctions)

    assert result.errors == []
    assert list(Identifier.objects.values_list("scheme", "value")) == [("ru_inn", "7707083890")]


def test_shipment_dates_and_summaries_from_other_sources(sanctions, alice):
    rows = [
        {"id": "co-a", "schema": "Company", "properties": {"name": ["Alpha LLP"]}},
        {"id": "co-b", "schema": "Company", "properties": {"name": ["Beta OOO"]}},
        # A timestamp, and a summary in someone else's words with an amount and no currency.
        {"id": "ea-a", "schema": "EconomicActivity",
         "properties": {"sender": ["co-a"], "receiver": ["co-b"], "vedCode": ["880690"],
                        "date": ["2023-01-05T08:30:00"], "summary": ["Drones, 40 units"],
                        "goodsDescription": ["Quadcopters"], "customsAmount": ["99.999"]}},
        # A year only, and our own summary whose quantity the description does not repeat.
        {"id": "ea-b", "schema": "EconomicActivity",
         "properties": {"vedCode": ["8542"], "date": ["2023"],
                        "summary": ["quantity=5; unit=pcs; currency=USD"],
                        "goodsDescription": ["Chips"], "customsAmount": ["10"]}},
    ]  # fmt: skip
    lines = [json.dumps(r) for r in rows]

    result = import_lines(lines, dataset=sanctions, actor=alice)

    assert (result.created, result.errors) == (4, [])
    a = Shipment.objects.get(ftm_id="ea-a")
    assert (a.date, a.description, a.quantity, a.value) == (
        datetime.date(2023, 1, 5),
        "Quadcopters",
        None,
        None,
    )
    assert a.extra == {"date": ["2023-01-05T08:30:00"], "summary": ["Drones, 40 units"],
                       "customsAmount": ["99.999"]}  # fmt: skip
    assert a.created_by == alice
    b = Shipment.objects.get(ftm_id="ea-b")
    assert (b.date, b.quantity, b.currency, b.value) == (datetime.date(2023, 1, 1), None, "", None)
    exported = {d["id"]: d["properties"] for d in map(json.loads, export_dataset_lines(sanctions))}
    for row in rows[2:]:
        assert exported[row["id"]] == row["properties"]
    assert import_lines(export_dataset_lines(sanctions), dataset=sanctions).unchanged == 4
