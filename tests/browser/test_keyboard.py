"""static/js/app.js in Chromium: "/" focuses the search box from any page (not while typing in
a field), Esc closes what is open (the menu, look-up results, a form in a panel, the citation
panel of a link), and identifier rows are added and removed in place."""

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from entities.models import LinkKind
from entities.services import Scope, entity_create, link_create
from tests.browser.conftest import launch_chromium
from tests.factories import UserFactory, make_case

pytestmark = pytest.mark.browser


def _logged_in_context(browser, client, base: str):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": base,
            }
        ]
    )
    return context


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_slash_focuses_search_and_escape_closes_panels(live_server, transactional_db):
    dana = UserFactory(username="dana", first_name="Dana")
    case = make_case(owner=dana)
    scope = Scope(investigation=case)
    company = entity_create(scope=scope, name="ТОО «Дала Микро»")
    timur = entity_create(scope=scope, name="Timur Hartmann", schema="Person")
    link_create(scope=scope, kind=LinkKind.DIRECTORSHIP, source=timur, target=company)
    client = Client()
    client.force_login(dana)
    base = live_server.url
    entity_url = f"{base}/cases/{case.public_id}/entities/{company.public_id}/"

    with launch_chromium() as browser:
        context = _logged_in_context(browser, client, base)
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # "/" from any page, and not while typing in a field.
        for path in (
            f"/cases/{case.public_id}/",
            f"/cases/{case.public_id}/activity/",
            "/datasets/",
        ):
            page.goto(base + path)
            page.keyboard.press("/")
            assert _focused_id(page) == "site-search", path
        page.goto(f"{base}/cases/{case.public_id}/entities/")
        page.locator("#id_q").click()
        page.keyboard.type("a/b")
        assert _focused_id(page) == "id_q"
        expect(page.locator("#id_q")).to_have_value("a/b")

        # Esc closes the menu and gives the focus back to its button.
        page.goto(entity_url)
        page.locator(".usermenu summary").click()
        expect(page.locator(".usermenu-panel")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator(".usermenu-panel")).to_be_hidden()
        assert page.evaluate("document.activeElement.closest('.usermenu') !== null")

        # In "Add a link": the first Esc empties the look-up results, the next closes the form.
        page.locator("#link-form > summary").click()
        page.locator("#other-search").fill("Timur")
        expect(page.get_by_role("option", name="Timur Hartmann")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_role("option", name="Timur Hartmann")).to_have_count(0)
        expect(page.locator("#link-form form")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator("#link-form form")).to_be_hidden()

        # The citation panel of a link (loaded by htmx) closes too.
        page.locator(".cite-link > summary").first.click()
        expect(page.locator(".cite-link .citations-panel")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.locator(".cite-link .citations-panel")).to_be_hidden()
        assert errors == []
        context.close()


def test_identifier_rows_are_added_and_removed_in_place(live_server, transactional_db):
    dana = UserFactory(username="dana", first_name="Dana")
    case = make_case(owner=dana)
    client = Client()
    client.force_login(dana)
    base = live_server.url
    with launch_chromium() as browser:
        context = _logged_in_context(browser, client, base)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{base}/cases/{case.public_id}/entities/new/")
        page.wait_for_function("() => document.readyState === 'complete'")
        page.get_by_label("Name").fill("ТОО «Дала Микро»")
        rows = page.locator("#identifier-rows .form-row")
        expect(rows).to_have_count(1)
        rows.nth(0).locator("select").select_option("kz_bin")
        rows.nth(0).locator("input").fill("220440012351")
        page.get_by_role("button", name="Add an identifier").click()
        expect(rows).to_have_count(2)  # no page load: added in place
        assert page.evaluate("document.activeElement.name") == "identifier_scheme"
        rows.nth(1).locator("select").select_option("ru_inn")
        rows.nth(1).locator("input").fill("7707083893")
        page.get_by_role("button", name="Add an identifier").click()
        rows.nth(2).locator("input").fill("will be removed")
        rows.nth(2).get_by_role("button", name="Remove this identifier").click()
        expect(rows).to_have_count(2)
        page.get_by_role("button", name="Add entity").click()
        expect(page.locator(".message-success")).to_contain_text("added")
        context.close()
    from entities.models import Entity

    entity = Entity.objects.get(name="ТОО «Дала Микро»")
    assert sorted(entity.identifiers.values_list("scheme", "value")) == [
        ("kz_bin", "220440012351"),
        ("ru_inn", "7707083893"),
    ]
