"""Entity pages: forms with clear errors, links, shipments, totals, query counts."""

import pytest
from django.urls import reverse
from selectolax.lexbor import LexborHTMLParser

from entities.models import Entity, Link, LinkKind, Pin, Shipment
from entities.services import Scope, entity_create, entity_update, link_create, shipment_create
from investigations.models import ActivityEntry


def _url(name, case, **kwargs):
    return reverse(f"entities:{name}", kwargs={"case_id": case.public_id, **kwargs})


def test_create_entity_with_identifiers(case, alice_client):
    response = alice_client.post(
        _url("create", case),
        {
            "schema": "Company",
            "name": "ТОО «Аспан Арба»",
            "aliases": "Aspan Arba LLP\nTOO Aspan Arba",
            "countries": "KZ, Russia",
            "start_date": "2022-4",
            "identifier_scheme": ["kz_bin", "ru_inn"],
            "identifier_value": ["9401 4000 0385", ""],  # an empty row is skipped
        },
    )
    entity = Entity.objects.get(name="ТОО «Аспан Арба»")
    assert response.status_code == 302
    assert entity.countries == ["KZ", "RU"]
    assert list(entity.identifiers.values_list("scheme", "value")) == [("kz_bin", "940140000385")]
    assert entity.aliases == ["Aspan Arba LLP", "TOO Aspan Arba"]
    assert entity.start_date == "2022-04"
    assert set(entity.name_forms.values_list("norm", flat=True)) == {"aspan arba"}


def _rows(*pairs):
    return {
        "identifier_scheme": [scheme for scheme, _ in pairs],
        "identifier_value": [value for _, value in pairs],
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_rows(("kz_bin", "940140000386")), "Not a valid Kazakhstan BIN"),
        (_rows(("ru_inn", "7707083894")), "Russia INN"),
        (_rows(("nonsense", "940140000385")), "Choose the kind of identifier"),
        ({"countries": "Narnia"}, "is not an ISO 3166 country"),
        ({"start_date": "2022-13"}, "Month 13 does not exist"),
        ({"start_date": "2022-04-31"}, "31 April does not exist"),
        ({"start_date": "2023-02-29"}, "29 February 2023 does not exist"),
        ({"start_date": "22.04.2022"}, "Write the date as YYYY, YYYY-MM or YYYY-MM-DD"),
        ({"start_date": "2023", "end_date": "2022"}, "The end is before the start"),
        ({"nationality": "KZ"}, "Only people have a nationality"),
        ({"name": ""}, "This field is required"),
    ],
)
def test_bad_entity_input_is_a_form_error_and_saves_nothing(case, alice_client, data, message):
    response = alice_client.post(_url("create", case), {"schema": "Company", "name": "X", **data})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Entity.objects.exists()


def test_same_identifier_in_same_case_offers_to_open_it(chips, case, alice_client):
    response = alice_client.post(
        _url("create", case),
        {"schema": "Company", "name": "Aspan Arba (again)", **_rows(("kz_bin", "940140000385"))},
    )
    text = response.content.decode()
    assert "already belongs to “ТОО «Аспан Арба»”" in text
    assert _url("detail", case, entity_id=chips["kz"].public_id) in text
    assert not Entity.objects.filter(name="Aspan Arba (again)").exists()


def test_reporter_can_write_viewer_cannot(case, bob_client, alice, bob):
    from investigations import services as case_services
    from investigations.models import Membership

    assert (
        bob_client.post(_url("create", case), {"schema": "Company", "name": "B"}).status_code == 302
    )
    case_services.membership_change_role(
        membership=Membership.objects.get(investigation=case, user=bob), role="viewer"
    )
    assert bob_client.get(_url("create", case)).status_code == 403
    assert bob_client.get(_url("list", case)).status_code == 200


