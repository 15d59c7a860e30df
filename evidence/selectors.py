"""Reads for evidence, and full-text search over my case files' documents and snapshots."""

from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, Q, QuerySet
from django.utils.html import escape
from django.utils.safestring import mark_safe

from investigations import access
from investigations.models import Investigation

from .models import Citation, Document, DocumentPage, Snapshot, Watch


def documents(*, case: Investigation) -> QuerySet[Document]:
    return (
        Document.objects.filter(investigation=case)
        .select_related("uploaded_by")
        .order_by("-created_at", "-id")
    )


def snapshots(*, case: Investigation) -> QuerySet[Snapshot]:
    return (
        Snapshot.objects.filter(investigation=case)
        .select_related("requested_by", "entity", "watch")
        .defer("text", "search_vector", "timestamp_token", "response_headers")
        .order_by("-created_at", "-id")
    )


def watches(*, case: Investigation) -> QuerySet[Watch]:
    return Watch.objects.filter(investigation=case).select_related("entity").order_by("url")


def snapshot_versions(*, snapshot: Snapshot) -> QuerySet[Snapshot]:
    """Other finished captures of the same URL in the same case, for the diff."""
    return (
        Snapshot.objects.filter(
            investigation_id=snapshot.investigation_id, url=snapshot.url, status="done"
        )
        .exclude(pk=snapshot.pk)
        .only("public_id", "captured_at", "body_sha256", "url")
        .order_by("-captured_at")
    )


def citations_of(**claim) -> QuerySet[Citation]:
    return (
        Citation.objects.filter(**claim)
        .select_related("document", "snapshot", "created_by")
        .order_by("created_at", "id")
    )


def citations_for_claims(
    *, case: Investigation, link_ids: list[int], shipment_ids: list[int]
) -> dict[tuple[str, int], list[Citation]]:
    """This case's citations of these links and shipments, by ("link" | "shipment", pk).

    Registered in entities.analysis.paths.CITATION_HOOKS: a path's hops show their evidence.
    Only the case's own citations, even of a dataset link that other case files cite too.
    """
    out: dict[tuple[str, int], list[Citation]] = {}
    if not link_ids and not shipment_ids:
        return out
    for citation in citations_of(investigation=case).filter(
        Q(link_id__in=link_ids) | Q(shipment_id__in=shipment_ids)
    ):
        key = ("link", citation.link_id) if citation.link_id else ("shipment", citation.shipment_id)
        out.setdefault(key, []).append(citation)
    return out


def citable_evidence(*, case: Investigation) -> list[tuple[str, str]]:
    """Choices for a citation form: documents and finished snapshots of the case."""
    docs = Document.objects.filter(investigation=case).only("public_id", "title").order_by("title")
    snaps = (
        Snapshot.objects.filter(investigation=case, status="done")
        .only("public_id", "url", "captured_at")
        .order_by("-captured_at")
    )
    return [(f"document:{d.public_id}", f"Document: {d.title}") for d in docs] + [
        (f"snapshot:{s.public_id}", f"Snapshot: {s.url} ({s.captured_at:%Y-%m-%d %H:%M})")
        for s in snaps
    ]


@dataclass
class TextHit:
    kind: str  # "document" or "snapshot"
    obj: Document | Snapshot
    case: Investigation
    page: int | None
    snippet: str
    rank: float


# ts_headline marks matches with these; the text is escaped before they become <mark> tags,
# because document text is untrusted (an uploaded HTML file's "<script>" must stay text).
START, STOP = "\u27e6", "\u27e7"
HEADLINE = {
    "start_sel": START,
    "stop_sel": STOP,
    "max_words": 30,
    "min_words": 12,
    "max_fragments": 2,
}


def snippet_html(snippet: str) -> str:
    return mark_safe(  # noqa: S308 (escaped first; only our own <mark> tags are added)
        escape(snippet).replace(START, "<mark>").replace(STOP, "</mark>")
    )


def search_text(*, user, query: str, limit: int = 20) -> list[TextHit]:
    """Full-text hits in documents (per page) and snapshots of my case files, best first.

    The case filter is part of the query: a member of no case gets no hits at all.
    """
    cases = access.visible_investigations(user).values("pk")
    q = SearchQuery(query, config="simple", search_type="websearch")
    pages = (
        DocumentPage.objects.filter(investigation__in=cases, search_vector=q)
        .annotate(
            rank=SearchRank(F("search_vector"), q),
            snippet=SearchHeadline("text", q, config="simple", **HEADLINE),
        )
        .select_related("document", "document__investigation")
        .order_by("-rank", "document_id", "number")[:limit]
    )
    snaps = (
        Snapshot.objects.filter(investigation__in=cases, search_vector=q)
        .annotate(
            rank=SearchRank(F("search_vector"), q),
            snippet=SearchHeadline("text", q, config="simple", **HEADLINE),
        )
        .select_related("investigation")
        .defer("text", "response_headers", "timestamp_token")
        .order_by("-rank")[:limit]
    )
    # A long page is indexed in parts: its best part stands for it.
    best: dict[tuple[int, int], DocumentPage] = {}
    for p in pages:
        best.setdefault((p.document_id, p.number), p)
    hits = [
        TextHit(
            "document",
            p.document,
            p.document.investigation,
            p.number,
            snippet_html(p.snippet),
            p.rank,
        )
        for p in best.values()
    ]
    hits += [
        TextHit("snapshot", s, s.investigation, None, snippet_html(s.snippet), s.rank)
        for s in snaps
    ]
    hits.sort(key=lambda h: -h.rank)
    return hits[:limit]
