"""A reporter's first minutes, in a real browser: log in, create a case file, add a colleague,
invite an address, filter the list (htmx), read the activity feed. An outsider finds nothing."""

import os
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CASEFILE_SCREENSHOTS")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def _login(page, base, username):
    page.goto(f"{base}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_reporter_creates_case_adds_member_and_outsider_sees_nothing(
    page, live_server, transactional_db
):
    UserFactory(username="dana", first_name="Dana")
    UserFactory(username="marat", first_name="Marat", email="marat@paper.example")
    UserFactory(username="charlie")
    base = live_server.url

    _login(page, base, "dana")
    expect(page.get_by_role("heading", name="My case files")).to_be_visible()
    _shot(page, "01-empty-list")

    page.get_by_role("link", name="New case file").first.click()
    page.get_by_role("button", name="Create case file").click()
    expect(page.locator(".field-error")).to_have_text("This field is required.")
    page.get_by_label("Title").fill("Chips via Almaty")
    page.get_by_label("Summary").fill("Microchips re-exported through Kazakhstan.")
    page.get_by_role("button", name="Create case file").click()
    expect(page.get_by_role("heading", name="Chips via Almaty")).to_be_visible()
    expect(page.locator(".message-success")).to_contain_text("You are its owner")
    case_url = page.url
    assert re.search(r"/cases/[0-9a-f-]{36}/$", case_url)
    _shot(page, "02-case-home")

    page.get_by_role("link", name="Members").click()
    page.get_by_label("Username or e-mail").fill("marat")
    page.locator("#id_role").select_option("editor")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".message-success")).to_contain_text("marat added")
    # An address is invited, whether or not someone has it: it joins at its owner's log-in.
    page.get_by_label("Username or e-mail").fill("aigerim@paper.example")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator(".message-success")).to_contain_text(
        "Invitation for aigerim@paper.example recorded"
    )
    expect(
        page.get_by_role("button", name="Cancel the invitation for aigerim@paper.example")
    ).to_be_visible()
    page.get_by_label("Role of dana").select_option("viewer")
    page.locator("form", has=page.get_by_label("Role of dana")).get_by_role(
        "button", name="Change"
    ).click()
    expect(page.locator(".message-error")).to_contain_text("at least one owner")
    _shot(page, "03-members")

    page.get_by_role("link", name="Activity").click()
    expect(page.locator(".feed-sentence").first).to_have_text(
        "Dana invited aigerim@paper.example as reporter"
    )
    expect(page.locator(".feed-sentence").nth(1)).to_have_text("Dana added Marat as editor")
    _shot(page, "04-activity")

    # The list filter swaps the table in place (htmx), without a full reload.
    page.get_by_role("link", name="My case files").first.click()
    expect(page).to_have_url(re.compile(r"/cases/$"))
    # htmx is a deferred script: let it process the page before typing into the filter.
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
    page.evaluate("window.__marker = 'same page'")
    page.get_by_placeholder("Filter by title or summary").fill("nothing like this")
    expect(page.locator("#case-list")).to_contain_text("No case file matches this filter")
    assert page.evaluate("window.__marker") == "same page"
    page.get_by_placeholder("Filter by title or summary").fill("almaty")
    expect(page.locator("#case-list")).to_contain_text("Chips via Almaty")
    assert page.js_errors == []

    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Log out").click()
    _login(page, base, "charlie")
    expect(page.locator("#case-list")).to_contain_text("not a member of any case file")
    response = page.goto(case_url)
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
