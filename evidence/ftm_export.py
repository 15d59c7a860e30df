"""Evidence in a case's FollowTheMoney export: Document, HyperText and Documentation lines.

FtM's contentHash is a SHA-1 (Aleph's archive key); our hashes are SHA-256, so they travel in
`summary`. Citations export as Documentation (document -> entity). FtM's Documentation points
at a Thing, which links and shipments are not, so only citations of entities are exported.
"""

from collections.abc import Iterator

from entities.ftm import ftm_id_of, make_line
from investigations.models import Investigation

from .models import Citation, Document, Snapshot

BODY_TEXT_CHARS = 100_000


def _iso(moment) -> list[str]:
    return [moment.strftime("%Y-%m-%dT%H:%M:%S")] if moment else []


def document_id(document: Document) -> str:
    return f"casefile-{document.public_id}"


def snapshot_id(snapshot: Snapshot) -> str:
    return f"casefile-{snapshot.public_id}"


def case_evidence_lines(case: Investigation) -> Iterator[str]:
    for doc in Document.objects.filter(investigation=case).order_by("id").iterator(chunk_size=500):
        yield make_line(
            document_id(doc),
            "Document",
            {
                "title": [doc.title],
                "fileName": [doc.original_name],
                "fileSize": [str(doc.size)],
                "mimeType": [doc.mime],
                "date": [doc.document_date.isoformat()] if doc.document_date else [],
                "retrievedAt": _iso(doc.created_at),
                "summary": [f"SHA-256 {doc.sha256}"],
            },
        )
    for snap in (
        Snapshot.objects.filter(investigation=case, status="done")
        .order_by("id")
        .iterator(chunk_size=200)
    ):
        yield make_line(
            snapshot_id(snap),
            "HyperText",
            {
                "title": [snap.title] if snap.title else [],
                "sourceUrl": [snap.final_url or snap.url],
                "retrievedAt": _iso(snap.captured_at),
                "mimeType": [snap.content_type.split(";")[0].strip()] if snap.content_type else [],
                "summary": [
                    f"SHA-256 of the WARC {snap.warc_sha256}; of the body {snap.body_sha256}"
                ],
                "bodyText": [snap.text[:BODY_TEXT_CHARS]] if snap.text else [],
            },
        )
    citations = (
        Citation.objects.filter(investigation=case, entity__isnull=False)
        .select_related("document", "snapshot", "entity")
        .order_by("id")
    )
    for cite in citations.iterator(chunk_size=500):
        evidence = document_id(cite.document) if cite.document else snapshot_id(cite.snapshot)
        role = f"cited, page {cite.page}" if cite.page else "cited"
        yield make_line(
            f"casefile-{cite.public_id}",
            "Documentation",
            {
                "document": [evidence],
                "entity": [ftm_id_of(cite.entity)],
                "role": [role],
                "summary": [cite.quote] if cite.quote else [],
                "description": [cite.note] if cite.note else [],
            },
        )
