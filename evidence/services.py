"""Writes for evidence: documents, snapshots, watches, citations. Tasks call these too."""

import datetime
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.utils import timezone

from entities.models import Entity, Link, Shipment
from investigations import jobs
from investigations.errors import DomainError
from investigations.models import Investigation, TimelineEvent

from . import storage, timeline_sources
from .detect import detect_file
from .extract import PAGE_BREAK
from .extract_child import extract_text_limited
from .models import Citation, Document, DocumentPage, Snapshot, Watch

logger = logging.getLogger(__name__)

# Unpaginated text is indexed in chunks of about this many characters ("pages" for search
# hits), and a longer page in parts of this size. PostgreSQL's limits on one tsvector: 1 MB of
# lexemes and positions ("string is too long for tsvector"), positions up to 16,383 (later
# ones count as 16,383, which blurs phrase search), 256 positions per lexeme. 20,000
# characters are at most 10,000 words and 80 KB of UTF-8, well within all three.
TEXT_CHUNK = 20_000
# Characters of a snapshot's text that go into its full-text vector.
SNAPSHOT_VECTOR_CHARS = 200_000


# --- Documents ------------------------------------------------------------------------------


@dataclass
class UploadResult:
    document: Document
    created: bool


def document_upload(
    *,
    investigation: Investigation,
    uploaded: UploadedFile,
    title: str = "",
    document_date: datetime.date | None = None,
    actor=None,
) -> UploadResult:
    """Store an uploaded file once per case (by SHA-256) and queue its text extraction."""
    sha256 = getattr(uploaded, "sha256", None)
    if sha256 is None:
        raise ValueError("uploads must come through evidence.uploads.HashingLimitedUploadHandler")
    if uploaded.size == 0:
        raise DomainError(
            f"“{uploaded.name}” is empty (0 bytes): there is nothing to store.", field="file"
        )
    existing = Document.objects.filter(investigation=investigation, sha256=sha256).first()
    if existing is not None:
        return UploadResult(existing, created=False)
    detected = detect_file(uploaded.temporary_file_path(), filename=uploaded.name)
    name = storage.store(f"documents/{investigation.public_id}/{sha256}", uploaded)
    try:
        with transaction.atomic():
            document = Document.objects.create(
                investigation=investigation,
                title=(title or uploaded.name)[:300],
                original_name=uploaded.name[:300],
                file=name,
                sha256=sha256,
                size=uploaded.size,
                mime=detected.mime,
                kind=detected.kind,
                type_label=detected.label[:200],
                document_date=document_date,
                uploaded_by=actor,
            )
            jobs.job_enqueue(document)
    except IntegrityError:
        # The same file was uploaded concurrently and won: keep the one row and its bytes.
        existing = Document.objects.filter(investigation=investigation, sha256=sha256).first()
        if existing is None:
            raise
        return UploadResult(existing, created=False)
    except Exception:
        if not Document.objects.filter(file=name).exists():
            storage.delete(name)  # nothing half-stored
        raise
    return UploadResult(document, created=True)


def _pages(text: str, page_count: int | None, kind: str) -> list[str]:
    """PDF pages; form-feed-separated pages of text files (pdftotext output, register
    extracts); otherwise chunks of TEXT_CHUNK characters."""
    if (kind == "pdf" and page_count) or (kind == "text" and PAGE_BREAK in text):
        return text.split(PAGE_BREAK)
    return _parts(text) or [""]