def test_entity_page_shows_links_shipments_totals_and_activity(chips, case, alice_client):
    response = alice_client.get(_url("detail", case, entity_id=chips["kz"].public_id))
    text = response.content.decode()
    assert response.status_code == 200
    assert "Timur Vogt" in text and "Ownership" in text and "100 %" in text
    assert "Directorship" in text
    # Totals: imports from DE and exports to RU, 2022, chapter 85.
    assert "Import" in text and "Export" in text
    assert "240,000.00 EUR" in text and "300,000.00 USD" in text  # as exact as the rows
    assert "940140000385" in text
    assert "added the company" in text  # its activity


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "Ownership", "percentage": "120"}, "between 0 and 100"),
        ({"kind": "Ownership", "percentage": "-1"}, "between 0 and 100"),
        ({"kind": "Family", "start_date": "2022", "end_date": "2021"}, "The end is before"),
        ({"kind": "Family", "start_date": "2022-00"}, "Month 0 does not exist"),
        ({"kind": "Directorship", "percentage": "10"}, "belong to ownership links"),
        ({"kind": "Family", "other": ""}, "Choose the other party"),
    ],
)
def test_bad_link_input(chips, case, alice_client, data, message):
    before = Link.objects.count()
    response = alice_client.post(
        _url("link-create", case, entity_id=chips["son"].public_id),
        {"direction": "out", "other": chips["de"].public_id, **data},
    )
    assert message in response.content.decode()
    assert Link.objects.count() == before


def test_link_to_itself_is_refused(chips, case, alice_client):
    response = alice_client.post(
        _url("link-create", case, entity_id=chips["son"].public_id),
        {"kind": "Family", "direction": "out", "other": chips["son"].public_id},
    )
    assert "cannot be linked to itself" in response.content.decode()


def test_add_family_link_from_entity_page(chips, case, alice_client):
    parent = entity_create(scope=Scope(investigation=case), name="Hans Vogt", schema="Person")
    response = alice_client.post(
        _url("link-create", case, entity_id=parent.public_id),
        {"kind": "Family", "direction": "out", "other": chips["son"].public_id, "role": "son"},
    )
    assert response.status_code == 302
    link = Link.objects.get(kind=LinkKind.FAMILY)
    assert (link.source, link.target, link.role) == (parent, chips["son"], "son")


def test_lookup_finds_case_and_dataset_entities_but_not_other_cases(
    chips, case, dataset, alice, alice_client, charlie
):
    from tests.factories import make_case

    entity_create(scope=Scope(dataset=dataset), name="Aspan Arba Trading (registry)")
    other = make_case(owner=alice, title="Another of alice's cases")
    entity_create(scope=Scope(investigation=other), name="Aspan Arba Elsewhere")
    text = alice_client.get(_url("lookup", case), {"q": "aspan arba", "field": "other"}).text
    assert "ТОО «Аспан Арба»" in text
    assert "Aspan Arba Trading (registry)" in text and "will be pinned" in text
    assert "Aspan Arba Elsewhere" not in text
    chosen = alice_client.get(
        _url("lookup", case), {"field": "other", "choose": chips["kz"].public_id}
    ).text
    assert f'value="{chips["kz"].public_id}"' in chosen


def test_linking_a_dataset_entity_pins_it(chips, case, dataset, alice_client):
    registry = entity_create(scope=Scope(dataset=dataset), name="Aspan Arba Registry Record")
    alice_client.post(
        _url("link-create", case, entity_id=chips["kz"].public_id),
        {
            "kind": "UnknownLink",
            "direction": "out",
            "other": registry.public_id,
            "role": "same as",
        },
    )
    assert Pin.objects.filter(investigation=case, entity=registry).exists()
    page = alice_client.get(_url("detail", case, entity_id=registry.public_id))
    assert page.status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hs_code": "85A2"}, "is not an HS code"),
        ({"hs_code": "8"}, "is not an HS code"),
        ({"origin_country": "XX"}, "is not an ISO 3166 country"),
        ({"currency": "EURO", "value": "10"}, "not an ISO 4217 currency"),
        ({"value": "10", "currency": ""}, "A value needs its currency"),
        ({"quantity": "-5"}, "cannot be negative"),
        ({"date": "2022-02-30"}, "30 February does not exist"),
        ({"date": "2022-04-31"}, "31 April does not exist"),
        ({"date": "soon"}, "Write the date as YYYY-MM-DD"),
    ],
)
def test_bad_shipment_input(chips, case, alice_client, data, message):
    before = Shipment.objects.count()
    response = alice_client.post(
        _url("shipment-create", case),
        {
            "date": "2022-05-01",
            "hs_code": "8542",
            "exporter": chips["kz"].public_id,
            **data,
        },
    )
    assert message in response.content.decode()
    assert Shipment.objects.count() == before


