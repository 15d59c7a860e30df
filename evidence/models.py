"""Evidence: uploaded documents, web snapshots (WARC + screenshot), page watches, citations.

Stored bytes never change: files are written once under a name derived from the row, their
SHA-256 is recorded at write time, and `manage.py verify_evidence` re-hashes them. Deleting a
piece of evidence (owners only) leaves its name and hash in the activity log.
"""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q

from entities.models import Entity, Link, Shipment
from investigations.jobs import JobModel
from investigations.models import CaseOwnedModel, TimelineEvent


class Document(CaseOwnedModel, JobModel):
    """An uploaded file. The job fields track text extraction (evidence.extract_document)."""

    task_name = "evidence.extract_document"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    title = models.CharField(max_length=300)
    original_name = models.CharField(max_length=300)
    # Storage name (under STORAGES["default"]); written once, never overwritten.
    file = models.CharField(max_length=300)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    mime = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)
    type_label = models.CharField(max_length=200)
    page_count = models.PositiveIntegerField(null=True, blank=True)
    # When the document itself is dated (a register extract of 2022-04-07), if known.
    document_date = models.DateField(null=True, blank=True)
    extract_error = models.CharField(max_length=500, blank=True)
    text_truncated = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The same file twice in one case file is recognised by its hash, stored once.
            models.UniqueConstraint(
                fields=["investigation", "sha256"], name="document_once_per_case"
            ),
        ]
        indexes = [
            # The case's document list, newest first.
            models.Index(fields=["investigation", "-created_at"], name="document_case_new_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class DocumentPage(models.Model):
    """Extracted text of one page (or one chunk of an unpaginated file), full-text indexed.

    Per page, so a hit can say "page 2"; a page longer than one tsvector holds (1 MB of
    lexemes and positions, positions up to 16,383) is indexed in parts, one row each.
    """

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pages")
    # Copied from the document so a search filters by case file without a join.
    investigation = models.ForeignKey(
        "investigations.Investigation", on_delete=models.CASCADE, related_name="+"
    )
    number = models.PositiveIntegerField()
    # 1 for the page's start; 2, 3, ... for the rest of a page too long for one vector.
    part = models.PositiveSmallIntegerField(default=1)
    text = models.TextField()
    search_vector = SearchVectorField(null=True)

    class Meta:
        ordering = ["document", "number", "part"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number", "part"], name="document_page_part_once"
            ),
        ]
        indexes = [
            # Full-text search over my case files' documents.
            GinIndex(fields=["search_vector"], name="document_page_fts"),
            models.Index(fields=["investigation"], name="document_page_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.document} p. {self.number}"


class Watch(CaseOwnedModel, JobModel):
    """A URL re-captured on a schedule; a new snapshot is kept only when the body changes.

    The job fields track the current check (evidence.check_watch); beat enqueues due watches.
    """

    task_name = "evidence.check_watch"

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.URLField(max_length=2000)
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.SET_NULL, related_name="watches"
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    active = models.BooleanField(default=True)
    next_check_at = models.DateTimeField()
    last_checked_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0)
    changes_seen = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["investigation", "url"], name="watch_once_per_case"),
        ]
        indexes = [
            # Beat: active watches that are due.
            models.Index(fields=["active", "next_check_at"], name="watch_due_idx"),
        ]

    def __str__(self) -> str:
        return f"watch {self.url}"


class Snapshot(CaseOwnedModel, JobModel):
    """A capture of a URL at a moment: WARC, hashes, status, headers, text, screenshot."""

    task_name = "evidence.capture_snapshot"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.URLField(max_length=2000)
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    watch = models.ForeignKey(
        Watch, null=True, blank=True, on_delete=models.SET_NULL, related_name="snapshots"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Filled by the capture, once.
    captured_at = models.DateTimeField(null=True, blank=True)
    final_url = models.URLField(max_length=2000, blank=True)
    peer_ip = models.GenericIPAddressField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=list, blank=True)
    content_type = models.CharField(max_length=200, blank=True)
    title = models.CharField(max_length=500, blank=True)
    text = models.TextField(blank=True)
    body_sha256 = models.CharField(max_length=64, blank=True)
    body_size = models.BigIntegerField(null=True, blank=True)
    body_truncated = models.BooleanField(default=False)
    warc_file = models.CharField(max_length=300, blank=True)
    warc_sha256 = models.CharField(max_length=64, blank=True)
    warc_size = models.BigIntegerField(null=True, blank=True)
    screenshot_file = models.CharField(max_length=300, blank=True)
    screenshot_sha256 = models.CharField(max_length=64, blank=True)
    screenshot_error = models.CharField(max_length=500, blank=True)
    # How the screenshot was rendered (user, sandbox or not): part of its provenance.
    screenshot_renderer = models.CharField(max_length=300, blank=True)
    # RFC 3161 timestamp of the WARC's hash, when a TSA is configured.
    timestamp_token = models.BinaryField(null=True, blank=True)
    timestamp_at = models.DateTimeField(null=True, blank=True)
    timestamp_error = models.CharField(max_length=500, blank=True)
    search_vector = SearchVectorField(null=True)

    class Meta:
        indexes = [
            # The case's snapshot list, newest first; captures of one URL for the diff.
            models.Index(fields=["investigation", "-created_at"], name="snapshot_case_new_idx"),
            models.Index(fields=["investigation", "url"], name="snapshot_case_url_idx"),
            GinIndex(fields=["search_vector"], name="snapshot_fts"),
        ]

    def __str__(self) -> str:
        return f"snapshot of {self.url}"


class Citation(CaseOwnedModel):
    """Ties a claim (an entity, a link, a shipment or a timeline event) to a piece of evidence,
    with page/quote."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    snapshot = models.ForeignKey(
        Snapshot, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    page = models.PositiveIntegerField(null=True, blank=True)
    quote = models.TextField(blank=True)
    entity = models.ForeignKey(
        Entity, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    link = models.ForeignKey(
        Link, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    # A timeline event as the claim (written, or derived from the case's data).
    event = models.ForeignKey(
        TimelineEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="citations"
    )
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(document__isnull=False, snapshot__isnull=True)
                | Q(document__isnull=True, snapshot__isnull=False),
                name="citation_one_piece_of_evidence",
            ),
            # Exactly one claim: the number of claim columns set is 1.
            models.CheckConstraint(
                condition=Q(
                    entity__isnull=False,
                    link__isnull=True,
                    shipment__isnull=True,
                    event__isnull=True,
                )
                | Q(
                    entity__isnull=True,
                    link__isnull=False,
                    shipment__isnull=True,
                    event__isnull=True,
                )
                | Q(
                    entity__isnull=True,
                    link__isnull=True,
                    shipment__isnull=False,
                    event__isnull=True,
                )
                | Q(
                    entity__isnull=True,
                    link__isnull=True,
                    shipment__isnull=True,
                    event__isnull=False,
                ),
                name="citation_one_claim",
            ),
            models.CheckConstraint(
                condition=Q(page__isnull=True) | Q(page__gte=1), name="citation_page_positive"
            ),
        ]

    def __str__(self) -> str:
        evidence = self.document or self.snapshot
        return f"cites {evidence}" + (f" p. {self.page}" if self.page else "")