def _parts(text: str, size: int = TEXT_CHUNK) -> list[str]:
    """The text in pieces of at most `size` characters, cut at whitespace where there is some
    in the second half of a piece, so no word is split between two search vectors."""
    parts = []
    start = 0
    while len(text) - start > size:
        end = start + size
        cut = max(text.rfind(c, start + size // 2, end) for c in " \n\t")
        if cut <= start:
            cut = end  # one enormous "word": cut it anyway
        parts.append(text[start:cut])
        start = cut
    if start < len(text):
        parts.append(text[start:])
    return parts


def document_extract(*, document: Document) -> Document:
    """Extract text and page count, and index the pages for full-text search."""
    with storage.local_path(document.file) as path:
        from .detect import DetectedType

        detected = DetectedType(mime=document.mime, kind=document.kind, label=document.type_label)
        result = extract_text_limited(path, detected)
    if result.peak_memory_kb:
        logger.info(
            "extracted document %s (%s): %s characters, peak %s MB",
            document.pk,
            document.kind,
            len(result.text),
            result.peak_memory_kb // 1024,
        )
    pages = _pages(result.text, result.page_count, document.kind)
    with transaction.atomic():
        DocumentPage.objects.filter(document=document).delete()
        DocumentPage.objects.bulk_create(
            [
                DocumentPage(
                    document=document,
                    investigation_id=document.investigation_id,
                    number=number,
                    part=part,
                    text=text,
                )
                for number, page in enumerate(pages, start=1)
                for part, text in enumerate(_parts(page), start=1)
                if text.strip()
            ],
            batch_size=1000,
        )
        DocumentPage.objects.filter(document=document).update(
            search_vector=SearchVector("text", config="simple")
        )
        Document.objects.filter(pk=document.pk).update(
            page_count=result.page_count,
            extract_error=(result.error or "")[:500],
            text_truncated=result.truncated,
        )
    document.refresh_from_db()
    return document


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Delete a document (owners only; the view checks). Its name and hash stay in the log."""
    name = document.file
    document.delete()
    if not Document.objects.filter(file=name).exists():
        transaction.on_commit(lambda: storage.delete(name))


# --- Snapshots ------------------------------------------------------------------------------


def snapshot_request(
    *,
    investigation: Investigation,
    url: str,
    entity: Entity | None = None,
    actor=None,
    watch: Watch | None = None,
    claim_for: str = "",
) -> Snapshot:
    """Record a capture request (pending) and enqueue it after commit.

    A URL the SSRF guard refuses (private address, bad scheme, credentials) is a DomainError on
    the url field, with the reason: nothing is recorded, nothing fetched. Only a fetch that was
    tried and failed leaves a failed snapshot.

    With claim_for (a task id), the request is recorded already running under that claim and
    not enqueued: the caller captures it itself (`manage.py capture`), and no worker can take
    it (a crashed caller's job is taken over by the sweeper once stale).
    """
    url = (url or "").strip()
    if not url:
        raise DomainError("Give the address of the page to capture.", field="url")
    if entity is not None and entity.investigation_id not in (None, investigation.pk):
        raise DomainError("That entity is not part of this case file.", field="entity")
    normalised = _capturable(url)
    claimed = (
        {
            "status": jobs.JobStatus.RUNNING,
            "attempts": 1,
            "claimed_by": claim_for,
            "started_at": timezone.now(),
        }
        if claim_for
        else {}
    )
    with transaction.atomic():
        snapshot = Snapshot.objects.create(
            investigation=investigation,
            url=normalised[:2000],
            entity=entity,
            requested_by=actor,
            watch=watch,
            **claimed,
        )
        if not claim_for:
            jobs.job_enqueue(snapshot)
    return snapshot


def _capturable(url: str) -> str:
    """The URL as the guard normalises it, or a DomainError saying why it is refused."""
    from .ssrf import Refused, check_url

    try:
        return check_url(url)
    except Refused as exc:
        reason = exc.reason.removeprefix("refused: ")
        raise DomainError(f"This address cannot be captured: {reason}.", field="url") from exc


@transaction.atomic
def snapshot_retry(*, snapshot: Snapshot) -> Snapshot:
    """Queue a failed capture again: the same request, a fresh set of attempts.

    The row is the request, so trying again continues its one activity entry instead of adding
    a second; the URL is checked by the guard again (the allowed networks may have changed).
    """
    if snapshot.status != jobs.JobStatus.FAILED:
        raise DomainError("Only a failed capture can be tried again.")
    _capturable(snapshot.url)
    queued = Snapshot.objects.filter(pk=snapshot.pk, status=jobs.JobStatus.FAILED).update(
        status=jobs.JobStatus.PENDING,
        attempts=0,
        claimed_by="",
        error="",
        queued_at=timezone.now(),
        started_at=None,
        finished_at=None,
        sent_at=None,
    )
    if not queued:  # someone else retried it a moment ago
        raise DomainError("This capture is being tried again already.")
    jobs.job_enqueue(snapshot)
    snapshot.refresh_from_db()
    return snapshot


@transaction.atomic
def snapshot_delete(*, snapshot: Snapshot) -> None:
    names = [snapshot.warc_file, snapshot.screenshot_file]
    snapshot.delete()
    transaction.on_commit(lambda: [storage.delete(n) for n in names if n])


def _snapshot_vector(title: str, text: str):
    return SearchVector(Value(title), config="simple", weight="A") + SearchVector(
        Value(text[:SNAPSHOT_VECTOR_CHARS]), config="simple", weight="B"
    )


# --- Watches --------------------------------------------------------------------------------

FREQUENCIES = {Watch.Frequency.DAILY: timedelta(days=1), Watch.Frequency.WEEKLY: timedelta(days=7)}


def watch_create(
    *,
    investigation: Investigation,
    url: str,
    frequency: str,
    entity: Entity | None = None,
    actor=None,
) -> Watch:
    """Watch a page: it is captured now and again on schedule; changes become snapshots."""
    from .ssrf import Refused, check_url

    if frequency not in FREQUENCIES:
        raise DomainError("Choose daily or weekly.", field="frequency")
    try:
        url = check_url((url or "").strip())
    except Refused as exc:
        raise DomainError(f"This address cannot be watched: {exc.reason}", field="url") from exc
    if Watch.objects.filter(investigation=investigation, url=url).exists():
        raise DomainError("This page is watched already in this case file.", field="url")
    with transaction.atomic():
        watch = Watch.objects.create(
            investigation=investigation,
            url=url,
            frequency=frequency,
            entity=entity,
            created_by=actor,
            next_check_at=timezone.now(),
        )
        jobs.job_enqueue(watch)
    return watch


@transaction.atomic
def watch_stop(*, watch: Watch) -> Watch:
    watch.active = False
    watch.save()
    return watch


def watches_enqueue_due(*, now: datetime.datetime | None = None) -> int:
    """Beat: mark due watches pending and enqueue them (the row is the job)."""
    now = now or timezone.now()
    due = list(
        Watch.objects.filter(active=True, next_check_at__lte=now)
        .exclude(status=jobs.JobStatus.RUNNING)
        .values_list("pk", flat=True)[:500]
    )
    for pk in due:
        with transaction.atomic():
            updated = (
                Watch.objects.filter(pk=pk, active=True)
                .exclude(status=jobs.JobStatus.RUNNING)
                .update(
                    status=jobs.JobStatus.PENDING,
                    attempts=0,
                    claimed_by="",
                    queued_at=now,
                    sent_at=None,
                    next_check_at=now + timedelta(hours=1),
                )
            )
            if updated:
                jobs.job_enqueue(Watch(pk=pk))
    return len(due)


# --- Citations ------------------------------------------------------------------------------

CLAIM_FIELDS = ("entity", "link", "shipment", "event")


def citation_create(
    *,
    investigation: Investigation,
    claim: Entity | Link | Shipment | TimelineEvent,
    document: Document | None = None,
    snapshot: Snapshot | None = None,
    page: int | None = None,
    quote: str = "",
    note: str = "",
    actor=None,
) -> Citation:
    """Cite a document (page, quote) or a snapshot for an entity, a link, a shipment or a
    timeline event."""
    if (document is None) == (snapshot is None):
        raise DomainError("Cite one document or one snapshot.")
    evidence = document or snapshot
    if evidence.investigation_id != investigation.pk:
        raise DomainError("That evidence belongs to another case file.")
    if isinstance(claim, Entity):
        visible = claim.investigation_id == investigation.pk or (
            claim.dataset_id is not None and claim.pins.filter(investigation=investigation).exists()
        )
    else:
        visible = claim.investigation_id == investigation.pk
    if not visible:
        raise DomainError("That claim is not part of this case file.")
    if (
        page is not None
        and document is not None
        and document.page_count
        and (page > document.page_count)
    ):
        raise DomainError(
            f"The document has {document.page_count} pages, not {page}.", field="page"
        )
    if page is not None and page < 1:
        raise DomainError("Pages start at 1.", field="page")
    kind = {Entity: "entity", Link: "link", Shipment: "shipment", TimelineEvent: "event"}[
        type(claim)
    ]
    return Citation.objects.create(
        investigation=investigation,
        document=document,
        snapshot=snapshot,
        page=page,
        quote=quote.strip(),
        note=note.strip()[:500],
        created_by=actor,
        **{kind: claim},
    )


@transaction.atomic
def citation_delete(*, citation: Citation) -> None:
    citation.delete()


def _move_citations(*, survivor: Entity, duplicate: Entity) -> dict[str, int]:
    moved = 0
    for citation in Citation.objects.filter(entity=duplicate):
        citation.entity = survivor
        citation.save()
        moved += 1
    return {"citations moved": moved}


# --- Capturing ------------------------------------------------------------------------------


def fetch_for_snapshot(url: str):
    """Fetch a page with the snapshot limits (SSRF-guarded); raises FetchError or Refused.

    A 4xx page is what the server said and is kept; 429 and 5xx raise a transient FetchError
    so the task retries later.
    """
    from .fetch import fetch, status_error

    capture = fetch(
        url,
        max_bytes=settings.SNAPSHOT_MAX_BYTES,
        max_redirects=settings.SNAPSHOT_MAX_REDIRECTS,
        connect_timeout=settings.SNAPSHOT_CONNECT_TIMEOUT,
        read_timeout=settings.SNAPSHOT_READ_TIMEOUT,
        total_timeout=settings.SNAPSHOT_TOTAL_TIMEOUT,
        user_agent=settings.FETCH_USER_AGENT,
    )
    error = status_error(capture.final.status)
    if error is not None and error.transient:
        raise error
    return capture


def _header(headers: list[tuple[str, str]], name: str) -> str:
    for key, value in headers:
        if key.lower() == name:
            return value
    return ""


def _snapshot_text(final, content_type: str) -> tuple[str, str]:
    """Title and text of the captured body, for the snapshot page and full-text search."""
    import tempfile

    from .detect import detect_type
    from .extract import extract_html_text

    detected = detect_type(final.body[:8192])
    if detected.kind in ("html", "svg") or "html" in content_type:
        return extract_html_text(final.body, url=final.url)
    if detected.kind in ("pdf", "text", "csv", "docx", "spreadsheet"):
        with tempfile.NamedTemporaryFile(prefix="casefile-snap-") as tmp:
            tmp.write(final.body)
            tmp.flush()
            result = extract_text_limited(tmp.name, detected)
        return "", result.text
    return "", ""


def snapshot_capture(
    *, snapshot: Snapshot, capture=None, finish_for: str | None = None
) -> Snapshot:
    """Capture the page (or use a capture already fetched) into WARC, hashes, text, screenshot.

    The caller holds the job claim; with finish_for=<its task id> the same UPDATE that stores
    the results also marks the job done (one statement and commit fewer per capture). File
    names derive from the snapshot, so a re-run after a
    crash replaces its own half-written files instead of adding new ones.
    """
    import hashlib
    import tempfile

    from .warc import write_warc

    capture = capture or fetch_for_snapshot(snapshot.url)
    final = capture.final
    case = snapshot.investigation
    base = f"snapshots/{case.public_id}/{snapshot.public_id}"
    requester = snapshot.requested_by.get_username() if snapshot.requested_by else "system"
    with tempfile.TemporaryFile(prefix="casefile-warc-") as tmp:
        info = write_warc(
            capture,
            tmp,
            filename=f"{snapshot.public_id}.warc.gz",
            metadata={
                "requested_by": requester,
                "requested_at": snapshot.created_at.isoformat(),
                "snapshot_id": str(snapshot.public_id),
                "case_id": str(case.public_id),
            },
        )
        tmp.seek(0)
        storage.delete(base + ".warc.gz")  # our own leftover from a crashed attempt, if any
        warc_name = storage.store(base + ".warc.gz", tmp)

    content_type = _header(final.response_headers, "content-type")
    title, text = _snapshot_text(final, content_type)
    screenshot_name, screenshot_sha, screenshot_error, renderer = "", "", "", ""
    if settings.SNAPSHOT_SCREENSHOTS:
        from .screenshot import ScreenshotError, render_screenshot

        try:
            rendered = render_screenshot(url=final.url, body=final.body, content_type=content_type)
        except ScreenshotError as exc:
            rendered, screenshot_error = None, exc.reason
        if rendered:
            import io

            storage.delete(base + ".png")
            screenshot_name = storage.store(base + ".png", io.BytesIO(rendered.png))
            screenshot_sha = hashlib.sha256(rendered.png).hexdigest()
            renderer = rendered.renderer

    token, token_at, token_error = None, None, ""
    if settings.TSA_URL:
        from .ssrf import guarded_client
        from .tsa import TimestampError, request_timestamp

        try:
            with guarded_client() as client:
                stamp = request_timestamp(
                    sha256_hex=info.sha256, tsa_url=settings.TSA_URL, client=client
                )
            token, token_at = stamp.token_der, stamp.gen_time
        except (TimestampError, OSError) as exc:
            token_error = f"Trusted timestamp failed: {exc}"[:500]

    fields = {
        "captured_at": final.started_at,
        "final_url": final.url[:2000],
        "peer_ip": final.peer_ip or None,
        "http_status": final.status,
        "response_headers": [list(h) for h in final.response_headers],
        "content_type": content_type[:200],
        "title": title[:500],
        "text": text,
        "body_sha256": hashlib.sha256(final.body).hexdigest(),
        "body_size": len(final.body),
        "body_truncated": final.truncated,
        "warc_file": warc_name,
        "warc_sha256": info.sha256,
        "warc_size": info.size,
        "screenshot_file": screenshot_name,
        "screenshot_sha256": screenshot_sha,
        "screenshot_error": screenshot_error[:500],
        "screenshot_renderer": renderer[:300],
        "timestamp_token": token,
        "timestamp_at": token_at,
        "timestamp_error": token_error,
    }
    if finish_for is not None:
        fields.update(status=jobs.JobStatus.DONE, finished_at=timezone.now(), error="")
    # One UPDATE with the search vector computed from the same values (no read-back).
    rows = Snapshot.objects.filter(pk=snapshot.pk)
    if finish_for is not None:
        rows = rows.filter(status=jobs.JobStatus.RUNNING, claimed_by=finish_for)
    stored = rows.update(**fields, search_vector=_snapshot_vector(fields["title"], text))
    for key, value in fields.items():
        setattr(snapshot, key, value)
    if stored:
        timeline_sources.sync_snapshot(snapshot)
    return snapshot


def watch_check(*, watch: Watch, task_id: str) -> Snapshot | None:
    """Fetch a watched page; keep a new snapshot only when the body's hash changed."""
    import hashlib

    capture = fetch_for_snapshot(watch.url)
    body_hash = hashlib.sha256(capture.final.body).hexdigest()
    last = (
        Snapshot.objects.filter(watch=watch, status=jobs.JobStatus.DONE)
        .order_by("-captured_at", "-id")
        .first()
    )
    now = timezone.now()
    changed = last is None or last.body_sha256 != body_hash
    snapshot = None
    if changed:
        snapshot = Snapshot.objects.create(
            investigation_id=watch.investigation_id,
            url=watch.url,
            entity=watch.entity,
            watch=watch,
            requested_by=watch.created_by,
            status=jobs.JobStatus.RUNNING,
            attempts=1,
            claimed_by=task_id,
            started_at=now,
        )
        snapshot_capture(snapshot=snapshot, capture=capture, finish_for=task_id)
    Watch.objects.filter(pk=watch.pk).update(
        last_checked_at=now,
        next_check_at=now + FREQUENCIES[watch.frequency],
        checks=watch.checks + 1,
        changes_seen=watch.changes_seen + (1 if changed else 0),
    )
    return snapshot
