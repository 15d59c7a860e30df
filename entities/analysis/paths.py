"""How is A connected to B: shortest chains through links and trade, with each hop's evidence.

A bidirectional breadth-first search: each step expands the smaller frontier with ONE query
(the four directions of links and shipments, restricted to what the case may see, in SQL), and
stops at the first layer where the two searches meet, which holds every shortest chain. Bounded
by PATH_MAX_HOPS and PATH_MAX_VISITED. Links and shipments count in both directions: an owner
and the owned are connected whichever way the link points.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from itertools import islice, pairwise
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Exists, OuterRef, Q

from investigations.models import Investigation

from ..models import Entity, Link, Pin
from .graph import TRADE

MAX_PATHS = 10
SHIPMENT_IDS_PER_HOP = 20

# Neighbours of a frontier over visible edges. Each branch is served by an index (link source,
# link target, shipment exporter + date, shipment importer + date) through = ANY(array).
# UNION ALL: repeated pairs cost Python less than a hash aggregate costs PostgreSQL. The far
# end of a case row must be an entity of this case or of a dataset: _VISIBLE_SQL checks those
# (the services never link another case's entity; this holds even if a row said otherwise). A
# dataset row only ever joins entities of its own dataset and needs no check. (The check as a
# correlated EXISTS in this statement cost 0.8 s on a 1,500-entity frontier: bench/analysis.py.)
_NEIGHBOURS_SQL = """
    SELECT l.source_id AS near, l.target_id AS far, l.investigation_id AS case_id
      FROM entities_link l
     WHERE l.source_id = ANY(%(frontier)s::bigint[]) AND l.kind = ANY(%(kinds)s)
       AND (l.investigation_id = %(case)s OR (%(datasets)s AND l.dataset_id IS NOT NULL))
    UNION ALL
    SELECT l.target_id, l.source_id, l.investigation_id FROM entities_link l
     WHERE l.target_id = ANY(%(frontier)s::bigint[]) AND l.kind = ANY(%(kinds)s)
       AND (l.investigation_id = %(case)s OR (%(datasets)s AND l.dataset_id IS NOT NULL))
    UNION ALL
    SELECT s.exporter_id, s.importer_id, s.investigation_id FROM entities_shipment s
     WHERE %(trade)s AND s.exporter_id = ANY(%(frontier)s::bigint[]) AND s.importer_id IS NOT NULL
       AND (s.investigation_id = %(case)s OR (%(datasets)s AND s.dataset_id IS NOT NULL))
    UNION ALL
    SELECT s.importer_id, s.exporter_id, s.investigation_id FROM entities_shipment s
     WHERE %(trade)s AND s.importer_id = ANY(%(frontier)s::bigint[]) AND s.exporter_id IS NOT NULL
       AND (s.investigation_id = %(case)s OR (%(datasets)s AND s.dataset_id IS NOT NULL))
"""
_VISIBLE_SQL = """
SELECT id FROM entities_entity
 WHERE id = ANY(%(ids)s::bigint[]) AND (investigation_id = %(case)s OR dataset_id IS NOT NULL)
"""

# The shipments of each hop, both directions, summed per direction (one query for all hops).
_HOP_TRADE_SQL = """
SELECT s.exporter_id, s.importer_id, COUNT(*), MIN(s.date), MAX(s.date),
       ARRAY_AGG(DISTINCT LEFT(s.hs_code, 4)),
       (ARRAY_AGG(s.id ORDER BY s.date, s.id))[1:%(ids)s],
       SUM(s.quantity), CASE WHEN COUNT(DISTINCT s.unit) = 1 THEN MIN(s.unit) ELSE '' END,
       SUM(s.value), CASE WHEN COUNT(DISTINCT s.currency) = 1 THEN MIN(s.currency) ELSE '' END
  FROM entities_shipment s
  JOIN UNNEST(%(a)s::bigint[], %(b)s::bigint[]) AS pair(a, b)
    ON (s.exporter_id = pair.a AND s.importer_id = pair.b)
 WHERE (s.investigation_id = %(case)s OR (%(datasets)s AND s.dataset_id IS NOT NULL))
 GROUP BY s.exporter_id, s.importer_id
