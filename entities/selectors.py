"""Reads for entities, links and shipments, with their joins applied; and name search."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum, Value, When
from django.db.models.functions import ExtractYear, Left
from django.http import Http404

from investigations import access, activity_text
from investigations import selectors as case_selectors
from investigations.jobs import JobStatus
from investigations.models import Investigation

from .models import Dataset, Entity, Identifier, ImportJob, Link, Pin, Schema, Shipment
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


# --- Search ---------------------------------------------------------------------------------

SEARCH_LIMIT = 20
# Phonetic-only matches rank below good spelling matches.
PHONETIC_SCORE = Decimal("0.55")

# Candidates are bounded before ranking (measured in bench/search.py: unbounded, a query with
# one common word scored 5,000-17,000 names and p95 was 110 ms on 1M entities): exact
# normalized names (B-tree; a range, because with "=" the planner may pick the trigram index),
# equal phonetic keys, names of my case files with word similarity >= 0.6 (few rows: found by
# case, then scored), and at most FUZZY_CAP dataset names through the trigram index at
# DATASET_WORD_SIMILARITY (0.7: p95 58 -> 36 ms on 1M names, for 6 points of typo recall that
# the phonetic key partly wins back). Ties of word similarity (every name containing the
# query's words scores 1.0) are broken by whole-name similarity, so "Atlantic LLC" ranks
# above "Kraft Atlantic Lion".
FUZZY_CAP = 1000
WORD_SIMILARITY = 0.6
DATASET_WORD_SIMILARITY = 0.7
_COLS = "n.entity_id, n.name, n.norm, n.phonetic"
_MINE = "(n.dataset_id IS NOT NULL OR n.investigation_id = ANY(%(cases)s))"
_SEARCH_SQL = f"""
WITH cand AS (
    (SELECT {_COLS} FROM entities_entityname n
      WHERE {_MINE} AND n.norm >= %(norm)s AND n.norm <= %(norm)s LIMIT 100)
    UNION ALL
    (SELECT {_COLS} FROM entities_entityname n
      WHERE {_MINE} AND n.phonetic = %(phonetic)s AND %(phonetic)s <> '' LIMIT 200)
    UNION ALL
    (SELECT {_COLS} FROM entities_entityname n
      WHERE n.investigation_id = ANY(%(cases)s)
        AND word_similarity(%(norm)s, n.norm) >= {WORD_SIMILARITY} LIMIT {FUZZY_CAP})
    UNION ALL
    (SELECT {_COLS} FROM entities_entityname n
      WHERE n.dataset_id IS NOT NULL AND %(norm)s <%% n.norm LIMIT {FUZZY_CAP})
), hits AS (
    SELECT c.entity_id, c.name,
           GREATEST(similarity(c.norm, %(norm)s), word_similarity(%(norm)s, c.norm),
                    CASE WHEN c.phonetic = %(phonetic)s AND %(phonetic)s <> '' THEN %(pscore)s
                         ELSE 0 END) AS score,
           similarity(c.norm, %(norm)s) AS sim
      FROM cand c
     WHERE word_similarity(%(norm)s, c.norm) >= {WORD_SIMILARITY}
        OR (c.phonetic = %(phonetic)s AND %(phonetic)s <> '')
)
SELECT entity_id, name, score FROM (
    SELECT DISTINCT ON (entity_id) entity_id, name, score, sim FROM hits
     ORDER BY entity_id, score DESC, sim DESC
) ranked
ORDER BY score DESC, sim DESC, entity_id
LIMIT %(limit)s
"""  # noqa: S608 (constant SQL; every value is a parameter)


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
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        # The threshold of the <% operator, for this transaction only.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(DATASET_WORD_SIMILARITY)],
        )
        cursor.execute(
            _SEARCH_SQL,
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
       AND b.{scope} = %(scope_id)s
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
       AND oe.{scope} = %(scope_id)s
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
    # Plain equality on the entity's own scope column, so the planner starts from the scope's
    # few names instead of every trigram match in the table (bench/entity_page.py: 450 ms -> 11).
    scope = "investigation_id" if entity.investigation_id else "dataset_id"
    with connection.cursor() as cursor:
        cursor.execute(
            _DUPLICATES_SQL.format(scope=scope),
            {
                "entity": entity.pk,
                "scope_id": entity.investigation_id or entity.dataset_id,
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
