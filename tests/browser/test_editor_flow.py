"""An editor checks the claims, in a real browser: the queue, a claim beside its evidence (the
cited PDF page as an image and as text), verify one, dispute one with a mention; the reporter
finds the dispute in her inbox (the unread count in the header) and opens the claim."""

import os
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from playwright.sync_api import expect

from evidence.models import DocumentPage
from investigations.models import Claim, ClaimStatus
from investigations.services import claims
from investigations.services.timeline import event_create
from tests.conftest import PASSWORD
from tests.investigations.editorial import build_chips
from tests.url_world import one_page_pdf

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CASEFILE_SCREENSHOTS")
REASON = "the quantities match but dates are 40 days apart, not 14"


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"editor-{name}.png"), full_page=True)


def _login(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _world(alice):
    chips = build_chips(alice)
    extract = chips.extract
    extract.file = default_storage.save(
        f"test/{chips.case.public_id}.pdf", ContentFile(one_page_pdf())
    )
    extract.save()
    DocumentPage.objects.create(
        document=extract,
        investigation=chips.case,
        number=1,
        text="Handelsregister B — HRB 99999 HB — Geschäftsführer: Timur Hartmann",
    )
    chips.cite(link=chips.directorship)
    director = claims.claim_create(
        case=chips.case, target=chips.event("director"), actor=chips.dana, reviewer=chips.marat
    )
    pass_through = event_create(
        case=chips.case,
        start="2022-05",
        title="Pass-through: 2,598 in, 2,598 out within 14 days",
        actor=chips.dana,
    )
    chips.cite(event=pass_through)
    disputed = claims.claim_create(
        case=chips.case, target=pass_through, actor=chips.dana, reviewer=chips.marat
    )
    return chips, director, disputed


def test_editor_verifies_one_disputes_one_and_the_reporter_is_told(
    page, live_server, transactional_db, alice
):
    _chips, director, disputed = _world(alice)
    base = live_server.url

    _login(page, base, "marat")
    page.get_by_role("link", name="Review queue").first.click()
    rows = page.locator(".claims-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Timur Hartmann as director")  # oldest first
    _shot(page, "01-queue")

    rows.first.get_by_role("link").first.click()
    evidence = page.get_by_role("region", name="Evidence")
    expect(evidence).to_contain_text("Handelsregister extract")
    expect(evidence).to_contain_text("cited for its link")
    image = evidence.locator("img.evidence-image")
    expect(image).to_be_visible()
    page.wait_for_function("() => document.querySelector('img.evidence-image').naturalWidth > 0")
    evidence.get_by_text("Text of the page").click()
    expect(evidence.locator("pre")).to_contain_text("HRB 99999 HB")
    _shot(page, "02-claim-beside-evidence")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator(".message-success")).to_contain_text("Verified.")
    expect(page.locator(".claim-status").first).to_have_text(re.compile("Verified"))

    page.get_by_role("link", name="Review queue").first.click()
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").first.click()
    page.locator("summary", has_text="Dispute").click()
    page.get_by_label("What is wrong").fill(f"@charlie {REASON}")
    page.get_by_role("button", name="Dispute", exact=True).click()
    # Refused, next to what was typed (the form stays open with it).
    expect(page.locator(".field-error")).to_contain_text(
        "@charlie is not a member of this case file"
    )
    expect(page.get_by_label("What is wrong")).to_have_value(f"@charlie {REASON}")
    page.get_by_label("What is wrong").fill(f"@dana {REASON}")
    page.get_by_role("button", name="Dispute", exact=True).click()
    expect(page.locator(".message-success")).to_contain_text("Disputed")
    expect(page.locator(".claim-reason")).to_contain_text(REASON)
    _shot(page, "03-disputed")
    assert {c.pk: c.status for c in Claim.objects.all()} == {
        director.pk: ClaimStatus.VERIFIED,
        disputed.pk: ClaimStatus.DISPUTED,
    }

    page.locator(".usermenu summary").click()
    page.get_by_role("button", name="Log out").click()
    _login(page, base, "dana")
    inbox = page.locator("a.inboxlink")
    expect(inbox).to_have_attribute("aria-label", "Inbox, 2 unread")  # verified, disputed
    inbox.click()
    item = page.locator(".inbox-item", has_text="disputed")
    expect(item).to_contain_text("Marat")
    expect(item).to_contain_text(REASON)
    _shot(page, "04-inbox")
    item.get_by_role("button", name="Open").click()
    expect(page).to_have_url(re.compile(rf"/claims/{disputed.public_id}/$"))
    expect(page.locator(".claim-reason")).to_contain_text(REASON)
    expect(page.locator("a.inboxlink")).to_have_attribute("aria-label", "Inbox, 1 unread")
    assert page.js_errors == []
