"""A reporter captures a page and cites it, in a real browser with a real worker: the snapshot
page updates itself (htmx polling) from pending to done with screenshot and hashes."""

import os
import re

import pytest
from playwright.sync_api import expect

from entities.services import Scope, entity_create
from evidence.models import Citation, Snapshot
from tests.conftest import PASSWORD
from tests.factories import UserFactory, make_case

pytestmark = [pytest.mark.browser, pytest.mark.worker]
SHOTS = os.environ.get("CASEFILE_SCREENSHOTS")


def test_capture_a_page_and_cite_it(page, live_server, celery_worker, web):
    dana = UserFactory(username="dana")
    case = make_case(owner=dana, title="Chips via Almaty")
    company = entity_create(scope=Scope(investigation=case), name="ТОВ «Степ Агро Трейд»")
    base = live_server.url

    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill("dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{base}/cases/{case.public_id}/snapshots/")
    page.get_by_label("Page address").first.fill(web.url("/redirect/1"))
    page.get_by_role("button", name="Capture").click()
    # Pending at first; the page polls and reloads itself when the worker is done.
    expect(page.get_by_role("heading", name="Screenshot")).to_be_visible(timeout=60_000)
    snapshot = Snapshot.objects.get()
    assert snapshot.status == "done"
    expect(page.locator(".facts")).to_contain_text(snapshot.warc_sha256)
    expect(page.locator("img.screenshot")).to_be_visible()
    assert page.locator("img.screenshot").evaluate("img => img.naturalWidth") == 1280
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "20-snapshot.png"), full_page=True)

    # Cite it on the entity page.
    page.goto(f"{base}/cases/{case.public_id}/entities/{company.public_id}/")
    page.locator("#citations summary").click()
    page.locator("#citations select[name=evidence]").select_option(f"snapshot:{snapshot.public_id}")
    page.locator("#citations textarea[name=quote]").fill("Директор: Олена Коваленко")
    page.locator("#citations").get_by_role("button", name="Add citation").click()
    expect(page.locator(".message-success")).to_contain_text("Citation added")
    expect(page.locator("#citations")).to_contain_text("Директор: Олена Коваленко")
    page.locator("#citations").get_by_role("link", name=re.compile("Степ Агро Трейд")).click()
    expect(page.get_by_role("heading", name="Screenshot")).to_be_visible()
    assert Citation.objects.get().snapshot == snapshot
    assert page.js_errors == []
