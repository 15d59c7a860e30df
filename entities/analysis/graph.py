"""The network of a case file as nodes and edges, and neighbourhood expansion, in SQL.

What a member may see of a case's network: the case's own entities, the dataset entities
pinned into it, the case's links and shipments, and (on request, `datasets=True`) the links and
shipments of the shared datasets. Never a row of another case file: every edge predicate is
`investigation_id = <this case>` or `dataset_id IS NOT NULL`, and every node must be an entity
of this case or of a dataset, checked in the same statement.

Shipments become one edge per exporter -> importer pair ("Trade"), with the value summed per
year and currency. Each function is ONE statement: a node set (the case's entities, or a
bounded recursive walk from one entity) followed by the nodes' details and the edges between
them, as (kind, JSON) rows.
"""

import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.http import Http404
from django.urls import reverse

from investigations import access
from investigations.models import Investigation

from ..models import Entity, Identifier, LinkKind, Pin

TRADE = "Trade"
EDGE_KINDS: tuple[str, ...] = (*LinkKind.values, TRADE)
EDGE_LABELS: dict[str, str] = {**dict(LinkKind.choices), TRADE: "Trade (shipments)"}

# Edges out of and into a node set, visible from the case: its own rows, and dataset rows
# when %(datasets)s. Shared by the page's graph and the expansion.
_EDGES_SQL = """
, visible AS (
    SELECT p.id, p.depth FROM picked p JOIN entities_entity e ON e.id = p.id
     WHERE e.investigation_id = %(case)s OR e.dataset_id IS NOT NULL
)
SELECT 'node', jsonb_build_object(
           'id', e.public_id, 'name', e.name, 'schema', e.schema, 'countries', e.countries,
           'depth', v.depth,
           'scope', CASE WHEN e.investigation_id = %(case)s THEN 'case'
                         WHEN pin.id IS NOT NULL THEN 'pinned' ELSE 'dataset' END,
           'dataset', d.name, 'dataset_id', d.public_id)
  FROM visible v
  JOIN entities_entity e ON e.id = v.id
  LEFT JOIN entities_dataset d ON d.id = e.dataset_id
  LEFT JOIN entities_pin pin ON pin.investigation_id = %(case)s AND pin.entity_id = e.id
UNION ALL
SELECT 'edge', jsonb_build_object(
           'id', l.public_id, 'kind', l.kind, 'source', s.public_id, 'target', t.public_id,
           'role', l.role, 'percentage', l.percentage, 'start', l.start_date, 'end', l.end_date,
           'scope', CASE WHEN l.investigation_id IS NULL THEN 'dataset' ELSE 'case' END)
  FROM visible vs
  JOIN entities_link l ON l.source_id = vs.id
  JOIN visible vt ON vt.id = l.target_id
  JOIN entities_entity s ON s.id = l.source_id
  JOIN entities_entity t ON t.id = l.target_id
 WHERE (l.investigation_id = %(case)s OR (%(datasets)s AND l.dataset_id IS NOT NULL))
   AND l.kind = ANY(%(kinds)s)
UNION ALL
SELECT 'edge', jsonb_build_object(
           'id', 't:' || s.public_id || ':' || t.public_id, 'kind', 'Trade',
           'source', s.public_id, 'target', t.public_id,
           'shipments', SUM(g.shipments), 'years', jsonb_object_agg(g.key, g.total))
  FROM (
      SELECT sh.exporter_id, sh.importer_id,
             EXTRACT(year FROM sh.date)::int || ' ' || COALESCE(NULLIF(sh.currency, ''), '-')
                 AS key,
             SUM(sh.value) AS total, COUNT(*) AS shipments
        FROM visible ve
        JOIN entities_shipment sh ON sh.exporter_id = ve.id
        JOIN visible vi ON vi.id = sh.importer_id
       WHERE (sh.investigation_id = %(case)s OR (%(datasets)s AND sh.dataset_id IS NOT NULL))
         AND %(trade)s
       GROUP BY 1, 2, 3
  ) g
  JOIN entities_entity s ON s.id = g.exporter_id
  JOIN entities_entity t ON t.id = g.importer_id
 GROUP BY s.public_id, t.public_id
"""

