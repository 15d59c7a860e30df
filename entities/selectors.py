"""Reads for entities, links and shipments, with their joins applied; and name search."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import ExtractYear, Left
from django.http import Http404

from investigations import access, activity_text
from investigations import selectors as case_selectors
from investigations.jobs import JobStatus
from investigations.models import Investigation

from .models import Dataset, Entity, Identifier, ImportJob, Link, Pin, Schema, Shipment
from .names import normalize

ENTITY_SORTS = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "updated": ("updated_at", "id"),
    "-updated": ("-updated_at", "-id"),
}


def _with_identifiers(qs: QuerySet[Entity]) -> QuerySet[Entity]:
    return qs.prefetch_related(
        Prefetch("identifiers", queryset=Identifier.objects.order_by("scheme", "value"))
    )


def entities_shown(
    *, case: Investigation | None = None, dataset: Dataset | None = None
) -> QuerySet[Entity]:
    """The entities a page may name: a case file's own and pinned ones, or a dataset's own."""
    if case is None:
        return Entity.objects.filter(dataset=dataset)
    # id IN (own UNION ALL pinned), not "investigation = X OR id IN pins": the OR defeats the
    # scope index and scans every entity (bench/entity_page.py: 120 ms -> 3 ms on 1M rows).
    own = Entity.objects.filter(investigation=case).values("pk")
    pinned = Pin.objects.filter(investigation=case).values("entity_id")
    return Entity.objects.filter(pk__in=own.union(pinned, all=True))


def case_entities(
    *,
    case: Investigation,
    schema: str = "",
    country: str = "",
    query: str = "",
    sort: str = "name",
) -> QuerySet[Entity]:
    """The case's own entities and the dataset entities pinned into it."""
    qs = entities_shown(case=case)
    if schema in Schema.values:
        qs = qs.filter(schema=schema)
    if country:
        qs = qs.filter(Q(countries__contains=[country]) | Q(nationality__contains=[country]))
    if query:
        norm = normalize(query)
        qs = qs.filter(
            Q(name__icontains=query)
            | Q(name_forms__norm__contains=norm)
            | Q(identifiers__value__icontains=query)
        ).distinct()
    return _with_identifiers(
        qs.select_related("dataset").order_by(*ENTITY_SORTS.get(sort, ENTITY_SORTS["name"]))
    )


def dataset_entities(*, dataset: Dataset, schema: str = "", query: str = "") -> QuerySet[Entity]:
    qs = Entity.objects.filter(dataset=dataset)
    if schema in Schema.values:
        qs = qs.filter(schema=schema)
    if query:
        norm = normalize(query)
        qs = qs.filter(Q(name__icontains=query) | Q(name_forms__norm__contains=norm)).distinct()
    return _with_identifiers(qs.order_by("name", "id"))


def entity_in_case(*, case: Investigation, public_id: Any) -> Entity:
    """An entity of this case file, or a dataset entity pinned into it; else 404."""
    pinned = Pin.objects.filter(investigation=case, entity=OuterRef("pk"))
    entity = (
        _with_identifiers(Entity.objects.select_related("dataset", "created_by"))
        .annotate(is_pinned=Exists(pinned))
        .filter(public_id=access.parse_public_id(public_id))
        .filter(Q(investigation=case) | Q(is_pinned=True))
        .first()
    )
    if entity is None:
        raise Http404("No such entity in this case file")
    return entity


def entity_in_dataset(*, dataset: Dataset, public_id: Any) -> Entity:
    entity = (
        _with_identifiers(Entity.objects.select_related("dataset"))
        .filter(dataset=dataset, public_id=access.parse_public_id(public_id))
        .first()
    )
    if entity is None:
        raise Http404("No such entity")
    return entity


def _context_filter(case: Investigation | None) -> Q:
    """Rows visible in a context: the case's own plus all dataset rows (datasets are shared)."""
    return Q(dataset__isnull=False) | Q(investigation=case) if case else Q(dataset__isnull=False)


@dataclass
class EntityLinks:
    outgoing: list[Link]
    incoming: list[Link]
    total: int

    @property
    def hidden(self) -> int:
        return self.total - len(self.outgoing) - len(self.incoming)


def entity_links(
    *, entity: Entity, case: Investigation | None, limit: int | None = None
) -> EntityLinks:
    """Links from and to an entity (outgoing first) with both parties loaded.

    With a limit, only that many are loaded (plus one count query): a hub with 1,000 links
    would otherwise build 3,000 model instances for a page that shows 100.
    """
    qs = (
        Link.objects.filter(_context_filter(case))
        .filter(Q(source=entity) | Q(target=entity))
        .annotate(outgoing=Case(When(source=entity, then=Value(0)), default=Value(1)))
        .select_related("source", "target")
        .order_by("outgoing", "kind", "start_date", "id")
    )
    links = list(qs[:limit] if limit is not None else qs)
    total = qs.count() if limit is not None and len(links) == limit else len(links)
    return EntityLinks(
        outgoing=[link for link in links if link.source_id == entity.pk],
        incoming=[link for link in links if link.source_id != entity.pk],
        total=total,
    )