def test_shipment_table_filters_and_totals(chips, case, alice_client):
    url = _url("shipments", case)
    text = alice_client.get(url, {"country": "RU"}).content.decode()
    assert "<strong>2</strong> shipments" in text
    assert "300,000" in text and "USD" in text
    text = alice_client.get(url, {"date_from": "2022-06-01"}).content.decode()
    assert "<strong>2</strong> shipments" in text
    text = alice_client.get(url, {"hs": "8806"}).content.decode()
    assert "<strong>0</strong> shipments" in text
    text = alice_client.get(url, {"party": chips["de"].public_id}).content.decode()
    assert "<strong>2</strong> shipments" in text
    text = alice_client.get(url, {"date_from": "2023-01-01", "date_to": "2022-01-01"}).text
    assert "The end is before the start" in text


def test_case_entity_list_filters(chips, case, alice_client):
    url = _url("list", case)
    text = alice_client.get(url, {"schema": "Person"}).text
    assert "Timur Vogt" in text and "Elektronik Handel Vogt" not in text
    text = alice_client.get(url, {"country": "RU"}).text
    assert "Скай Механикс" in text and "Timur Vogt" not in text
    text = alice_client.get(url, {"q": "TOO Aspan Arba"}).text
    assert "Аспан Арба" in text and "Скай" not in text
    text = alice_client.get(url, {"q": "7707083893"}).text
    assert "Скай Механикс" in text


def test_entity_list_query_count_is_constant(chips, case, alice_client, django_assert_num_queries):
    url = _url("list", case)
    # session, user, case+role, count, page of entities (+dataset), identifiers prefetch
    with django_assert_num_queries(6):
        alice_client.get(url)
    scope = Scope(investigation=case)
    for n in range(20):
        entity_create(scope=scope, name=f"Shell {n}", identifiers=[("registration", f"R{n}")])
    with django_assert_num_queries(6):
        alice_client.get(url)


def test_entity_page_query_count_is_constant(chips, case, alice_client, django_assert_num_queries):
    url = _url("detail", case, entity_id=chips["kz"].public_id)
    # 1 session, 2 user, 3 case with my role, 4 entity with pin flag, dataset and creator,
    # 5 its identifiers, 6 pinned ids of the case, 7 links with both parties, 8 totals by
    # direction/year/chapter, 9 latest shipments, 10-11 their exporters and importers,
    # 12 possible duplicates (none here; when there are, +2: their entities and identifiers),
    # 13 the activity about the entity (refs index), 14-16 the objects it is about as they
    # are now, one query per kind (shipments, links, the entity itself)
    with django_assert_num_queries(16):
        alice_client.get(url)
    scope = Scope(investigation=case)
    for n in range(10):
        other = entity_create(scope=scope, name=f"Buyer {n}", countries=["RU"])
        link_create(scope=scope, kind=LinkKind.UNKNOWN, source=chips["kz"], target=other)
        shipment_create(
            scope=scope,
            date=f"2023-01-{n + 1:02d}",
            exporter=chips["kz"],
            importer=other,
            hs_code="880699",
            value=10,
            currency="USD",
        )
    # The same three kinds in the feed.
    entity_update(entity=chips["kz"], case=case, notes="Sells on.")
    with django_assert_num_queries(16):
        alice_client.get(url)