# The page's graph: the case's own entities and its pins (at most %(cap)s of them).
_CASE_GRAPH_SQL = "".join(
    (
        """
WITH picked AS (
    SELECT id, 0 AS depth FROM (
        SELECT id FROM entities_entity WHERE investigation_id = %(case)s
        UNION
        SELECT entity_id FROM entities_pin WHERE investigation_id = %(case)s
    ) own ORDER BY id LIMIT %(cap)s
)""",
        _EDGES_SQL,
        """
UNION ALL
SELECT 'meta', jsonb_build_object('total', (
    SELECT COUNT(*) FROM (
        SELECT id FROM entities_entity WHERE investigation_id = %(case)s
        UNION
        SELECT entity_id FROM entities_pin WHERE investigation_id = %(case)s) own))
""",
    )
)

# A walk of at most %(hops)s steps from one entity over visible edges of the wanted kinds.
# The recursive term may name `walk` once only, so the four directions (link out, link in,
# shipment out, shipment in) are a LATERAL UNION, each served by an index (link source,
# link target, shipment exporter + date, shipment importer + date). PostgreSQL evaluates a
# recursive CTE only as far as its reader fetches, breadth first: reading at most %(raw_cap)s
# rows bounds the work around hubs, and keeps the nearest nodes.
_EXPAND_SQL = "".join(
    (
        """
WITH RECURSIVE walk(id, depth) AS (
    SELECT %(start)s::bigint, 0
  UNION
    SELECT n.id, w.depth + 1
      FROM walk w
      CROSS JOIN LATERAL (
          SELECT l.target_id AS id FROM entities_link l
           WHERE l.source_id = w.id AND l.kind = ANY(%(kinds)s)
             AND (l.investigation_id = %(case)s OR (%(datasets)s AND l.dataset_id IS NOT NULL))
          UNION
          SELECT l.source_id FROM entities_link l
           WHERE l.target_id = w.id AND l.kind = ANY(%(kinds)s)
             AND (l.investigation_id = %(case)s OR (%(datasets)s AND l.dataset_id IS NOT NULL))
          UNION
          SELECT s.importer_id FROM entities_shipment s
           WHERE %(trade)s AND s.exporter_id = w.id AND s.importer_id IS NOT NULL
             AND (s.investigation_id = %(case)s OR (%(datasets)s AND s.dataset_id IS NOT NULL))
          UNION
          SELECT s.exporter_id FROM entities_shipment s
           WHERE %(trade)s AND s.importer_id = w.id AND s.exporter_id IS NOT NULL
             AND (s.investigation_id = %(case)s OR (%(datasets)s AND s.dataset_id IS NOT NULL))
      ) n
     WHERE w.depth < %(hops)s
), walked AS MATERIALIZED (
    SELECT id, depth FROM walk LIMIT %(raw_cap)s
), picked AS (
    SELECT id, MIN(depth) AS depth FROM walked GROUP BY id ORDER BY MIN(depth), id LIMIT %(cap)s
)""",
        _EDGES_SQL,
        """
UNION ALL
SELECT 'meta', jsonb_build_object('walked', (SELECT COUNT(*) FROM walked),
                                  'reached', (SELECT COUNT(DISTINCT id) FROM walked))
""",
    )
)


@dataclass
class Graph:
    """Nodes and edges as the network page and the exports read them (JSON-ready dicts)."""

    nodes: list[dict[str, Any]] = field(default_factory=list)
    edges: list[dict[str, Any]] = field(default_factory=list)
    # More entities than the cap: the rest were left out (the page says so).
    truncated: bool = False
    total: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "nodes": self.nodes,
            "edges": self.edges,
            "truncated": self.truncated,
            "total": self.total,
        }


