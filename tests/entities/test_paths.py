"""How is A connected to B: shortest chains through links and trade, with citations."""

import pytest
from django.urls import reverse

from entities.analysis import paths
from entities.models import Dataset, LinkKind, Schema
from entities.services import Scope, entity_create, link_create, shipment_create
from evidence.models import Citation, Document
from tests.factories import make_case

ALL = ["Ownership", "Directorship", "Family", "Employment", "Trade"]


@pytest.fixture
def chain(case):
    """Hans -owns-> Vogt GmbH -ships-> Dala LLP <-directs- Timur -family- Hans, and
    Dala -ships-> Vektor: Hans to Vektor is 3 hops, two ways."""
    s = Scope(investigation=case)
    hans = entity_create(scope=s, name="Hans Vogt", schema=Schema.PERSON)
    timur = entity_create(scope=s, name="Timur Vogt", schema=Schema.PERSON)
    vogt = entity_create(scope=s, name="Vogt GmbH", countries=["DE"])
    dala = entity_create(scope=s, name="Dala LLP", countries=["KZ"])
    vektor = entity_create(scope=s, name="Vektor OOO", countries=["RU"])
    owns = link_create(scope=s, kind=LinkKind.OWNERSHIP, source=hans, target=vogt, percentage=50)
    link_create(scope=s, kind=LinkKind.DIRECTORSHIP, source=timur, target=dala)
    link_create(scope=s, kind=LinkKind.FAMILY, source=timur, target=hans, role="son")
    for day in ("02", "20"):
        shipment_create(
            scope=s,
            date=f"2022-05-{day}",
            exporter=vogt,
            importer=dala,
            hs_code="854231",
            quantity=100,
            unit="pcs",
            value=1000,
            currency="EUR",
        )
    out = shipment_create(
        scope=s, date="2022-06-01", exporter=dala, importer=vektor, hs_code="8542"
    )
    doc = Document.objects.create(
        investigation=case,
        title="Handelsregister extract",
        original_name="hr.pdf",
        file="x",
        sha256="0" * 64,
        size=1,
        mime="application/pdf",
        kind="pdf",
        type_label="PDF",
        status="done",
    )
    Citation.objects.create(investigation=case, document=doc, link=owns, page=2)
    Citation.objects.create(investigation=case, document=doc, shipment=out, quote="to Moscow")
    return {"hans": hans, "timur": timur, "vogt": vogt, "dala": dala, "vektor": vektor}


def _names(path):
    return [e.name for e in path.entities]


def test_every_shortest_chain_with_its_hops_and_citations(case, chain):
    result = paths.shortest_paths(
        case=case, source=chain["hans"], target=chain["vektor"], kinds=ALL
    )
    assert result.length == 3
    assert sorted(_names(p) for p in result.paths) == [
        ["Hans Vogt", "Timur Vogt", "Dala LLP", "Vektor OOO"],
        ["Hans Vogt", "Vogt GmbH", "Dala LLP", "Vektor OOO"],
    ]
    via_vogt = next(p for p in result.paths if p.entities[1].name == "Vogt GmbH")
    owns, trade, onward = via_vogt.hops
    assert [link.get_kind_display() for link in owns.links] == ["Ownership"]
    assert [c.page for c in owns.links[0].hop_citations] == [2]
    (leg,) = trade.trade
    assert leg.count == 2 and leg.headings == ["8542"] and leg.value == 2000
    assert leg.currency == "EUR" and leg.quantity == 200 and leg.unit == "pcs"
    assert [c.quote for c in onward.trade[0].citations] == ["to Moscow"]


def test_kinds_narrow_the_search_and_no_path_says_so(case, chain):
    no_trade = paths.shortest_paths(
        case=case, source=chain["hans"], target=chain["vektor"], kinds=ALL[:4]
    )
    assert no_trade.paths == [] and no_trade.length is None and no_trade.stopped == ""
    family_first = paths.shortest_paths(
        case=case, source=chain["hans"], target=chain["dala"], kinds=["Family", "Directorship"]
    )
    assert [_names(p) for p in family_first.paths] == [["Hans Vogt", "Timur Vogt", "Dala LLP"]]


def test_the_search_stops_at_the_hop_limit(case, chain, settings):
    settings.PATH_MAX_HOPS = 2
    result = paths.shortest_paths(
        case=case, source=chain["hans"], target=chain["vektor"], kinds=ALL
    )
    assert result.paths == [] and result.stopped == "hops"


def test_paths_never_cross_another_case(case, chain, charlie):
    # Alice's case pins two registry companies; only Charlie's case links them to each other.
    registry = Scope(dataset=Dataset.objects.create(name="Registry"))
    shared = entity_create(scope=registry, name="Shared Holding")
    agent = entity_create(scope=registry, name="Agent Ltd")
    s = Scope(investigation=case)
    link_create(scope=s, kind=LinkKind.OWNERSHIP, source=shared, target=chain["hans"])
    link_create(scope=s, kind=LinkKind.OWNERSHIP, source=agent, target=chain["vektor"])
    other = make_case(owner=charlie, title="Charlie's")
    link_create(
        scope=Scope(investigation=other), kind=LinkKind.OWNERSHIP, source=shared, target=agent
    )
    result = paths.shortest_paths(
        case=case, source=chain["hans"], target=chain["vektor"], kinds=ALL, datasets=True
    )
    assert result.length == 3 and len(result.paths) == 2
    assert all("Shared Holding" not in _names(p) for p in result.paths)
    mine = paths.shortest_paths(case=other, source=shared, target=agent, kinds=ALL, datasets=True)
    assert mine.length == 1


def test_path_page(case, chain, alice_client, charlie_client):
    url = reverse("analysis:paths", kwargs={"case_id": case.public_id})
    query = {"source": chain["hans"].public_id, "target": chain["vektor"].public_id}
    text = alice_client.get(url, query).content.decode()
    assert "2 shortest paths of 3 hops" in text
    assert "Handelsregister extract" in text and "p. 2" in text and "to Moscow" in text
    assert "2 shipments, 2022-05-02 to 2022-05-20, HS 8542" in text
    same = alice_client.get(url, {**query, "target": chain["hans"].public_id})
    assert "Choose two different entities" in same.content.decode()
    assert charlie_client.get(url, query).status_code == 404
    assert alice_client.get(url, {"source": "not-a-uuid"}).status_code == 200
