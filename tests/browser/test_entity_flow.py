"""A reporter follows the chips, in a real browser: search across scripts, pin a dataset
entity, add a link by searching the other party inline, read totals on the entity page."""

import os
import re

import pytest
from playwright.sync_api import expect

from entities.models import Dataset, Link
from entities.services import Scope, entity_create, shipment_create
from tests.conftest import PASSWORD
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CASEFILE_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_reporter_searches_pins_links_and_reads_totals(page, live_server, transactional_db):
    dana = UserFactory(username="dana")
    case = make_case(owner=dana, title="Chips via Almaty")
    scope = Scope(investigation=case)
    son = entity_create(scope=scope, name="Timur Hartmann", schema="Person", countries=["KZ"])
    vektor = entity_create(scope=scope, name="ООО «Вектор Системс»", countries=["RU"])
    customs = Dataset.objects.create(name="KZ customs 2021-2023")
    dala = entity_create(
        scope=Scope(dataset=customs),
        name="ТОО «Дала Микро»",
        countries=["KZ"],
        identifiers=[("kz_bin", "220440012351")],
    )
    for month in (5, 6, 8):
        shipment_create(
            scope=Scope(dataset=customs),
            date=f"2022-{month:02d}-01",
            importer=dala,
            hs_code="854231",
            quantity=2598,
            unit="pcs",
            value=119_508,
            currency="EUR",
            origin_country="DE",
            destination_country="KZ",
        )
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Search in Latin for a Cyrillic name in a shared dataset.
    page.get_by_role("searchbox", name="Search").fill("Dala Micro")
    page.get_by_role("searchbox", name="Search").press("Enter")
    expect(page.get_by_role("link", name="ТОО «Дала Микро»")).to_be_visible()
    _shot(page, "10-search")
    page.get_by_role("link", name="ТОО «Дала Микро»").click()
    expect(page.get_by_role("heading", name=re.compile("Дала Микро"))).to_be_visible()
    page.get_by_role("button", name="Pin").click()
    expect(page.locator(".message-success")).to_contain_text("pinned into")
    expect(page.locator("#shipments")).to_contain_text("358,524.00 EUR")
    _shot(page, "11-pinned-entity")

    # Back to the son's page: add an ownership link, finding the company by another spelling.
    page.goto(f"{base}/cases/{case.public_id}/entities/")
    page.get_by_role("link", name="Timur Hartmann").click()
    expect(page.get_by_role("heading", name=re.compile("Timur Hartmann"))).to_be_visible()
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    page.locator("#link-form > summary").click()
    page.locator("#id_kind").select_option("Ownership")
    page.locator("#other-search").fill("TOO Dala Mikro")
    page.get_by_role("option", name=re.compile("Дала Микро")).click()
    expect(page.locator("#other-box.chosen")).to_contain_text("Дала Микро")
    page.get_by_label("Share (%)").fill("100")
    page.get_by_label("Start date").fill("2022-04")
    _shot(page, "12-link-form")
    page.get_by_role("button", name="Add link").click()
    expect(page.locator(".message-success")).to_contain_text("Link added")
    expect(page.locator("#links")).to_contain_text("Ownership")
    expect(page.locator("#links")).to_contain_text("100 %")
    _shot(page, "13-entity-with-link")
    link = Link.objects.get()
    assert (link.source, link.target.name, link.investigation) == (son, "ТОО «Дала Микро»", case)

    # A bad share is a form error, and nothing is saved.
    page.locator("#link-form > summary").click()
    page.locator("#other-search").fill("Вектор")
    page.get_by_role("option", name=re.compile("Вектор")).click()
    page.get_by_label("Share (%)").fill("150")
    page.get_by_role("button", name="Add link").click()
    expect(page.locator(".field-error")).to_contain_text("between 0 and 100")
    assert Link.objects.count() == 1
    assert vektor.pk
    assert page.js_errors == []