"""


@dataclass
class TradeLeg:
    """The shipments from one end of a hop to the other."""

    exporter_id: int
    importer_id: int
    count: int
    first: date
    last: date
    headings: list[str]
    shipment_ids: list[int]
    quantity: Decimal | None = None
    unit: str = ""  # "" when the shipments use several units (quantity is then not shown)
    value: Decimal | None = None
    currency: str = ""  # "" when several currencies (value is then not shown)
    citations: list[Any] = field(default_factory=list)


@dataclass
class Hop:
    source: Entity
    target: Entity
    links: list[Link]
    trade: list[TradeLeg]


@dataclass
class Path:
    entities: list[Entity]
    hops: list[Hop]


@dataclass
class PathResult:
    paths: list[Path]
    length: int | None  # hops of the shortest chains; None when none was found
    visited: int
    # Why the search stopped without a chain: "" (none exists within reach), or the bound hit.
    stopped: str = ""
    more: bool = False  # more shortest chains than shown


# Evidence for links and shipments, registered by the evidence app (entities does not import
# evidence): hook(*, case, link_ids, shipment_ids) -> {("link" | "shipment", pk): [citation]}.
CITATION_HOOKS: list[Callable[..., dict[tuple[str, int], list[Any]]]] = []


def _neighbours(
    frontier: set[int], *, case: Investigation, kinds: list[str], datasets: bool
) -> list[tuple[int, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            _NEIGHBOURS_SQL,
            {
                "frontier": list(frontier),
                "kinds": [k for k in kinds if k != TRADE],
                "trade": TRADE in kinds,
                "case": case.pk,
                "datasets": datasets,
            },
        )
        rows = cursor.fetchall()
        unsure = {far for _, far, case_id in rows if case_id is not None}
        if unsure:
            cursor.execute(_VISIBLE_SQL, {"ids": list(unsure), "case": case.pk})
            unsure -= {r[0] for r in cursor.fetchall()}
    return [(near, far) for near, far, _ in rows if far not in unsure]


@dataclass
class _Side:
    dist: dict[int, int]
    parents: dict[int, set[int]]
    frontier: set[int]
    depth: int = 0

    @classmethod
    def start(cls, node: int) -> "_Side":
        return cls(dist={node: 0}, parents={node: set()}, frontier={node})

    def expand(self, pairs: list[tuple[int, int]]) -> None:
        nxt: set[int] = set()
        for near, far in pairs:
            seen = self.dist.get(far)
            if seen is None:
                self.dist[far] = self.depth + 1
                self.parents[far] = {near}
                nxt.add(far)
            elif seen == self.depth + 1:
                self.parents[far].add(near)
        self.depth += 1
        self.frontier = nxt

    def chains(self, node: int) -> Iterator[list[int]]:
        """Every chain from this side's start to `node`, start first."""
        if not self.parents[node]:
            yield [node]
            return
        for parent in sorted(self.parents[node]):
            for chain in self.chains(parent):
                yield [*chain, node]


def _search(
    source: int, target: int, *, case: Investigation, kinds: list[str], datasets: bool
) -> tuple[list[list[int]], int, str, bool]:
    """Node chains of the shortest paths, nodes visited, why it stopped, more chains left."""
    ahead, back = _Side.start(source), _Side.start(target)
    while ahead.frontier and back.frontier:
        if ahead.depth + back.depth >= settings.PATH_MAX_HOPS:
            return [], len(ahead.dist) + len(back.dist), "hops", False
        side, other = (ahead, back) if len(ahead.frontier) <= len(back.frontier) else (back, ahead)
        side.expand(_neighbours(side.frontier, case=case, kinds=kinds, datasets=datasets))
        meet = sorted(side.frontier & other.dist.keys())
        visited = len(ahead.dist) + len(back.dist)
        if meet:
            chains = (
                [*a, *reversed(b[:-1])]
                for m in meet
                for a in ahead.chains(m)
                for b in back.chains(m)
            )
            found = list(islice(chains, MAX_PATHS + 1))
            return found[:MAX_PATHS], visited, "", len(found) > MAX_PATHS
        if visited > settings.PATH_MAX_VISITED:
            return [], visited, "visited", False
    return [], len(ahead.dist) + len(back.dist), "", False


