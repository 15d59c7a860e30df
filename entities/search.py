"""Name search and possible duplicates, by match keys (entities.names) scored by entities.namematch.

Candidates are bounded in SQL: each key the query looks up (namematch.lookups) reads at most
its cap of entities from the B-tree on (kind, key, case file), entities of my case files and of
the datasets apart (so a busy dataset key never crowds out my case's entity), and the entities
with the heaviest sum of key weights (a key's weight divided by the log of how many entities it
found: rare keys count more) are scored in Python with all their names. An identifier value
(BIN, INN, LEI...) finds its entity directly. Unknown words of the query are corrected first
against the words in use (entities_nametoken: one letter wrong, missing, added or two swapped).

Never touches rows of case files the user is not in: every statement has the case filter in
its WHERE clause.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from investigations import access
from investigations.models import Investigation

from .identifiers import Scheme
from .models import Entity
from .namekeys import dedupe
from .namematch import (
    MIN_SCORE,
    Lookup,
    Query,
    Reason,
    choose_corrections,
    deletions,
    lookups,
    max_edits,
    parse_query,
    score_name,
)
from .selectors import _with_identifiers

SEARCH_LIMIT = 20
# Entities scored in Python per search: enough for every namesake of a common name.
CANDIDATES = 100

_CORRECTIONS_SQL = """
SELECT d.word, k.known, k.shared,
       CASE WHEN NOT k.known THEN
           ARRAY(SELECT t.token FROM entities_nametoken t
                 WHERE t.deletions && string_to_array(d.dels, ' ')::varchar[]
                   AND (t.investigation_id IS NULL OR t.investigation_id = ANY(%(cases)s))
                 LIMIT 60)
       END