def entity_shipment_totals(*, entity: Entity, case: Investigation | None) -> list[dict]:
    """Shipments as exporter and importer, by direction, year and HS chapter (one query)."""
    direction = Case(When(exporter=entity, then=Value("export")), default=Value("import"))
    return list(
        Shipment.objects.filter(_context_filter(case))
        .filter(Q(exporter=entity) | Q(importer=entity))
        .annotate(year=ExtractYear("date"), chapter=Left("hs_code", 2), direction=direction)
        .values("direction", "year", "chapter", "currency")
        .annotate(count=Count("id"), quantity=Sum("quantity"), value=Sum("value"))
        .order_by("direction", "year", "chapter", "currency")
    )


def entity_recent_shipments(
    *, entity: Entity, case: Investigation | None, limit: int = 25
) -> list[Shipment]:
    # Parties prefetched for the page of shipments, not joined before the LIMIT (which sorted
    # every joined shipment of a busy entity on disk).
    return list(
        Shipment.objects.filter(_context_filter(case))
        .filter(Q(exporter=entity) | Q(importer=entity))
        .prefetch_related(
            Prefetch("exporter", queryset=Entity.objects.only("name")),
            Prefetch("importer", queryset=Entity.objects.only("name")),
        )
        .order_by("-date", "-id")[:limit]
    )


def entity_activity(*, entity: Entity, case: Investigation, limit: int = 20) -> list:
    """What happened in this case file to the entity and to what names it (its links,
    citations, shipments, pin), newest first, as feed items: one query on the refs index,
    plus one per kind of object shown."""
    entries = case_selectors.activity_about(investigation=case, obj=entity, limit=limit)
    return activity_text.feed_items(entries, case=case)


def shipments(
    *,
    case: Investigation | None = None,
    dataset: Dataset | None = None,
    date_from=None,
    date_to=None,
    hs_prefix: str = "",
    country: str = "",
    party: Entity | None = None,
) -> QuerySet[Shipment]:
    """Shipments of a case file or dataset, filtered; parties loaded.

    `party` comes from shipment_party() for the same page, so it is one the page may name.
    """
    qs = (
        Shipment.objects.filter(investigation=case)
        if case
        else Shipment.objects.filter(dataset=dataset)
    )
    if date_from:
        qs = qs.filter(date__gte=date_from)
    if date_to:
        qs = qs.filter(date__lte=date_to)
    if hs_prefix:
        qs = qs.filter(hs_code__startswith=hs_prefix)
    if country:
        qs = qs.filter(
            Q(origin_country=country) | Q(destination_country=country) | Q(dispatch_country=country)
        )
    if party is not None:
        qs = qs.filter(Q(exporter=party) | Q(importer=party))
    return qs.select_related("exporter", "importer").order_by("-date", "-id")


def shipment_party(
    *, case: Investigation | None = None, dataset: Dataset | None = None, public_id: Any
) -> Entity | None:
    """The party a shipment table is filtered by, if that page may name it (else None).

    An entity of another case file or dataset is never resolved, so its name is never shown.
    """
    return (
        entities_shown(case=case, dataset=dataset)
        .filter(public_id=access.parse_public_id(public_id))
        .only("name")
        .first()
    )


def shipment_totals(qs: QuerySet[Shipment]) -> list[dict]:
    """Count, quantity and value of a filtered shipment table, per currency."""
    return list(
        qs.order_by()
        .values("currency")
        .annotate(count=Count("id"), value=Sum("value"), quantity=Sum("quantity"))
        .order_by("currency")
    )


def dataset_imports(*, dataset: Dataset, limit: int = 5) -> list[ImportJob]:
    """The dataset's history: its imports, newest first (uploads still being mapped left out).
    The import rows are the record of who loaded what, when and with what result."""
    return list(
        ImportJob.objects.filter(dataset=dataset)
        .exclude(status=JobStatus.DRAFT)
        .select_related("created_by", "dataset")
        .order_by("-created_at", "-id")[:limit]
    )


def datasets(*, user) -> QuerySet[Dataset]:
    """The datasets this user may read, with their entity counts."""
    return (
        access.visible_datasets(user)
        .annotate(entity_count=Count("entities_entity_set"))
        .order_by("name")
    )