def shortest_paths(
    *,
    case: Investigation,
    source: Entity,
    target: Entity,
    kinds: list[str],
    datasets: bool = False,
) -> PathResult:
    """The shortest chains from `source` to `target` (at most MAX_PATHS), with hop details.

    Callers pass entities the case may see (graph.visible_entity).
    """
    chains, visited, stopped, more = _search(
        source.pk, target.pk, case=case, kinds=kinds, datasets=datasets
    )
    if not chains:
        return PathResult(paths=[], length=None, visited=visited, stopped=stopped)
    pairs = {(a, b) for chain in chains for a, b in pairwise(chain)}
    entities = (
        Entity.objects.select_related("dataset")
        .annotate(is_pinned=Exists(Pin.objects.filter(investigation=case, entity=OuterRef("pk"))))
        .in_bulk({n for chain in chains for n in chain})
    )
    links = _hop_links(pairs, case=case, kinds=kinds, datasets=datasets)
    trade = _hop_trade(pairs, case=case, datasets=datasets) if TRADE in kinds else {}
    _attach_citations(case, links, trade)
    paths = []
    for chain in chains:
        hops = []
        for a, b in pairwise(chain):
            key = frozenset((a, b))
            hops.append(
                Hop(
                    source=entities[a],
                    target=entities[b],
                    links=links.get(key, []),
                    trade=trade.get(key, []),
                )
            )
        paths.append(Path(entities=[entities[n] for n in chain], hops=hops))
    return PathResult(paths=paths, length=len(chains[0]) - 1, visited=visited, more=more)


def _hop_links(
    pairs: set[tuple[int, int]], *, case: Investigation, kinds: list[str], datasets: bool
) -> dict[frozenset, list[Link]]:
    wanted = Q()
    for a, b in pairs:
        wanted |= Q(source_id=a, target_id=b) | Q(source_id=b, target_id=a)
    scope = Q(investigation=case) | Q(dataset__isnull=False) if datasets else Q(investigation=case)
    out: dict[frozenset, list[Link]] = {}
    for link in (
        Link.objects.filter(wanted, scope, kind__in=kinds)
        .select_related("source", "target")
        .order_by("kind", "start_date", "id")
    ):
        out.setdefault(frozenset((link.source_id, link.target_id)), []).append(link)
    return out


def _hop_trade(
    pairs: set[tuple[int, int]], *, case: Investigation, datasets: bool
) -> dict[frozenset, list[TradeLeg]]:
    both = [*pairs, *((b, a) for a, b in pairs)]
    with connection.cursor() as cursor:
        cursor.execute(
            _HOP_TRADE_SQL,
            {
                "a": [a for a, _ in both],
                "b": [b for _, b in both],
                "case": case.pk,
                "datasets": datasets,
                "ids": SHIPMENT_IDS_PER_HOP,
            },
        )
        rows = cursor.fetchall()
    out: dict[frozenset, list[TradeLeg]] = {}
    for exporter, importer, count, first, last, headings, ids, qty, unit, value, cur in rows:
        out.setdefault(frozenset((exporter, importer)), []).append(
            TradeLeg(
                exporter_id=exporter,
                importer_id=importer,
                count=count,
                first=first,
                last=last,
                headings=sorted(headings),
                shipment_ids=list(ids),
                quantity=qty,
                unit=unit or "",
                value=value,
                currency=cur or "",
            )
        )
    return out


def _attach_citations(
    case: Investigation,
    links: dict[frozenset, list[Link]],
    trade: dict[frozenset, list[TradeLeg]],
) -> None:
    link_list = [link for group in links.values() for link in group]
    legs = [leg for group in trade.values() for leg in group]
    found: dict[tuple[str, int], list[Any]] = {}
    for hook in CITATION_HOOKS:
        found.update(
            hook(
                case=case,
                link_ids=[link.pk for link in link_list],
                shipment_ids=[i for leg in legs for i in leg.shipment_ids],
            )
        )
    for link in link_list:
        link.hop_citations = found.get(("link", link.pk), [])  # type: ignore[attr-defined]
    for leg in legs:
        leg.citations = [c for i in leg.shipment_ids for c in found.get(("shipment", i), [])]
