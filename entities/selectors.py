"""Reads for entities, links and shipments, with their joins applied; and name search."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear, Left
from django.http import Http404

from investigations import access
from investigations.models import ActivityEntry, Investigation

from .models import Dataset, Entity, Identifier, Link, Pin, Schema, Shipment
from .names import name_forms

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


def case_entities(
    *,
    case: Investigation,
    schema: str = "",
    country: str = "",
    query: str = "",
    sort: str = "name",
) -> QuerySet[Entity]:
    """The case's own entities and the dataset entities pinned into it."""
    pinned = Pin.objects.filter(investigation=case).values("entity_id")
    qs = Entity.objects.filter(Q(investigation=case) | Q(pk__in=pinned))
    if schema in Schema.values:
        qs = qs.filter(schema=schema)
    if country:
        qs = qs.filter(Q(countries__contains=[country]) | Q(nationality__contains=[country]))
    if query:
        norm, _ = name_forms(query)
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
        norm, _ = name_forms(query)
        qs = qs.filter(Q(name__icontains=query) | Q(name_forms__norm__contains=norm)).distinct()
    return _with_identifiers(qs.order_by("name", "id"))


def entity_in_case(*, case: Investigation, public_id: Any) -> Entity:
    """An entity of this case file, or a dataset entity pinned into it; else 404."""
    pinned = Pin.objects.filter(investigation=case, entity=OuterRef("pk"))
    entity = (
        _with_identifiers(Entity.objects.select_related("dataset", "created_by"))
        .annotate(is_pinned=Exists(pinned))
        .filter(public_id=access._parse_uuid(public_id))
        .filter(Q(investigation=case) | Q(is_pinned=True))
        .first()
    )
    if entity is None:
        raise Http404("No such entity in this case file")
    return entity


def entity_in_dataset(*, dataset: Dataset, public_id: Any) -> Entity:
    entity = (
        _with_identifiers(Entity.objects.select_related("dataset"))
        .filter(dataset=dataset, public_id=access._parse_uuid(public_id))
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


def entity_links(*, entity: Entity, case: Investigation | None) -> EntityLinks:
    """Links from and to an entity with the other party loaded (one query)."""
    links = list(
        Link.objects.filter(_context_filter(case))
        .filter(Q(source=entity) | Q(target=entity))
        .select_related("source", "target")
        .order_by("kind", "start_date", "id")
    )
    return EntityLinks(
        outgoing=[link for link in links if link.source_id == entity.pk],
        incoming=[link for link in links if link.target_id == entity.pk],
    )


def entity_shipment_totals(*, entity: Entity, case: Investigation | None) -> list[dict]:
    """Shipments as exporter and importer, by direction, year and HS chapter (one query)."""
    rows = (
        Shipment.objects.filter(_context_filter(case))
        .filter(Q(exporter=entity) | Q(importer=entity))
        .annotate(year=ExtractYear("date"), chapter=Left("hs_code", 2))
        .values("year", "chapter", "currency", "exporter_id")
        .annotate(count=Count("id"), quantity=Sum("quantity"), value=Sum("value"))
        .order_by("year", "chapter", "currency", "exporter_id")
    )
    return [
        {**row, "direction": "export" if row.pop("exporter_id") == entity.pk else "import"}
        for row in rows
    ]


def entity_recent_shipments(
    *, entity: Entity, case: Investigation | None, limit: int = 25
) -> list[Shipment]:
    return list(
        Shipment.objects.filter(_context_filter(case))
        .filter(Q(exporter=entity) | Q(importer=entity))
        .select_related("exporter", "importer")
        .order_by("-date", "-id")[:limit]
    )


def entity_activity(*, entity: Entity, limit: int = 20) -> QuerySet[ActivityEntry]:
    """Activity entries about this entity in its case file (newest first)."""
    if entity.investigation_id is None:
        return ActivityEntry.objects.none()
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Entity)
    return (
        ActivityEntry.objects.filter(
            investigation_id=entity.investigation_id, content_type=ct, object_id=str(entity.pk)
        )
        .select_related("content_type")
        .order_by("-created_at", "-id")[:limit]
    )


def shipments(
    *,
    case: Investigation | None = None,
    dataset: Dataset | None = None,
    date_from=None,
    date_to=None,
    hs_prefix: str = "",
    country: str = "",
    party: str = "",
) -> QuerySet[Shipment]:
    """Shipments of a case file or dataset, filtered; parties loaded."""
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
    if party:
        qs = qs.filter(Q(exporter__public_id=party) | Q(importer__public_id=party))
    return qs.select_related("exporter", "importer").order_by("-date", "-id")


def shipment_totals(qs: QuerySet[Shipment]) -> list[dict]:
    """Count, quantity and value of a filtered shipment table, per currency."""
    return list(
        qs.order_by()
        .values("currency")
        .annotate(count=Count("id"), value=Sum("value"), quantity=Sum("quantity"))
        .order_by("currency")
    )


