"""The network of a case: the page's graph, expansion, node cards, saved layout, exports."""

import json

import networkx
import pytest
from django.urls import reverse

from entities.analysis import graph
from entities.analysis.models import NetworkLayout
from entities.models import Dataset, LinkKind, Schema
from entities.services import Scope, entity_create, link_create, pin_entity, shipment_create
from investigations.models import ActivityEntry
from tests.factories import make_case


def _url(name, case, **kwargs):
    return reverse(f"analysis:{name}", kwargs={"case_id": case.public_id, **kwargs})


@pytest.fixture
def shared(db):
    """A dataset with a registry chain: Dala Micro <- owned by Ivan <- family of Olga."""
    dataset = Dataset.objects.create(name="KZ registry")
    ds = Scope(dataset=dataset)
    dala = entity_create(scope=ds, name="ТОО «Дала Микро»", countries=["KZ"])
    ivan = entity_create(scope=ds, name="Ivan Orlov", schema=Schema.PERSON, nationality=["RU"])
    olga = entity_create(scope=ds, name="Olga Orlova", schema=Schema.PERSON)
    link_create(scope=ds, kind=LinkKind.OWNERSHIP, source=ivan, target=dala, percentage=100)
    link_create(scope=ds, kind=LinkKind.FAMILY, source=ivan, target=olga, role="spouse")
    return {"dataset": dataset, "dala": dala, "ivan": ivan, "olga": olga}


@pytest.fixture
def secret(charlie, shared, chips):
    """Charlie's own case links the same dataset entity to his secret entity."""
    other = make_case(owner=charlie, title="Charlie's secret")
    scope = Scope(investigation=other)
    hidden = entity_create(scope=scope, name="Secret Holding Ltd", countries=["CY"])
    link_create(scope=scope, kind=LinkKind.OWNERSHIP, source=hidden, target=shared["dala"])
    shipment_create(
        scope=scope, date="2022-07-01", exporter=shared["dala"], importer=hidden, hs_code="8542"
    )
    return hidden


def _names(g):
    return {n["name"] for n in g.nodes}


def test_case_graph_has_own_and_pinned_entities_links_and_trade(chips, case, shared, secret):
    pin_entity(investigation=case, entity=shared["dala"])
    g = graph.case_graph(case=case)
    assert _names(g) == {
        "Elektronik Handel Vogt GmbH",
        "ТОО «Аспан Арба»",
        "ООО «Скай Механикс»",
        "Timur Vogt",
        "ТОО «Дала Микро»",
    }
    kinds = sorted(e["kind"] for e in g.edges)
    assert kinds == ["Directorship", "Ownership", "Trade", "Trade"]
    trade = next(e for e in g.edges if e["kind"] == "Trade" and "EUR" in json.dumps(e))
    assert trade["shipments"] == 2 and trade["years"] == {"2022 EUR": 240000}
    scopes = {n["name"]: n["scope"] for n in g.nodes}
    assert scopes["ТОО «Дала Микро»"] == "pinned" and scopes["Timur Vogt"] == "case"
    assert "Secret Holding Ltd" not in json.dumps(g.as_json())


def test_expansion_walks_case_rows_and_dataset_rows_on_request(case, shared, secret, alice):
    scope = Scope(investigation=case)
    kz = entity_create(scope=scope, name="Aspan Arba", countries=["KZ"])
    pin_entity(investigation=case, entity=shared["dala"])
    link_create(scope=scope, kind=LinkKind.UNKNOWN, source=kz, target=shared["dala"], role="agent")

    one = graph.neighbourhood(case=case, entity=kz, hops=1)
    assert _names(one) == {"Aspan Arba", "ТОО «Дала Микро»"}
    two_case_only = graph.neighbourhood(case=case, entity=kz, hops=2)
    assert _names(two_case_only) == {"Aspan Arba", "ТОО «Дала Микро»"}
    two = graph.neighbourhood(case=case, entity=kz, hops=2, datasets=True)
    assert _names(two) == {"Aspan Arba", "ТОО «Дала Микро»", "Ivan Orlov"}
    depths = {n["name"]: n["depth"] for n in two.nodes}
    assert depths == {"Aspan Arba": 0, "ТОО «Дала Микро»": 1, "Ivan Orlov": 2}
    assert {e["kind"] for e in two.edges} == {"UnknownLink", "Ownership"}
    # Charlie's link and shipment to the same dataset entity never show, whatever the hops.
    assert "Secret Holding" not in json.dumps(two.as_json())
    only_family = graph.neighbourhood(
        case=case, entity=shared["dala"], hops=2, datasets=True, kinds=["Family"]
    )
    assert _names(only_family) == {"ТОО «Дала Микро»"}


def test_expansion_is_capped_nearest_first(case):
    scope = Scope(investigation=case)
    hub = entity_create(scope=scope, name="Hub")
    for n in range(6):
        leaf = entity_create(scope=scope, name=f"Leaf {n}")
        link_create(scope=scope, kind=LinkKind.OWNERSHIP, source=hub, target=leaf)
        far = entity_create(scope=scope, name=f"Far {n}")
        link_create(scope=scope, kind=LinkKind.OWNERSHIP, source=leaf, target=far)
    g = graph.neighbourhood(case=case, entity=hub, hops=2, cap=7)
    assert len(g.nodes) == 7 and g.truncated and g.total == 13
    assert all(not n["name"].startswith("Far") for n in g.nodes)