def test_activity_records_entity_changes(chips, case, alice_client):
    alice_client.post(
        _url("edit", case, entity_id=chips["ru"].public_id),
        {
            "schema": "Company",
            "name": "ООО «Скай Механикс»",
            "countries": "RU",
            "notes": "Buys drones.",
            **_rows(("ru_inn", "7707083893")),
        },
    )
    entry = ActivityEntry.objects.filter(investigation=case, action="updated").latest("id")
    assert entry.actor_name == "alice"
    assert entry.changes == {"notes": {"from": "", "to": "Buys drones."}}


def test_delete_entity_with_shipments_is_refused_with_a_reason(chips, case, alice_client):
    response = alice_client.post(_url("delete", case, entity_id=chips["kz"].public_id), follow=True)
    assert "Shipments name this entity" in response.content.decode()
    assert Entity.objects.filter(pk=chips["kz"].pk).exists()


def test_busy_entity_shows_the_first_links_and_all_on_request(chips, case, alice_client):
    from entities.models import Entity, EntityName

    scope_case = case
    hub = chips["kz"]
    others = Entity.objects.bulk_create(
        [Entity(investigation=scope_case, name=f"Shell {n}") for n in range(105)]
    )
    Link.objects.bulk_create(
        [
            Link(investigation=scope_case, kind=LinkKind.UNKNOWN, source=hub, target=o)
            for o in others
        ]
    )
    assert not EntityName.objects.filter(entity__in=others).exists()  # not needed here
    url = _url("detail", case, entity_id=hub.public_id)
    text = alice_client.get(url).content.decode()
    assert "Show all 107 links (7 more)" in text
    assert text.count('class="linkkind"') == 100
    text = alice_client.get(url, {"links": "all"}).content.decode()
    assert text.count('class="linkkind"') == 107


def test_identifier_rows_are_added_and_removed_without_javascript(chips, case, alice_client):
    url = _url("edit", case, entity_id=chips["kz"].public_id)
    form = {
        "schema": "Company",
        "name": "ТОО «Аспан Арба»",
        **_rows(("kz_bin", "940140000385"), ("lei", "5493001KJTIIGC8Y1R12")),
    }
    page = LexborHTMLParser(alice_client.get(url).text)
    schemes = page.css("#identifier-rows select[name=identifier_scheme]")
    assert [s.css_first("option[selected]").attributes["value"] for s in schemes[:1]] == ["kz_bin"]
    assert "Kazakhstan BIN — 12 digits" in schemes[0].text()
    assert len(schemes) == 2  # the identifier, and an empty row to add one

    added = alice_client.post(url, {**form, "identifier_add": "1"})
    assert added.status_code == 200  # the form again, one row more, nothing saved
    rows = LexborHTMLParser(added.text).css("#identifier-rows .form-row")
    assert len(rows) == 3
    assert "This field is required" not in added.text
    removed = alice_client.post(url, {**form, "identifier_remove": "0"})
    values = [
        i.attributes["value"]
        for i in LexborHTMLParser(removed.text).css("#identifier-rows input[name=identifier_value]")
    ]
    assert values == ["5493001KJTIIGC8Y1R12", ""]
    assert list(chips["kz"].identifiers.values_list("scheme", flat=True)) == ["kz_bin"]

    bad = alice_client.post(url, {**form, **_rows(("kz_bin", "940140000386"), ("lei", "x"))})
    page = LexborHTMLParser(bad.text)
    errors = [e.text() for e in page.css("#identifier-rows .field-error")]
    assert errors == [
        "Not a valid Kazakhstan BIN: the check digit does not match.",
        "Not a valid LEI: it has the wrong length: 1 character instead of 20.",
    ]
    assert "Check the 2 identifiers marked below." in bad.text
