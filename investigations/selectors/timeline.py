"""Reads for the case timeline: one indexed, paginated query per page, whatever its size."""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import F, FilteredRelation, Q, QuerySet

from .. import timeline
from ..models import Investigation, TimelineEvent

PAGE_SIZE = 100
# Review statuses the timeline filters by: a claim's, or "any claim".
ANY_CLAIM = "claims"


def timeline_events(
    *,
    case: Investigation,
    entity_id: int | None = None,
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    status: str = "",
) -> QuerySet[TimelineEvent]:
    """The case's events in date order, each with its claim's status and id (if it is one).

    Filtered by entity involved (GIN on entity_ids), kind, days it touches, review status.
    """
    # A LEFT JOIN on the event's claim (at most one: claim_once_per_target), so a status filter
    # can start from the claims and the page reads the status with no subquery per row.
    qs = (
        TimelineEvent.objects.filter(investigation=case)
        .annotate(claim=FilteredRelation("claims", condition=Q(claims__field="")))
        .annotate(claim_status=F("claim__status"), claim_uid=F("claim__public_id"))
    )
    if entity_id:
        qs = qs.filter(entity_ids__contains=[entity_id])
    if kind:
        qs = qs.filter(kind=kind)
    if date_from:
        qs = qs.filter(ends_on__gte=date_from)
    if date_to:
        qs = qs.filter(starts_on__lte=date_to)
    if status == ANY_CLAIM:
        qs = qs.filter(claim_status__isnull=False)
    elif status:
        qs = qs.filter(claim_status=status)
    return qs.order_by("starts_on", "id")


@dataclass
class EventView:
    event: TimelineEvent
    kind_label: str
    icon: str
    entities: list[timeline.EntityRef] = field(default_factory=list)


def timeline_page(
    qs: QuerySet[TimelineEvent],
    *,
    case: Investigation,
    page: str | int | None,
    size: int = PAGE_SIZE,
) -> tuple[Page, list[EventView]]:
    """One page of events (a count and a page query) with their entities named (one query)."""
    found = Paginator(qs, size).get_page(page)
    events = list(found.object_list)
    refs = timeline.entity_refs({pk for e in events for pk in e.entity_ids}, case)
    kinds = timeline.kind_labels()
    views = []
    for event in events:
        kind = kinds.get(event.kind, timeline.WRITTEN_KIND)
        views.append(
            EventView(
                event=event,
                kind_label=kind.label,
                icon=kind.icon,
                entities=[refs[pk] for pk in event.entity_ids if pk in refs],
            )
        )
    return found, views


def timeline_rows(qs: QuerySet[TimelineEvent], *, case: Investigation, chunk: int = 2000):
    """Every event for the CSV export, in chunks (entity names per chunk)."""
    batch: list[TimelineEvent] = []
    for event in qs.iterator(chunk_size=chunk):
        batch.append(event)
        if len(batch) >= chunk:
            yield from _named(batch, case)
            batch = []
    yield from _named(batch, case)


def _named(batch: list[TimelineEvent], case: Investigation):
    refs = timeline.entity_refs({pk for e in batch for pk in e.entity_ids}, case)
    kinds = timeline.kind_labels()
    for event in batch:
        kind = kinds.get(event.kind, timeline.WRITTEN_KIND)
        yield event, kind.label, [refs[pk].name for pk in event.entity_ids if pk in refs]
