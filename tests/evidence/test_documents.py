"""Documents: streaming upload with a limit, hashing, dedupe, type by content, extraction,
search, safe downloads, deletion, integrity."""

import hashlib
import io
from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from evidence import services
from evidence.models import Document, DocumentPage
from investigations import jobs
from investigations.models import ActivityEntry
from tests.factories import make_case

HTML_BEHIND_PNG = (
    b"\x89PNG\r\n\x1a\n<html><body><script>alert(document.cookie)</script></body></html>"
)


def _upload(client, case, name, content, follow=False, **extra):
    data = io.BytesIO(content)
    data.name = name
    return client.post(
        reverse("evidence:documents", kwargs={"case_id": case.public_id}),
        {"file": data, **extra},
        follow=follow,
    )


def _extract_all(case):
    """What the extract_document task does, in-process."""
    for doc in Document.objects.filter(investigation=case, status="pending"):
        claimed = jobs.job_claim(Document, doc.pk, task_id="test")
        services.document_extract(document=claimed)
        jobs.job_finish(claimed, task_id="test")


def test_upload_hashes_detects_by_content_and_dedupes(case, alice_client):
    content = b"Director: Timur Hartmann\nFounded 7 April 2022 in Almaty.\n"
    response = _upload(alice_client, case, "register.pdf", content, title="Register note")
    doc = Document.objects.get()
    assert response.status_code == 302
    assert doc.sha256 == hashlib.sha256(content).hexdigest()
    assert (doc.kind, doc.size, doc.original_name) == ("text", len(content), "register.pdf")
    assert default_storage.open(doc.file).read() == content
    again = _upload(alice_client, case, "copy.txt", content, follow=True)
    assert "already in the case file" in again.content.decode()
    assert Document.objects.count() == 1


def test_same_file_in_two_cases_is_two_documents(case, alice, alice_client):
    other = make_case(owner=alice, title="Other")
    _upload(alice_client, case, "a.txt", b"same bytes")
    _upload(alice_client, other, "a.txt", b"same bytes")
    assert Document.objects.count() == 2


def test_zero_byte_file_is_refused_clearly(case, alice_client):
    response = _upload(alice_client, case, "empty.pdf", b"")
    assert (
        "is empty" in response.content.decode()
        or "submitted file is empty" in response.content.decode()
    )
    assert not Document.objects.exists()


