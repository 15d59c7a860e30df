"""What evidence puts on the case timeline, and the evidence behind each claim.

Registered from EvidenceConfig.ready() with investigations/timeline.py and
investigations/subjects.py (investigations never imports this app):
- derived events: a finished capture ("evidence.snapshot:<pk>") and a dated document
  ("evidence.document:<pk>");
- the evidence provider: a claim's citations, whatever they cite. A claim on a derived event
  is supported by the citations of the event and of the row it comes from (a link's start is
  backed by the link's citations).
- a removed citation (deleted, or gone with its document or snapshot) tells the claims it
  supported (investigations.services.claims.citations_removed).
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from entities.models import Entity, Link, Shipment
from investigations import activity, subjects, timeline
from investigations.models import Claim, Investigation, TimelineEvent
from investigations.services import claims as claim_services
from investigations.subjects import EvidenceItem
from investigations.timeline import DerivedEvent, EventKind, EventSource

from .activity_text import page_label
from .models import Citation, Document, DocumentPage, Snapshot

CAPTURE = EventKind("capture", "Web captures", "snapshot")
DOCUMENT = EventKind("document", "Dated documents", "document")
# Citation columns by the model they cite for.
CLAIM_COLUMNS = {Entity: "entity", Link: "link", Shipment: "shipment", TimelineEvent: "event"}
TEXT_CHARS = 4000  # of a page or a snapshot shown beside a claim


def snapshot_events(snapshot: Snapshot) -> list[DerivedEvent]:
    if snapshot.captured_at is None or snapshot.status == "failed":
        return []
    status = f" ({snapshot.http_status})" if snapshot.http_status else ""
    captured = snapshot.captured_at
    if isinstance(captured, str):  # assigned as text, not read back yet
        captured = parse_datetime(captured)
    return [
        DerivedEvent(
            key=f"evidence.snapshot:{snapshot.pk}",
            kind=CAPTURE.key,
            start=timezone.localtime(captured).date().isoformat(),
            title=f"Captured {page_label(snapshot.final_url or snapshot.url)}{status}",
            entity_ids=[snapshot.entity_id] if snapshot.entity_id else [],
            source=snapshot,
        )
    ]


def document_events(document: Document) -> list[DerivedEvent]:
    if document.document_date is None:
        return []
    return [
        DerivedEvent(
            key=f"evidence.document:{document.pk}",
            kind=DOCUMENT.key,
            start=document.document_date.isoformat(),
            title=f"Dated document: {document.title}",
            source=document,
            source_field="document_date",
        )
    ]


def sync_snapshot(snapshot: Snapshot) -> None:
    """A capture finished (written with an UPDATE, so no signal): put it on the timeline."""
    timeline.sync(
        snapshot.investigation_id, f"evidence.snapshot:{snapshot.pk}", snapshot_events(snapshot)
    )


def events_for_case(case: Investigation) -> Iterable[DerivedEvent]:
    for snapshot in Snapshot.objects.filter(investigation=case, captured_at__isnull=False).only(
        "pk", "url", "final_url", "http_status", "captured_at", "entity_id", "status"
    ):
        yield from snapshot_events(snapshot)
    for document in Document.objects.filter(investigation=case, document_date__isnull=False).only(
        "pk", "title", "document_date"
    ):
        yield from document_events(document)


def _on_save(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    if isinstance(instance, Snapshot):
        sync_snapshot(instance)
    elif isinstance(instance, Document):
        timeline.sync(
            instance.investigation_id, f"evidence.document:{instance.pk}", document_events(instance)
        )


def _on_delete(sender, instance, **kwargs) -> None:
    if isinstance(instance, Snapshot):
        timeline.remove(instance.investigation_id, f"evidence.snapshot:{instance.pk}")
    elif isinstance(instance, Document):
        timeline.remove(instance.investigation_id, f"evidence.document:{instance.pk}")
    elif isinstance(instance, Citation):
        if activity.deleting_case(instance.investigation_id):
            return  # the case file itself is going, claims and all
        claim_services.citations_removed(
            case_id=instance.investigation_id, targets=citation_targets(instance)
        )


# --- The evidence of claims -----------------------------------------------------------------


def _wanted(claims: list[Claim]) -> dict[tuple[str, int], list[tuple[int, str]]]:
    """(citation column, pk) -> [(claim pk, what the citation is for)]."""
    wanted: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for claim in claims:
        model = claim.target_type.model_class()
        column = CLAIM_COLUMNS.get(model)
        if column is None:
            continue
        wanted[(column, claim.target_id)].append((claim.pk, ""))
        if model is TimelineEvent:
            event = claim.target
            source = event.source_type.model_class() if event and event.source_type_id else None
            if source in CLAIM_COLUMNS:
                noun = f"its {source._meta.verbose_name}"
                wanted[(CLAIM_COLUMNS[source], event.source_id)].append((claim.pk, noun))
    return wanted


def _item(citation: Citation, case: Investigation, cited_for: str) -> EvidenceItem:
    kwargs = {"case_id": case.public_id}
    if citation.document_id:
        doc = citation.document
        page = citation.page
        image = None
        if page and (doc.kind == "pdf" or doc.mime.startswith("image/")):
            image = reverse(
                "evidence:document-page-image",
                kwargs={**kwargs, "document_id": doc.public_id, "number": page},
            )
        return EvidenceItem(
            kind="document",
            title=doc.title,
            url=reverse("evidence:document", kwargs={**kwargs, "document_id": doc.public_id}),
            sha256=doc.sha256,
            hash_label="SHA-256 of the file",
            citation_id=citation.public_id,
            page=page,
            quote=citation.quote,
            note=citation.note,
            cited_for=cited_for,
            when=doc.document_date or doc.created_at,
            image_url=image,
            extra={"Type": doc.type_label, "File": doc.original_name},
        )
    snap = citation.snapshot
    return EvidenceItem(
        kind="snapshot",
        title=page_label(snap.final_url or snap.url),
        url=reverse("evidence:snapshot", kwargs={**kwargs, "snapshot_id": snap.public_id}),
        sha256=snap.warc_sha256,
        hash_label="SHA-256 of the WARC",
        citation_id=citation.public_id,
        quote=citation.quote,
        note=citation.note,
        cited_for=cited_for,
        when=snap.captured_at,
        timestamp_at=snap.timestamp_at,
        timestamp_error=snap.timestamp_error,
        image_url=(
            reverse(
                "evidence:snapshot-screenshot", kwargs={**kwargs, "snapshot_id": snap.public_id}
            )
            if snap.screenshot_file
            else None
        ),
        extra={
            k: v
            for k, v in {
                "URL": snap.final_url or snap.url,
                "HTTP status": str(snap.http_status or ""),
                "SHA-256 of the body": snap.body_sha256,
                "SHA-256 of the screenshot": snap.screenshot_sha256,
            }.items()
            if v
        },
    )


def evidence_of_claims(
    claims: list[Claim], case: Investigation, detail: bool
) -> dict[int, list[EvidenceItem]]:
    """Every citation of these claims (one query; with detail, one more for page texts)."""
    wanted = _wanted(claims)
    if not wanted:
        return {}
    by_column: dict[str, list[int]] = defaultdict(list)
    for column, pk in wanted:
        by_column[column].append(pk)
    q = Q(pk__in=[])
    for column, pks in by_column.items():
        q |= Q(**{f"{column}_id__in": pks})
    deferred = ["snapshot__text", "snapshot__search_vector", "snapshot__response_headers"]
    if not detail:
        deferred.append("snapshot__timestamp_token")
    citations = list(
        Citation.objects.filter(q, investigation=case)
        .select_related("document", "snapshot")
        .defer(*deferred)
        .order_by("created_at", "id")
    )
    texts = _page_texts(citations) if detail else {}
    found: dict[int, list[EvidenceItem]] = defaultdict(list)
    for citation in citations:
        for column in CLAIM_COLUMNS.values():
            pk = getattr(citation, f"{column}_id")
            for claim_pk, cited_for in wanted.get((column, pk), []) if pk else []:
                item = _item(citation, case, cited_for)
                item.text = texts.get(citation.pk, "")
                found[claim_pk].append(item)
    return found


def _page_texts(citations: list[Citation]) -> dict[int, str]:
    """The cited page's text of each document citation, and a snapshot's text (one query)."""
    pairs = {(c.document_id, c.page or 1) for c in citations if c.document_id}
    q = Q(pk__in=[])
    for document_id, number in pairs:
        q |= Q(document_id=document_id, number=number)
    pages = {
        (p.document_id, p.number): p.text
        for p in DocumentPage.objects.filter(q).only("document_id", "number", "text")
    }
    snapshot_ids = [c.snapshot_id for c in citations if c.snapshot_id]
    snap_texts = (
        dict(Snapshot.objects.filter(pk__in=snapshot_ids).values_list("pk", "text"))
        if snapshot_ids
        else {}
    )
    texts = {}
    for c in citations:
        text = (
            pages.get((c.document_id, c.page or 1), "")
            if c.document_id
            else snap_texts.get(c.snapshot_id, "")
        )
        texts[c.pk] = text[:TEXT_CHARS] + ("…" if len(text) > TEXT_CHARS else "")
    return texts


def register() -> None:
    timeline.register_source(EventSource("evidence", (CAPTURE, DOCUMENT), events_for_case))
    subjects.register_evidence(evidence_of_claims)
    for model in (Snapshot, Document):
        post_save.connect(_on_save, sender=model, dispatch_uid=f"timeline_save_{model.__name__}")
    for model in (Snapshot, Document, Citation):
        post_delete.connect(
            _on_delete, sender=model, dispatch_uid=f"timeline_delete_{model.__name__}"
        )


def citation_targets(citation: Citation) -> list[tuple[type, Any]]:
    """The rows a citation supports, as (model, pk)."""
    return [
        (model, getattr(citation, f"{column}_id"))
        for model, column in CLAIM_COLUMNS.items()
        if getattr(citation, f"{column}_id")
    ]