FROM unnest(%(words)s::text[], %(dels)s::text[]) AS d(word, dels)
CROSS JOIN LATERAL (
    SELECT bool_or(true) IS TRUE AS known, bool_or(t.investigation_id IS NULL) IS TRUE AS shared
    FROM entities_nametoken t
    WHERE t.token = d.word
      AND (t.investigation_id IS NULL OR t.investigation_id = ANY(%(cases)s))
) AS k
"""
# Words of the datasets, known to be in use for everyone: a query made only of them needs no
# correction, and skips that statement. Datasets' words are never removed, so this only ever
# misses; bounded, it forgets the oldest.
_SHARED_WORDS: dict[str, None] = {}
_SHARED_WORDS_MAX = 50_000

# Per key: entities of my case files, then of the datasets ("investigation_id IS NULL" is the
# end of the same index range), each branch capped. Weights fall with how many entities a key
# found. A scope narrows the dataset branch to one dataset, or to the entities pinned into a
# case file (possible duplicates); the filters read the index's INCLUDE columns.
_CANDIDATES_SQL = """
WITH q AS (
    SELECT * FROM unnest(%(kinds)s::smallint[], %(keys)s::text[], %(weights)s::float8[],
                         %(caps)s::int[]) AS q(kind, key, weight, cap)
), postings AS (
    SELECT q.kind, q.key, q.weight, p.entity_id
    FROM q CROSS JOIN LATERAL (
        (SELECT k.entity_id FROM entities_namekey k
          WHERE k.kind = q.kind AND k.key = q.key AND k.investigation_id = ANY(%(cases)s)
          LIMIT q.cap)
        UNION ALL
        (SELECT k.entity_id FROM entities_namekey k
          WHERE k.kind = q.kind AND k.key = q.key AND k.investigation_id IS NULL
            AND {datasets}
          LIMIT q.cap)
    ) AS p
), weighted AS (
    SELECT entity_id, weight / ln(2 + count(*) OVER (PARTITION BY kind, key)) AS w FROM postings
    UNION ALL
    SELECT DISTINCT i.entity_id, 100 FROM entities_identifier i
      JOIN entities_entity e ON e.id = i.entity_id
      JOIN unnest(%(id_schemes)s::text[], %(id_values)s::text[]) AS x(scheme, value)
        ON i.scheme = x.scheme AND i.value = x.value
     WHERE e.investigation_id = ANY(%(cases)s)
        OR (e.investigation_id IS NULL AND {datasets_e})
), top AS (
    SELECT entity_id, sum(w) AS w FROM weighted GROUP BY entity_id
    ORDER BY sum(w) DESC, entity_id LIMIT %(top)s
)
SELECT t.entity_id, t.w, array_agg(n.name ORDER BY n.id), array_agg(n.norm ORDER BY n.id)
FROM top t JOIN entities_entityname n ON n.entity_id = t.entity_id
GROUP BY t.entity_id, t.w
"""
_PINNED = (
    "{t}.entity_id IN (SELECT p.entity_id FROM entities_pin p WHERE p.investigation_id = %(pins)s)"
)


@dataclass(frozen=True)
class Scope:
    """Where candidates may come from: these case files, and the datasets: all of them, one
    (`dataset`), or only the entities pinned into a case file (`pins`)."""

    cases: tuple[int, ...] = ()
    dataset: int | None = None
    pins: int | None = None

    def sql(self) -> str:
        if self.pins is not None:
            keys, entities = _PINNED.format(t="k"), _PINNED.format(t="i")
        elif self.dataset is not None:
            keys, entities = "k.dataset_id = %(dataset)s", "e.dataset_id = %(dataset)s"
        else:
            keys = entities = "true"
        return _CANDIDATES_SQL.format(datasets=keys, datasets_e=entities)


@dataclass
class SearchHit:
    entity: Entity
    matched_name: str
    score: float
    case: Investigation | None
    reason: Reason = Reason.SAME

    @property
    def why(self) -> str:
        return self.reason.label


@dataclass(frozen=True)
class Scored:
    entity_id: int
    name: str
    score: float
    reason: Reason
    weight: float


def _correct(cursor, query: Query, cases: list[int]) -> None:
    words = [w for w in query.words if w not in _SHARED_WORDS]
    if not words:
        return
    cursor.execute(
        _CORRECTIONS_SQL,
        {
            "words": words,
            "dels": [" ".join(deletions(w, 2 if max_edits(w) > 1 else 1)) for w in words],
            "cases": cases,
        },
    )
    for word, known, shared, found in cursor.fetchall():
        if shared:
            _SHARED_WORDS[word] = None
            while len(_SHARED_WORDS) > _SHARED_WORDS_MAX:
                del _SHARED_WORDS[next(iter(_SHARED_WORDS))]
        if not known:
            fixes = choose_corrections(word, found or [])
            if fixes:
                query.corrections[word] = fixes


def rank(queries: list[Query], rows: list[tuple], *, identified: set[int]) -> list[Scored]:
    """Score every candidate's names against the queries; best first, weak ones dropped."""
    scored = []
    for entity_id, weight, names, norms in rows:
        best = (-1.0, Reason.TYPO, "")
        for query in queries:
            for name, norm in zip(names, norms, strict=True):
                score, why = score_name(query, norm, name)
                if score > best[0] or (score == best[0] and why < best[1]):
                    best = (score, why, name)
        score, why, name = best
        if entity_id in identified:
            score, why = max(score, 1.0), Reason.IDENTIFIER
        if score >= MIN_SCORE:
            scored.append(Scored(entity_id, name, score, why, float(weight)))
    scored.sort(
        key=lambda s: (s.reason == Reason.IDENTIFIER, s.score, -s.reason, s.weight), reverse=True
    )
    return scored