def test_network_pages_and_json(chips, case, alice_client, charlie_client):
    page = alice_client.get(_url("network", case))
    text = page.content.decode()
    assert page.status_code == 200 and "vendor/cytoscape/cytoscape.min.js" in text
    assert 'id="__________cytoscape_stylesheet"' in text
    data = alice_client.get(_url("network-data", case)).json()
    assert len(data["nodes"]) == 4 and data["layout"] == {"positions": {}, "hidden": []}
    kz = str(chips["kz"].public_id)
    expanded = alice_client.get(_url("network-expand", case), {"entity": kz, "hops": 2}).json()
    assert {n["name"] for n in expanded["nodes"]} >= {"Timur Vogt", "ООО «Скай Механикс»"}
    bad = alice_client.get(_url("network-expand", case), {"entity": kz, "hops": 3})
    assert bad.status_code == 400 and "hops" in bad.json()["error"]
    card = alice_client.get(_url("network-card", case, entity_id=chips["kz"].public_id))
    assert "Expand 2 hops" in card.content.decode() and "940140000385" in card.content.decode()
    for url in (_url("network", case), _url("network-data", case)):
        assert charlie_client.get(url).status_code == 404


def test_expanding_another_cases_entity_is_404(case, secret, alice_client):
    response = alice_client.get(_url("network-expand", case), {"entity": secret.public_id})
    assert response.status_code == 404
    assert (
        alice_client.get(_url("network-card", case, entity_id=secret.public_id)).status_code == 404
    )


def test_network_data_query_count_is_constant(chips, case, alice_client, django_assert_num_queries):
    # session, user, case with my role, the graph (one statement), the saved layout
    with django_assert_num_queries(5):
        alice_client.get(_url("network-data", case))
    scope = Scope(investigation=case)
    for n in range(10):
        other = entity_create(scope=scope, name=f"Buyer {n}")
        link_create(scope=scope, kind=LinkKind.UNKNOWN, source=chips["kz"], target=other)
        shipment_create(
            scope=scope, date="2023-01-02", exporter=chips["kz"], importer=other, hs_code="85"
        )
    with django_assert_num_queries(5):
        alice_client.get(_url("network-data", case))


def test_layout_is_saved_for_writers_and_read_back(chips, case, alice_client, bob_client, bob):
    kz = str(chips["kz"].public_id)
    body = {"positions": {kz: [10.5, -20]}, "hidden": ["Trade"]}
    response = alice_client.post(
        _url("network-layout", case), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200 and response.json() == {"saved": 1}
    data = alice_client.get(_url("network-data", case)).json()
    assert data["layout"] == {"positions": {kz: [10.5, -20.0]}, "hidden": ["Trade"]}
    entry = ActivityEntry.objects.filter(investigation=case).latest("id")
    assert entry.changes == {"network layout": {"to": "1 positions"}}

    from investigations import services as case_services
    from investigations.models import Membership

    case_services.membership_change_role(
        membership=Membership.objects.get(investigation=case, user=bob), role="viewer"
    )
    assert (
        bob_client.post(
            _url("network-layout", case), "{}", content_type="application/json"
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ('{"positions": {"x": [1, 2]}}', "is not an entity id"),
        ('{"positions": {"00000000-0000-0000-0000-000000000001": [1]}}', "two finite numbers"),
        ('{"positions": {"00000000-0000-0000-0000-000000000001": [1, "2"]}}', "finite numbers"),
        ('{"hidden": ["Nonsense"]}', "Hidden"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_bad_layout_is_a_400_with_a_reason_and_saves_nothing(case, alice_client, body, message):
    response = alice_client.post(
        _url("network-layout", case), body, content_type="application/json"
    )
    assert response.status_code == 400 and message in response.json()["error"]
    assert not NetworkLayout.objects.exists()


def _read(tmp_path, name, content, reader):
    path = tmp_path / name
    path.write_bytes(content)
    return reader(path)


def test_exports_read_back_with_networkx(chips, case, alice_client, tmp_path):
    response = alice_client.get(_url("export-gexf", case))
    assert response["Content-Disposition"].endswith('.gexf"')
    gexf = _read(tmp_path, "case.gexf", b"".join(response.streaming_content), networkx.read_gexf)
    response = alice_client.get(_url("export-graphml", case))
    graphml = _read(
        tmp_path, "case.graphml", b"".join(response.streaming_content), networkx.read_graphml
    )
    kz, son = str(chips["kz"].public_id), str(chips["son"].public_id)
    for g in (gexf, graphml):
        assert g.number_of_nodes() == 4
        assert g.number_of_edges() == 4
    assert gexf.nodes[kz]["label"] == "ТОО «Аспан Арба»"
    assert gexf.nodes[kz]["schema"] == "Company" and gexf.nodes[kz]["countries"] == "KZ"
    assert graphml.nodes[kz]["label"] == "ТОО «Аспан Арба»"
    kinds = {d["kind"] for _, _, d in graphml.edges(data=True)}
    assert kinds == {"Ownership", "Directorship", "Trade"}
    owner = next(d for u, v, d in gexf.edges(data=True) if d.get("kind") == "Ownership")
    assert owner["percentage"] == 100.0
    assert any(u == son and v == kz for u, v in gexf.edges())
    trade = next(d for _, _, d in graphml.edges(data=True) if "EUR" in d.get("value", ""))
    assert trade["shipments"] == 2 and trade["value"] == "EUR 240000"


def test_export_escapes_markup_and_control_characters(case, alice_client, tmp_path):
    scope = Scope(investigation=case)
    entity_create(scope=scope, name='<script>"A" & B\x0b</script>')
    response = alice_client.get(_url("export-graphml", case))
    g = _read(tmp_path, "x.graphml", b"".join(response.streaming_content), networkx.read_graphml)
    assert [d["label"] for _, d in g.nodes(data=True)] == ['<script>"A" & B</script>']
