"""The network page in Chromium: it draws under the strict CSP, a click opens a node's card,
expanding pulls a pinned entity's dataset neighbours in, kinds hide, the layout is saved, and
the page fits a phone."""

import pytest
from playwright.sync_api import expect

from entities.analysis.models import NetworkLayout
from entities.models import Dataset, LinkKind, Schema
from entities.services import Scope, entity_create, link_create, pin_entity, shipment_create
from tests.conftest import PASSWORD
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.browser


def _world():
    dana = UserFactory(username="dana")
    case = make_case(owner=dana, title="Chips via Almaty")
    s = Scope(investigation=case)
    vogt = entity_create(scope=s, name="Vogt GmbH", countries=["DE"])
    son = entity_create(scope=s, name="Timur Vogt", schema=Schema.PERSON, nationality=["RU"])
    registry = Dataset.objects.create(name="KZ registry")
    r = Scope(dataset=registry)
    dala = entity_create(scope=r, name="ТОО «Дала Микро»", countries=["KZ"])
    director = entity_create(scope=r, name="Erlan Director", schema=Schema.PERSON)
    link_create(scope=r, kind=LinkKind.DIRECTORSHIP, source=director, target=dala)
    pin_entity(investigation=case, entity=dala)
    link_create(scope=s, kind=LinkKind.OWNERSHIP, source=son, target=dala, percentage=100)
    shipment_create(
        scope=s,
        date="2022-05-02",
        exporter=vogt,
        importer=dala,
        hs_code="854231",
        value=1,
        currency="EUR",
    )
    return case, dala


def _node_centre(page, entity):
    return page.evaluate(
        """(id) => {
            const box = document.getElementById('network').getBoundingClientRect();
            const p = window.casefileNetwork.getElementById(id).renderedPosition();
            return [box.left + p.x, box.top + p.y];
        }""",
        str(entity.public_id),
    )


def test_network_page_draws_clicks_expands_and_saves(page, live_server, transactional_db):
    case, dala = _world()
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base}/cases/{case.public_id}/network/")
    page.wait_for_selector("body[data-network-ready]")
    expect(page.locator("#net-status")).to_contain_text("3 entities, 2 connections")
    assert page.evaluate("window.casefileNetwork.nodes().length") == 3
    assert page.evaluate("window.casefileNetwork.nodes(':visible').length") == 3

    x, y = _node_centre(page, dala)
    page.mouse.click(x, y)
    card = page.locator("#node-card")
    expect(card).to_contain_text("Дала Микро")
    expect(card).to_contain_text("KZ registry")

    page.get_by_label("Expand into shared datasets").check()
    card.get_by_role("button", name="Expand 1 hop").click()
    expect(page.locator("#net-status")).to_contain_text("Added 1 entities")
    assert page.evaluate("window.casefileNetwork.nodes().length") == 4
    assert page.evaluate("window.casefileNetwork.edges().length") == 3

    page.locator("input[data-kind=Trade]").uncheck()
    # Cytoscape applies styles on its next frame: wait for it.
    page.wait_for_function("window.casefileNetwork.edges(':visible').length === 2")

    page.get_by_role("button", name="Save layout").click()
    expect(page.locator("#net-status")).to_contain_text("Layout saved (4 positions)")
    layout = NetworkLayout.objects.get(investigation=case)
    assert len(layout.positions) == 4 and layout.hidden_kinds == ["Trade"]

    # Reloaded: the saved positions and hidden kinds come back.
    page.reload()
    page.wait_for_selector("body[data-network-ready]")
    expect(page.locator("input[data-kind=Trade]")).not_to_be_checked()
    page.wait_for_function("window.casefileNetwork.edges(':visible').length === 1")
    assert page.js_errors == []


def test_network_page_fits_a_phone(page, live_server, transactional_db):
    case, _ = _world()
    page.set_viewport_size({"width": 390, "height": 844})
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for path in ("network/", "flags/", "paths/"):
        page.goto(f"{base}/cases/{case.public_id}/{path}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    page.goto(f"{base}/cases/{case.public_id}/network/")
    page.wait_for_selector("body[data-network-ready]")
    assert page.evaluate("window.casefileNetwork.nodes().length") == 3
    assert page.js_errors == []