def candidates(
    queries: list[Query],
    scope: Scope,
    *,
    identifiers: Iterable[tuple[str, str]] = (),
    top: int = CANDIDATES,
    correct: bool = True,
) -> list[Scored]:
    """Entities in scope that may carry one of the queries' names or identifiers (the query's
    value under any scheme, or these (scheme, value) pairs), ranked."""
    queries = [q for q in queries if q.spellings or q.identifier]
    if not queries and not identifiers:
        return []
    cases = list(scope.cases)
    keys: dict[tuple[int, str], Lookup] = {}
    with connection.cursor() as cursor:
        for query in queries:
            if correct:
                _correct(cursor, query, cases)
            for k in lookups(query):
                if (k.kind, k.key) not in keys or keys[(k.kind, k.key)].weight < k.weight:
                    keys[(k.kind, k.key)] = k
        idents = list(identifiers) + [
            (scheme, q.identifier) for q in queries if q.identifier for scheme in Scheme.values
        ]
        cursor.execute(
            scope.sql(),
            {
                "kinds": [k.kind for k in keys.values()],
                "keys": [k.key for k in keys.values()],
                "weights": [k.weight for k in keys.values()],
                "caps": [k.cap for k in keys.values()],
                "cases": cases,
                "dataset": scope.dataset,
                "pins": scope.pins,
                "id_schemes": [s for s, _ in idents],
                "id_values": [v for _, v in idents],
                "top": top,
            },
        )
        rows = cursor.fetchall()
    identified = {row[0] for row in rows if row[1] >= 100} if idents else set()
    return rank(queries, rows, identified=identified)


def search_entities(*, user, query: str, limit: int = SEARCH_LIMIT) -> list[SearchHit]:
    """Entities of my case files and of the datasets whose name or identifier matches, best
    first, each with why it matched."""
    parsed = parse_query(query)
    if not parsed.spellings and not parsed.identifier:
        return []
    cases = tuple(access.visible_investigations(user).values_list("pk", flat=True))
    found = candidates([parsed], Scope(cases=cases))[:limit]
    entities = Entity.objects.select_related("investigation", "dataset").in_bulk(
        [s.entity_id for s in found]
    )
    return [
        SearchHit(
            entity=entities[s.entity_id],
            matched_name=s.name,
            score=round(s.score, 3),
            case=entities[s.entity_id].investigation,
            reason=s.reason,
        )
        for s in found
        if s.entity_id in entities
    ]


# --- Possible duplicates ----------------------------------------------------------------------


@dataclass
class Duplicate:
    entity: Entity
    score: float
    reason: str
    # Where the other entity lives: this entity's own scope, or a dataset entity pinned into
    # the case (which can be linked, not merged).
    pinned: bool = False


def possible_duplicates(
    *, entity: Entity, case: Investigation | None = None, limit: int = 10
) -> list[Duplicate]:
    """Entities that may be this one: the same identifier first, then matching names (scored
    like a search for each of this entity's names; a score of 0.7 or more). One query, and two
    more to load what it found.

    Seen in a case file (a case entity, or a dataset entity pinned into `case`): the case's
    own entities and the dataset entities pinned into it. Seen in its dataset: the dataset's.
    The entity's identifiers should be prefetched (entity_in_case and entity_in_dataset do).
    """
    case_id = entity.investigation_id or (case.pk if case is not None else None)
    scope = Scope(cases=(case_id,), pins=case_id) if case_id else Scope(dataset=entity.dataset_id)
    names = dedupe([entity.name, *entity.aliases])[:5]
    found = candidates(
        [parse_query(n) for n in names],
        scope,
        identifiers=[(i.scheme, i.value) for i in entity.identifiers.all()],
        top=40,
        correct=False,
    )
    found = [s for s in found if s.entity_id != entity.pk and s.score >= 0.7]
    others = (
        _with_identifiers(Entity.objects.select_related("dataset"))
        .filter(pk__in=[s.entity_id for s in found])
        .in_bulk()
    )
    out = [
        Duplicate(entity=others[s.entity_id], score=round(s.score, 2), reason=s.reason.label)
        for s in found[:limit]
        if s.entity_id in others
    ]
    for d in out:
        d.pinned = d.entity.dataset_id is not None and entity.dataset_id is None
    return out