def test_file_over_the_limit_is_refused_and_nothing_is_stored(case, alice_client, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    response = _upload(alice_client, case, "big.bin", b"x" * 5000)
    assert response.status_code == 413
    assert "larger than the" in response.content.decode()
    assert not Document.objects.exists()


def test_html_with_a_png_header_is_html_and_only_ever_downloaded(case, alice_client):
    _upload(alice_client, case, "photo.png", HTML_BEHIND_PNG)
    doc = Document.objects.get()
    assert doc.kind == "html"
    url = reverse(
        "evidence:document-download",
        kwargs={"case_id": case.public_id, "document_id": doc.public_id},
    )
    response = alice_client.get(url)
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox")
    assert b"".join(response.streaming_content) == HTML_BEHIND_PNG


def test_corrupt_pdf_is_stored_and_the_error_shown(case, alice_client):
    _upload(alice_client, case, "broken.pdf", b"%PDF-1.7\n garbage, not a pdf")
    _extract_all(case)
    doc = Document.objects.get()
    assert doc.kind == "pdf"
    assert doc.extract_error
    page = alice_client.get(
        reverse(
            "evidence:document", kwargs={"case_id": case.public_id, "document_id": doc.public_id}
        )
    ).content.decode()
    assert doc.extract_error[:20] in page


def test_extracted_text_is_searchable_with_highlights_in_my_cases_only(
    case, alice, charlie, alice_client, charlie_client
):
    text = "Договор поставки микросхем.\nTOO Dala Micro will re-export the chips to Vektor."
    _upload(alice_client, case, "contract.txt", text.encode())
    _upload(
        alice_client,
        case,
        "xss.html",
        b"<html><body><p>Vektor <script>alert(1)</script></p></body></html>",
    )
    _extract_all(case)
    assert DocumentPage.objects.filter(document__investigation=case).count() == 2
    page = alice_client.get(reverse("search"), {"q": "микросхем"}).content.decode()
    assert "contract.txt" in page and "<mark>микросхем</mark>" in page
    page = alice_client.get(reverse("search"), {"q": "Vektor"}).content.decode()
    assert "<script>alert(1)" not in page  # snippets are escaped
    assert "contract.txt" not in charlie_client.get(reverse("search"), {"q": "Vektor"}).text


def test_deleting_is_owner_only_and_leaves_hash_and_name_in_the_log(case, alice_client, bob_client):
    _upload(alice_client, case, "ledger.txt", b"ledger 2022")
    doc = Document.objects.get()
    url = reverse(
        "evidence:document-delete", kwargs={"case_id": case.public_id, "document_id": doc.public_id}
    )
    assert bob_client.post(url).status_code == 403
    alice_client.post(url)
    assert not Document.objects.exists()
    entry = ActivityEntry.objects.get(
        investigation=case, action="deleted", content_type__model="document"
    )
    assert entry.actor_name == "alice"
    assert entry.changes["sha256"]["from"] == doc.sha256
    assert entry.changes["title"]["from"] == "ledger.txt"


def test_verify_evidence_finds_a_changed_file(case, alice_client):
    _upload(alice_client, case, "a.txt", b"original bytes")
    out = StringIO()
    call_command("verify_evidence", stdout=out)
    assert "1 files checked, 0 mismatched" in out.getvalue()
    doc = Document.objects.get()
    with open(default_storage.path(doc.file), "wb") as fh:
        fh.write(b"tampered bytes")
    out = StringIO()
    with pytest.raises(CommandError, match="1 mismatched"):
        call_command("verify_evidence", stdout=out)
    assert "MISMATCH" in out.getvalue() and doc.sha256 in out.getvalue()


def test_document_list_query_count(case, alice_client, django_assert_num_queries):
    for n in range(3):
        _upload(alice_client, case, f"d{n}.txt", f"doc {n}".encode())
    url = reverse("evidence:documents", kwargs={"case_id": case.public_id})
    # session, user, case with role, count, page of documents with uploader
    with django_assert_num_queries(5):
        alice_client.get(url)
    for n in range(3, 8):
        _upload(alice_client, case, f"d{n}.txt", f"doc {n}".encode())
    with django_assert_num_queries(5):
        alice_client.get(url)


@pytest.mark.worker
def test_upload_is_extracted_by_a_real_worker(celery_worker, case, alice_client):
    _upload(alice_client, case, "memo.txt", "Служебная записка о поставке.".encode())
    doc = celery_worker.wait_for(
        lambda: Document.objects.filter(investigation=case, status="done").first()
    )
    assert DocumentPage.objects.get(document=doc).text.startswith("Служебная записка")


def test_declared_oversize_body_is_refused_before_it_is_read(case, alice_client, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    url = reverse("evidence:documents", kwargs={"case_id": case.public_id})
    response = alice_client.generic(
        "POST",
        url,
        data=b"x" * 10,
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "The upload is larger than the" in response.content.decode()
    assert not Document.objects.exists()


def _unique_words(count: int) -> list[str]:
    """`count` different 8-letter words, the same every run."""
    import random
    import string

    rnd = random.Random(10)  # noqa: S311 (test data, not secrets)
    words: dict[str, None] = {}
    while len(words) < count:
        words["".join(rnd.choices(string.ascii_lowercase, k=8))] = None
    return list(words)


def _page_of(alice, word: str) -> list[int | None]:
    from evidence.selectors import search_text

    return [hit.page for hit in search_text(user=alice, query=word)]


def test_item6_a_long_page_of_unique_words_is_indexed_and_every_part_is_found(
    case, alice, alice_client
):
    """A 1.8 MB page of 200,000 different words is past what one tsvector holds (1 MB):
    extraction failed with "string is too long for tsvector" and the job stayed running."""
    words = _unique_words(200_000)
    text = "Cover page\f" + " ".join(words)  # pdftotext output: pages split by form feeds
    assert len(text.encode()) > 1_800_000
    _upload(alice_client, case, "register-dump.txt", text.encode())
    _extract_all(case)
    document = Document.objects.get()
    assert document.status == jobs.JobStatus.DONE, document.error
    for word in (words[0], words[100_000], words[-1]):
        assert _page_of(alice, word) == [2], word
    assert _page_of(alice, "cover") == [1]
    # Search hits stay one per page however the page is indexed.
    assert _page_of(alice, f"{words[5]} OR {words[150_000]}") == [2]


def test_item6_words_across_an_indexing_boundary_are_found(case, alice, alice_client):
    # Unpaginated text is indexed in parts of about 20,000 characters; no word is cut in two.
    words = _unique_words(6_000)
    _upload(alice_client, case, "words.txt", " ".join(words).encode())
    _extract_all(case)
    straddling = [w for i, w in enumerate(words) if (i * 9) // 20_000 != (i * 9 + 7) // 20_000]
    assert straddling
    for word in straddling:
        assert _page_of(alice, word), word


def test_item9_upload_while_redis_is_down_says_extraction_waits_for_the_queue(
    case, alice_client, broker_down, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(alice_client, case, "memo.txt", b"Memo", follow=True)
    document = Document.objects.get()
    assert (document.status, document.sent_at) == (jobs.JobStatus.PENDING, None)
    page = response.content.decode()
    assert "waiting for the queue" in page and "being extracted" not in page
    listing = alice_client.get(reverse("evidence:documents", kwargs={"case_id": case.public_id}))
    assert "Waiting for the queue" in listing.content.decode()