def _kinds(kinds: tuple[str, ...] | list[str] | None) -> list[str]:
    return [k for k in (kinds or EDGE_KINDS) if k in EDGE_KINDS]


def _run(sql: str, params: dict[str, Any], case: Investigation) -> tuple[Graph, dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    graph, meta = Graph(), {}
    # Entity URLs from one reverse() each: /cases/<case>/entities/<id>/ for the case's own and
    # pinned entities, /datasets/<dataset>/entities/<id>/ for the others.
    marker = "00000000-0000-0000-0000-000000000000"
    case_url = reverse("entities:detail", kwargs={"case_id": case.public_id, "entity_id": marker})
    dataset_url = reverse("datasets:entity", kwargs={"dataset_id": marker, "entity_id": marker})
    for kind, payload in rows:
        data = json.loads(payload)  # Django's connection reads jsonb as text
        if kind == "node":
            if data["scope"] == "dataset":
                head, _, tail = dataset_url.partition(marker)
                data["url"] = head + data["dataset_id"] + tail.replace(marker, data["id"])
            else:
                data["url"] = case_url.replace(marker, data["id"])
            graph.nodes.append(data)
        elif kind == "edge":
            graph.edges.append(data)
        else:
            meta = data
    return graph, meta


def case_graph(
    *, case: Investigation, kinds: list[str] | None = None, cap: int | None = None
) -> Graph:
    """The case's entities and pins with the edges between them (one statement).

    Dataset links and shipments between two of them are shown too: both ends are in the case.
    """
    cap = cap or settings.NETWORK_MAX_NODES
    kinds = _kinds(kinds)
    graph, meta = _run(
        _CASE_GRAPH_SQL,
        {"case": case.pk, "cap": cap, "datasets": True, "kinds": kinds, "trade": TRADE in kinds},
        case,
    )
    graph.total = meta.get("total", len(graph.nodes))
    graph.truncated = graph.total > cap
    return graph


def neighbourhood(
    *,
    case: Investigation,
    entity: Entity,
    hops: int = 1,
    datasets: bool = False,
    kinds: list[str] | None = None,
    cap: int | None = None,
) -> Graph:
    """Entities within `hops` (1 or 2) of `entity` and the edges between them (one statement).

    Walks the case's links and shipments, and with `datasets` the shared datasets' as well (a
    pinned entity's dataset neighbours). At most `cap` nodes, nearest first.
    """
    if hops not in (1, 2):
        raise ValueError("hops is 1 or 2")
    cap = cap or settings.NETWORK_EXPAND_MAX_NODES
    kinds = _kinds(kinds)
    graph, meta = _run(
        _EXPAND_SQL,
        {
            "case": case.pk,
            "start": entity.pk,
            "hops": hops,
            "datasets": datasets,
            "kinds": kinds,
            "trade": TRADE in kinds,
            "cap": cap,
            "raw_cap": cap * 4,
        },
        case,
    )
    graph.total = meta.get("reached", len(graph.nodes))
    graph.truncated = graph.total > cap or meta.get("walked", 0) >= cap * 4
    return graph


def visible_entity(*, case: Investigation, public_id: Any) -> Entity:
    """An entity of this case file or of a dataset (pinned or not), with `is_pinned`; else 404.

    Dataset entities are shared reference data; another case file's entity is a 404.
    """
    entity = (
        Entity.objects.select_related("dataset")
        .prefetch_related(
            Prefetch("identifiers", queryset=Identifier.objects.order_by("scheme", "value"))
        )
        .annotate(is_pinned=Exists(Pin.objects.filter(investigation=case, entity=OuterRef("pk"))))
        .filter(public_id=access.parse_public_id(public_id))
        .filter(Q(investigation=case) | Q(dataset__isnull=False))
        .first()
    )
    if entity is None:
        raise Http404("No such entity")
    return entity