def datasets() -> QuerySet[Dataset]:
    return Dataset.objects.annotate(entity_count=Count("entities_entity_set")).order_by("name")


# --- Search ---------------------------------------------------------------------------------

SEARCH_LIMIT = 20
# Phonetic-only matches rank below good spelling matches.
PHONETIC_SCORE = Decimal("0.55")

_SEARCH_SQL = """
WITH hits AS (
    SELECT n.entity_id, n.name,
           GREATEST(similarity(n.norm, %(norm)s), word_similarity(%(norm)s, n.norm),
                    CASE WHEN n.phonetic = %(phonetic)s AND %(phonetic)s <> '' THEN %(pscore)s
                         ELSE 0 END) AS score
      FROM entities_entityname n
     WHERE (n.dataset_id IS NOT NULL OR n.investigation_id = ANY(%(cases)s))
       AND (%(norm)s <%% n.norm OR (n.phonetic = %(phonetic)s AND %(phonetic)s <> ''))
)
SELECT DISTINCT ON (entity_id) entity_id, name, score
  FROM hits
 ORDER BY entity_id, score DESC
"""


@dataclass
class SearchHit:
    entity: Entity
    matched_name: str
    score: float
    case: Investigation | None


def search_entities(*, user, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Entities of my case files and of the datasets, ranked by name similarity.

    Never touches rows of case files the user is not a member of: the case filter is in the
    WHERE clause, not applied after ranking.
    """
    norm, phonetic = name_forms(query)
    if not norm:
        return []
    # Matches: the query's words appear in a name (pg_trgm word similarity >= 0.6, its
    # default, served by the GIN index), or the phonetic keys are equal (B-tree index).
    case_ids = list(access.visible_investigations(user).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT entity_id, name, score FROM ({_SEARCH_SQL}) ranked "  # noqa: S608 (constant)
            "ORDER BY score DESC, entity_id LIMIT %(limit)s",
            {
                "norm": norm,
                "phonetic": phonetic,
                "pscore": PHONETIC_SCORE,
                "cases": case_ids,
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    entities = Entity.objects.select_related("investigation", "dataset").in_bulk(
        [r[0] for r in rows]
    )
    return [
        SearchHit(
            entity=entities[eid],
            matched_name=name,
            score=float(score),
            case=entities[eid].investigation,
        )
        for eid, name, score in rows
        if eid in entities
    ]


# Trigram similarity of normalized names above which two entities may be one.
DUPLICATE_THRESHOLD = 0.5

_DUPLICATES_SQL = """
SELECT entity_id, MAX(score) AS score,
       (ARRAY_AGG(reason ORDER BY score DESC))[1] AS reason FROM (
    SELECT b.entity_id,
           GREATEST(similarity(a.norm, b.norm),
                    CASE WHEN a.phonetic = b.phonetic AND a.phonetic <> '' THEN 0.5 ELSE 0 END)
               AS score,
           'similar name' AS reason
      FROM entities_entityname a
      JOIN entities_entityname b
        ON b.entity_id <> a.entity_id
       AND b.investigation_id IS NOT DISTINCT FROM a.investigation_id
       AND b.dataset_id IS NOT DISTINCT FROM a.dataset_id
       AND (b.norm %% a.norm OR (b.phonetic = a.phonetic AND a.phonetic <> ''))
     WHERE a.entity_id = %(entity)s
    UNION ALL
    SELECT other.entity_id, 1.0, 'same identifier'
      FROM entities_identifier mine
      JOIN entities_identifier other
        ON other.scheme = mine.scheme AND other.value = mine.value
       AND other.entity_id <> mine.entity_id
      JOIN entities_entity oe ON oe.id = other.entity_id
     WHERE mine.entity_id = %(entity)s
       AND oe.investigation_id IS NOT DISTINCT FROM %(case)s
       AND oe.dataset_id IS NOT DISTINCT FROM %(dataset)s
) candidates
GROUP BY entity_id
HAVING MAX(score) >= %(threshold)s
ORDER BY MAX(score) DESC, entity_id
LIMIT %(limit)s
"""


@dataclass
class Duplicate:
    entity: Entity
    score: float
    reason: str


def possible_duplicates(*, entity: Entity, limit: int = 10) -> list[Duplicate]:
    """Entities of the same scope that may be this one: same identifier, or a similar name."""
    with connection.cursor() as cursor:
        cursor.execute(
            _DUPLICATES_SQL,
            {
                "entity": entity.pk,
                "case": entity.investigation_id,
                "dataset": entity.dataset_id,
                "threshold": DUPLICATE_THRESHOLD,
                "limit": limit,
            },
        )
        rows = cursor.fetchall()
    found = _with_identifiers(Entity.objects.all()).in_bulk([r[0] for r in rows])
    return [
        Duplicate(entity=found[eid], score=float(score), reason=reason)
        for eid, score, reason in rows
        if eid in found
    ]
