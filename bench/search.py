"""Name search over a large dataset: latency and hit rate of entities.selectors.search_entities.

    make bench-search            # 1,000,000 entities (generated once, then reused)
    make bench-search N=100000   # another size: its own dataset "bench-100k"

Generates N entities with mixed Cyrillic/Latin company and person names into the dataset
"bench-<N>" of the casefile_bench database (COPY, two worker processes for the names), then
times ~200 searches of six kinds through the real selector as a member of one small case file.
Prints a table and writes bench/out/search-<date>.json. When p95 misses the target it runs
EXPLAIN (ANALYZE, BUFFERS) on the slowest kinds and measures alternative SQL and settings.
"""

import argparse
import json
import multiprocessing
import random
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # sets up the path and the bench database before Django
import namegen

TARGET_P95_MS = 50.0
SEED = 1
KINDS = {  # kind: number of measured queries
    "exact": 40,
    "cross_script": 40,
    "partial": 30,
    "typo": 40,
    "legal_form": 30,
    "nonsense": 20,
}
WARMUP = 20
CHUNK = 20_000
# public_id of entity i of a dataset: stable, and distinct between datasets of other sizes.
BENCH_NAMESPACE = uuid.UUID("5b1e0d1c-2f8e-4c43-9a57-0c1a6c0f4b21")


def label(n: int) -> str:
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


# --- Generation (runs in worker processes) ---------------------------------------------------


def _copy_field(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _pg_array(items: list[str]) -> str:
    quoted = ('"' + i.replace("\\", "\\\\").replace('"', '\\"') + '"' for i in items)
    return "{" + ",".join(quoted) + "}"


def generate_chunk(args: tuple[int, int, int, int, int, str]) -> tuple[bytes, bytes, int]:
    """COPY text for entities [start, stop) and for their EntityName rows."""
    from entities.names import name_forms

    seed, start, stop, first_id, dataset_id, now = args
    entities, names = [], []
    n_names = 0
    for i in range(start, stop):
        s = namegen.spec(seed, i)
        entity_id = first_id + i
        entities.append(
            "\t".join(
                (
                    str(entity_id),
                    str(uuid.uuid5(BENCH_NAMESPACE, f"{dataset_id}:{i}")),
                    s.schema,
                    _copy_field(s.name),
                    _copy_field(_pg_array(s.aliases)),
                    _pg_array(s.countries),
                    _pg_array(s.nationality),
                    s.start_date,
                    "",
                    "{}",
                    "",
                    "",
                    now,
                    now,
                    f"bench-{i}",
                    "{}",
                    str(dataset_id),
                )
            )
        )
        for name in [s.name, *s.aliases]:
            norm, phonetic = name_forms(name)
            names.append(
                "\t".join(
                    (
                        _copy_field(name[:500]),
                        _copy_field(norm[:500]),
                        phonetic[:200],
                        str(dataset_id),
                        str(entity_id),
                    )
                )
            )
            n_names += 1
    return ("\n".join(entities) + "\n").encode(), ("\n".join(names) + "\n").encode(), n_names


ENTITY_COLUMNS = (
    "id, public_id, schema, name, aliases, countries, nationality, start_date, end_date, "
    "addresses, notes, source, created_at, updated_at, ftm_id, extra, dataset_id"
)
NAME_COLUMNS = "name, norm, phonetic, dataset_id, entity_id"
LOAD_TABLES = ("entities_entity", "entities_entityname")


def load(dataset, n: int, seed: int) -> dict:
    """Fill the dataset with n entities in one transaction; returns timings in seconds."""
    from django.db import connection, transaction

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM entities_entity WHERE dataset_id = %s)", [dataset.pk]
        )
        stale = cur.fetchone()[0]
    if stale:
        # Rows of an older generator or an interrupted run. Deleted and vacuumed first, in
        # their own transaction: deleted in the loading one, they would stay in the rebuilt
        # indexes and double the table, and the timings would measure that bloat.
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute("DELETE FROM entities_entityname WHERE dataset_id = %s", [dataset.pk])
            cur.execute("DELETE FROM entities_entity WHERE dataset_id = %s", [dataset.pk])
        with connection.cursor() as cur:
            for table in LOAD_TABLES:
                cur.execute(f"VACUUM {table}")
        timings["delete_old_rows"] = time.perf_counter() - t0
        print(f"  old rows deleted ({timings['delete_old_rows']:.0f} s)", flush=True)
    t_load = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        # Deferred foreign-key checks would still be pending when the indexes are rebuilt,
        # which PostgreSQL refuses: check each row as it is copied instead.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # Secondary indexes are rebuilt once after the load instead of row by row; the
        # definitions come from the catalogue, so they are exactly the migrated ones. DDL is
        # transactional: a failed load leaves them as they were.
        cur.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                 FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[])
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            [list(LOAD_TABLES)],
        )
        index_defs = cur.fetchall()
        for name, _ in index_defs:
            cur.execute(f'DROP INDEX "{name}"')
        cur.execute("SELECT nextval(pg_get_serial_sequence('entities_entity', 'id'))")
        first_id = cur.fetchone()[0]
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('entities_entity', 'id'), %s)", [first_id + n]
        )
        now = datetime.now(UTC).isoformat()
        chunks = [
            (seed, s, min(s + CHUNK, n), first_id, dataset.pk, now) for s in range(0, n, CHUNK)
        ]
        name_parts: list[bytes] = []
        n_names = 0
        pg = connection.connection  # the psycopg connection under Django's wrapper
        ctx = multiprocessing.get_context("spawn")
        with (
            ctx.Pool(2) as pool,
            pg.cursor() as raw,
            raw.copy(f"COPY entities_entity ({ENTITY_COLUMNS}) FROM STDIN") as copy,
        ):
            for done, (ent, nam, k) in enumerate(pool.imap(generate_chunk, chunks), 1):
                copy.write(ent)
                name_parts.append(nam)
                n_names += k
                if done % 10 == 0 or done == len(chunks):
                    print(
                        f"  entities {min(done * CHUNK, n):>9,} / {n:,}"
                        f"  ({time.perf_counter() - t_load:.0f} s)",
                        flush=True,
                    )
        timings["generate_and_copy_entities"] = time.perf_counter() - t_load
        t1 = time.perf_counter()
        with (
            pg.cursor() as raw,
            raw.copy(f"COPY entities_entityname ({NAME_COLUMNS}) FROM STDIN") as copy,
        ):
            for part in name_parts:
                copy.write(part)
        name_parts.clear()
        timings["copy_names"] = time.perf_counter() - t1
        print(f"  names {n_names:,} copied ({timings['copy_names']:.0f} s)", flush=True)
        t2 = time.perf_counter()
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, definition in index_defs:
            t = time.perf_counter()
            cur.execute(definition)
            print(f"  index {name} ({time.perf_counter() - t:.0f} s)", flush=True)
        timings["indexes"] = time.perf_counter() - t2
    t4 = time.perf_counter()
    with connection.cursor() as cur:
        # Outside the transaction: hint bits and the visibility map, as on a settled database.
        cur.execute("VACUUM ANALYZE entities_entity")
        cur.execute("VACUUM ANALYZE entities_entityname")
    timings["vacuum_analyze"] = time.perf_counter() - t4
    timings["total"] = time.perf_counter() - t0
    timings["names"] = n_names
    return timings


def ensure_data(n: int, seed: int):
    from django.db import connection

    from entities.models import Dataset, Entity

    # The description names the generator version: data of an older generator is remade.
    description = (
        f"Search benchmark: {n:,} generated entities (seed {seed}, names v{namegen.VERSION})."
    )
    dataset, _ = Dataset.objects.get_or_create(
        name=f"bench-{label(n)}", defaults={"description": description}
    )
    have = Entity.objects.filter(dataset=dataset).count()
    if have == n and dataset.description == description:
        print(f"dataset {dataset.name}: {have:,} entities already there, not generating")
        return dataset, None
    print(f"dataset {dataset.name}: {have:,} entities, generating {n:,} ...", flush=True)
    timings = load(dataset, n, seed)
    Dataset.objects.filter(pk=dataset.pk).update(description=description)  # only once loaded
    connection.close()
    print(
        f"generated in {timings['total']:.0f} s: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items() if k not in ("total", "names"))
    )
    return dataset, timings


def ensure_searcher():
    """A user who is a member of one small case file (so the case filter is exercised)."""
    from django.contrib.auth import get_user_model

    from entities.services import Scope, entity_create
    from investigations.models import Investigation
    from investigations.services import investigation_create

    user, _ = get_user_model().objects.get_or_create(username="bench-searcher")
    case = Investigation.objects.filter(slug="bench-search-case").first()
    if case is None:
        case = investigation_create(
            title="Bench search case", created_by=user, slug="bench-search-case"
        )
        rng = random.Random("case")  # noqa: S311  (test data, not secrets)
        for i in range(25):
            s = namegen.spec(10_000 + SEED, rng.randrange(10**9) + i)
            entity_create(
                scope=Scope(investigation=case),
                name=s.name,
                aliases=s.aliases,
                schema=s.schema,
                created_by=user,
            )
    return user


# --- Queries ---------------------------------------------------------------------------------


def make_queries(n: int, seed: int, counts: dict[str, int], rng_seed: str) -> list[dict]:
    """Queries of each kind with the generated entity each should find (None: nothing)."""
    rng = random.Random(rng_seed)  # noqa: S311
    queries: list[dict] = []

    def pick(accept) -> namegen.Spec:
        while True:
            s = namegen.spec(seed, rng.randrange(n))
            if accept(s):
                return s

    def is_cyrillic(text: str) -> bool:
        return any("\u0400" <= c <= "\u04ff" for c in text)

    for kind, count in counts.items():
        for j in range(count):
            if kind == "exact":
                s = pick(lambda s: True)
                q = s.name
            elif kind == "cross_script":
                # Half Cyrillic names queried in Latin, half the other way round.
                want_cyr = j % 2 == 0
                s = pick(lambda s, w=want_cyr: is_cyrillic(s.name) == w)
                q = s.other_script
            elif kind == "partial":
                s = pick(lambda s: len(s.words) >= 2)
                q = rng.choice([w for w in s.words if len(w) >= 3] or s.words)
            elif kind == "typo":
                s = pick(lambda s: any(len(w) >= 4 for w in s.words))
                q = namegen.typo(s.name, s.words, rng)
            elif kind == "legal_form":
                s = pick(lambda s: bool(s.legal_variant))
                q = s.legal_variant
            else:
                s, q = None, namegen.nonsense(rng)
            queries.append(
                {
                    "kind": kind,
                    "query": q,
                    "index": s.index if s else None,
                    "name": s.name if s else None,
                }
            )
    return queries


def resolve_expected(dataset, queries: list[dict]) -> None:
    from entities.models import Entity
    from entities.names import name_forms

    keys = {f"bench-{q['index']}" for q in queries if q["index"] is not None}
    ids = dict(Entity.objects.filter(dataset=dataset, ftm_id__in=keys).values_list("ftm_id", "id"))
    for q in queries:
        q["expected_id"] = ids.get(f"bench-{q['index']}") if q["index"] is not None else None
        if q["index"] is not None:
            s = namegen.spec(SEED, q["index"])
            q["expected_norms"] = sorted({name_forms(n)[0] for n in [s.name, *s.aliases]})
        else:
            q["expected_norms"] = []


class SqlTimer:
    """connection.execute_wrapper: the time of the ranking SQL alone."""

    def __init__(self) -> None:
        self.last_ms = 0.0

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if "entities_entityname" in sql:
                self.last_ms = (time.perf_counter() - t) * 1000


def run_queries(user, queries: list[dict]) -> None:
    from django.db import connection

    from entities.names import name_forms
    from entities.selectors import search_entities

    timer = SqlTimer()
    with connection.execute_wrapper(timer):
        for q in queries:
            t = time.perf_counter()
            hits = search_entities(user=user, query=q["query"])
            q["ms"] = (time.perf_counter() - t) * 1000
            q["sql_ms"] = timer.last_ms
            ids = [h.entity.pk for h in hits]
            q["results"] = len(ids)
            q["top"] = [(h.matched_name, round(h.score, 3)) for h in hits[:3]]
            if q["expected_id"] is None:
                q["hit"] = q["hit_name"] = not ids
                q["rank"] = None
            else:
                q["hit"] = q["expected_id"] in ids
                q["rank"] = ids.index(q["expected_id"]) + 1 if q["hit"] else None
                # A namesake (same normalized name) found instead: search cannot tell them
                # apart, so this counts as a hit of the name, not of the entity.
                q["hit_name"] = q["hit"] or any(
                    name_forms(h.matched_name)[0] in q["expected_norms"] for h in hits
                )


def summarise(queries: list[dict]) -> dict:
    p = benchdb.percentile
    groups: dict[str, list[dict]] = defaultdict(list)
    for q in queries:
        groups[q["kind"]].append(q)
    groups["all"] = list(queries)
    out = {}
    for kind, qs in groups.items():
        ms = [q["ms"] for q in qs]
        sql = [q["sql_ms"] for q in qs]
        out[kind] = {
            "n": len(qs),
            "p50_ms": p(ms, 50),
            "p95_ms": p(ms, 95),
            "p99_ms": p(ms, 99),
            "max_ms": max(ms),
            "sql_p50_ms": p(sql, 50),
            "sql_p95_ms": p(sql, 95),
            "hit_rate": sum(q["hit"] for q in qs) / len(qs),
            "name_hit_rate": sum(q["hit_name"] for q in qs) / len(qs),
            "mean_results": sum(q["results"] for q in qs) / len(qs),
        }
    return out


def print_table(summary: dict) -> None:
    head = (
        f"{'kind':<13}{'n':>4}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"
        f"{'sql p50':>9}{'sql p95':>9}{'hit':>6}{'name hit':>10}{'results':>9}"
    )
    print(head)
    print("-" * len(head))
    for kind, s in summary.items():
        print(
            f"{kind:<13}{s['n']:>4}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"{s['max_ms']:>9.1f}{s['sql_p50_ms']:>9.1f}{s['sql_p95_ms']:>9.1f}"
            f"{s['hit_rate']:>6.0%}{s['name_hit_rate']:>10.0%}{s['mean_results']:>9.1f}"
        )
    print(
        "(ms, wall time of search_entities; sql = the ranking query alone; hit = the expected "
        "entity is in the top 20; name hit = it or a namesake with the same normalized name "
        "is; for nonsense both mean no result)"
    )


# --- When the target is missed: EXPLAIN and alternatives -----------------------------------


def selector_sql() -> str:
    """The statement search_entities runs, built from the selector's own SQL text."""
    from entities.selectors import _SEARCH_SQL

    return (
        f"SELECT entity_id, name, score FROM ({_SEARCH_SQL}) ranked "  # noqa: S608
        "ORDER BY score DESC, entity_id LIMIT %(limit)s"
    )


def sql_params(user, query: str) -> dict:
    from entities.names import name_forms
    from entities.selectors import PHONETIC_SCORE, SEARCH_LIMIT
    from investigations import access

    norm, phonetic = name_forms(query)
    cases = list(access.visible_investigations(user).values_list("pk", flat=True))
    return {
        "norm": norm,
        "phonetic": phonetic,
        "pscore": PHONETIC_SCORE,
        "cases": cases,
        "limit": SEARCH_LIMIT,
    }


# Alternatives to measure: (name, settings, SQL or None for the selector's own). Same score
# expression and threshold as the selector; they differ in how candidates are found and in
# breaking ties of equal score by whole-name similarity.
_SCORE = """GREATEST(similarity({t}.norm, %(norm)s), word_similarity(%(norm)s, {t}.norm),
                    CASE WHEN {t}.phonetic = %(phonetic)s AND %(phonetic)s <> '' THEN %(pscore)s
                         ELSE 0 END)"""
_SCOPE = "(n.dataset_id IS NOT NULL OR n.investigation_id = ANY(%(cases)s))"
_MATCH = "(%(norm)s <%% {t}.norm OR ({t}.phonetic = %(phonetic)s AND %(phonetic)s <> ''))"
_TOP = """SELECT entity_id, name, score FROM (
    SELECT DISTINCT ON (entity_id) entity_id, name, score, sim FROM hits
     ORDER BY entity_id, score DESC, sim DESC
) ranked ORDER BY score DESC, sim DESC, entity_id LIMIT %(limit)s"""

TIEBREAK_SQL = f"""
WITH hits AS (
    SELECT n.entity_id, n.name, {_SCORE.format(t="n")} AS score,
           similarity(n.norm, %(norm)s) AS sim
      FROM entities_entityname n
     WHERE {_SCOPE} AND {_MATCH.format(t="n")}
)
{_TOP}
"""  # noqa: S608  (constant SQL; values go in as parameters)

_COLS = "n.entity_id, n.name, n.norm, n.phonetic"
EXACT_BRANCH = (
    f"(SELECT {_COLS} FROM entities_entityname n "  # noqa: S608
    # A range, not "=": pg_trgm's index classes support equality too, and the planner may
    # then read thousands of trigram matches instead of the B-tree's few equal names.
    f"WHERE {_SCOPE} AND n.norm >= %(norm)s AND n.norm <= %(norm)s LIMIT 100)"
)
PHONETIC_BRANCH = (
    f"(SELECT {_COLS} FROM entities_entityname n WHERE {_SCOPE} "  # noqa: S608
    "AND n.phonetic = %(phonetic)s AND %(phonetic)s <> '' LIMIT 200)"
)


def gin_capped(cap: int) -> str:
    return (
        f"(SELECT {_COLS} FROM entities_entityname n "  # noqa: S608
        f"WHERE {_SCOPE} AND %(norm)s <%% n.norm LIMIT {cap})"
    )


def gist_knn(k: int) -> str:
    return (
        f"(SELECT {_COLS} FROM entities_entityname n "  # noqa: S608
        f"WHERE {_SCOPE} ORDER BY n.norm <->> %(norm)s LIMIT {k})"
    )


def candidates_sql(fuzzy_branch: str) -> str:
    """Rank a bounded candidate set: exact names (B-tree), phonetic keys, and fuzzy matches."""
    return f"""
WITH cand AS (
    {EXACT_BRANCH}
    UNION ALL {PHONETIC_BRANCH}
    UNION ALL {fuzzy_branch}
), hits AS (
    SELECT c.entity_id, c.name, {_SCORE.format(t="c")} AS score,
           similarity(c.norm, %(norm)s) AS sim
      FROM cand c
     WHERE {_MATCH.format(t="c")}
)
{_TOP}
"""  # noqa: S608


GIST_INDEX = "bench_experiment_norm_gist"


def alternatives(*, gist: bool) -> list[tuple[str, list[str], str | None]]:
    variants: list[tuple[str, list[str], str | None]] = [
        ("selector as is", [], None),
        ("jit = off", ["SET LOCAL jit = off"], None),
        ("work_mem = 64MB", ["SET LOCAL work_mem = '64MB'"], None),
        (
            "word_similarity_threshold 0.7",
            ["SET LOCAL pg_trgm.word_similarity_threshold = 0.7"],
            None,
        ),
        (
            "word_similarity_threshold 0.8",
            ["SET LOCAL pg_trgm.word_similarity_threshold = 0.8"],
            None,
        ),
        ("ties broken by similarity", [], TIEBREAK_SQL),
        ("exact+phonetic+GIN LIMIT 1000", [], candidates_sql(gin_capped(1000))),
        ("exact+phonetic+GIN LIMIT 500", [], candidates_sql(gin_capped(500))),
        (
            "exact+phonetic+GIN LIMIT 1000, 0.7",
            ["SET LOCAL pg_trgm.word_similarity_threshold = 0.7"],
            candidates_sql(gin_capped(1000)),
        ),
    ]
    if gist:  # measured once: kNN by word distance reads most of the index (0.5-1 s a query)
        variants.append(("exact+phonetic+GiST kNN 200", [], candidates_sql(gist_knn(200))))
    return variants


def run_sql(sql: str, settings: list[str], params: dict) -> tuple[float, list[int]]:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cur:
        for s in settings:
            cur.execute(s)
        t = time.perf_counter()
        cur.execute(sql, params)
        rows = cur.fetchall()
        ms = (time.perf_counter() - t) * 1000
    return ms, [r[0] for r in rows]


def explain(user, queries: list[dict], summary: dict, *, gist: bool) -> dict:
    from django.db import connection, transaction

    report: dict = {"plans": {}, "alternatives": {}}
    kinds = sorted((k for k in summary if k != "all"), key=lambda k: -summary[k]["p95_ms"])
    for kind in kinds[:3]:
        q = max((q for q in queries if q["kind"] == kind), key=lambda q: q["sql_ms"])
        params = sql_params(user, q["query"])
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS, SETTINGS) " + selector_sql(), params)
            plan = "\n".join(r[0] for r in cur.fetchall())
        report["plans"][kind] = {
            "query": q["query"],
            "norm": params["norm"],
            "phonetic": params["phonetic"],
            "plan": plan,
        }
        print(
            f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest {kind} query {q['query']!r} "
            f"(norm {params['norm']!r}, phonetic {params['phonetic']!r}):\n{plan}"
        )

    print(
        "\nAlternatives (the ranking SQL alone, same queries, each after one warm-up pass;"
        " hit = expected entity in the top 20):"
    )
    print(
        f"{'variant':<34}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}{'hit':>6}"
        + "".join(f"{k[:8]:>9}" for k in KINDS)
    )
    params_of = [sql_params(user, q["query"]) for q in queries]
    measured = [(q, params) for q, params in zip(queries, params_of, strict=True) if params["norm"]]
    plain = [v for v in alternatives(gist=gist) if "GiST" not in v[0]]
    for name, settings, sql in plain:
        report["alternatives"][name] = measure_variant(name, settings, sql, measured)
    if gist:
        report["gist_build_s"] = build_gist()
        try:
            for name, settings, sql in alternatives(gist=True):
                if "GiST" in name:
                    report["alternatives"][name] = measure_variant(name, settings, sql, measured)
            # The plan of the first kNN variant for the slowest query of all.
            slowest = max(queries, key=lambda q: q["sql_ms"])
            name, _, sql = next(v for v in alternatives(gist=True) if "GiST" in v[0])
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, sql_params(user, slowest["query"]))
                plan = "\n".join(r[0] for r in cur.fetchall())
            report["plans"][f"{name}: {slowest['query']}"] = {"plan": plan}
            print(f"\nEXPLAIN (ANALYZE, BUFFERS) of {name} for {slowest['query']!r}:\n{plan}")
        finally:
            drop_gist()
    return report


def measure_variant(name: str, settings: list[str], sql: str | None, measured: list) -> dict:
    text = sql or selector_sql()
    for _q, params in measured[:WARMUP]:
        run_sql(text, settings, params)
    times, hits = [], defaultdict(list)
    for q, params in measured:
        ms, ids = run_sql(text, settings, params)
        times.append(ms)
        hit = not ids if q["expected_id"] is None else q["expected_id"] in ids
        hits[q["kind"]].append(hit)
        hits["all"].append(hit)
    p = benchdb.percentile
    row = {
        "settings": settings,
        "sql": sql,
        "p50_ms": p(times, 50),
        "p95_ms": p(times, 95),
        "p99_ms": p(times, 99),
        "max_ms": max(times),
        "hit_rate": {k: sum(v) / len(v) for k, v in hits.items()},
    }
    print(
        f"{name:<34}{row['p50_ms']:>8.1f}{row['p95_ms']:>8.1f}{row['p99_ms']:>8.1f}"
        f"{row['max_ms']:>8.1f}{row['hit_rate']['all']:>6.0%}"
        + "".join(f"{row['hit_rate'].get(k, 0):>9.0%}" for k in KINDS),
        flush=True,
    )
    return row


def build_gist() -> float:
    """The experimental GiST index for kNN ordering (dropped again after the experiment)."""
    from django.db import connection

    print(f"  (building {GIST_INDEX} ...)", flush=True)
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(
            f"CREATE INDEX IF NOT EXISTS {GIST_INDEX} ON entities_entityname "
            "USING gist (norm gist_trgm_ops)"
        )
        cur.execute("RESET maintenance_work_mem")
        cur.execute("ANALYZE entities_entityname")
    seconds = time.perf_counter() - t
    print(f"  (built in {seconds:.0f} s)", flush=True)
    return seconds


def drop_gist() -> None:
    """The bench schema stays the migrated one: other runs must not plan with this index."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"DROP INDEX IF EXISTS {GIST_INDEX}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="entities in the dataset")
    parser.add_argument(
        "--try-gist",
        action="store_true",
        help="also measure kNN candidates from a GiST index (built for the experiment, about "
        "20 s for 1M entities, and dropped afterwards; slow, see bench/README.md)",
    )
    parser.add_argument(
        "--no-explain",
        action="store_true",
        help="skip EXPLAIN and alternatives even when the target is missed",
    )
    args = parser.parse_args()

    benchdb.setup()
    from django.db import connection

    dataset, timings = ensure_data(args.n, SEED)
    user = ensure_searcher()
    warmup = make_queries(args.n, SEED, {k: 4 for k in KINDS if k != "nonsense"}, "warmup")
    queries = make_queries(args.n, SEED, KINDS, "measure")
    resolve_expected(dataset, warmup + queries)
    run_queries(user, warmup[:WARMUP])
    run_queries(user, queries)
    summary = summarise(queries)
    print(
        f"\nsearch_entities over {dataset.name} ({args.n:,} entities), "
        f"{len(queries)} queries after {WARMUP} warm-up:"
    )
    print_table(summary)
    p95 = summary["all"]["p95_ms"]
    print(
        f"\np95 {p95:.1f} ms: target {TARGET_P95_MS:.0f} ms "
        f"{'met' if p95 <= TARGET_P95_MS else 'MISSED'}"
    )
    analysis = None
    if p95 > TARGET_P95_MS and not args.no_explain:
        analysis = explain(user, queries, summary, gist=args.try_gist)

    with connection.cursor() as cur:
        cur.execute(
            "SELECT version(), current_setting('shared_buffers'), "
            "current_setting('work_mem'), current_setting('jit'), "
            "pg_size_pretty(pg_total_relation_size('entities_entityname')), "
            "pg_size_pretty(pg_relation_size('entityname_norm_trgm')), "
            "(SELECT count(*) FROM entities_entityname WHERE dataset_id = %s)",
            [dataset.pk],
        )
        version, shared_buffers, work_mem, jit, names_size, trgm_size, names = cur.fetchone()
    benchdb.OUT_DIR.mkdir(exist_ok=True)
    out = benchdb.OUT_DIR / f"search-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "n": args.n,
                "dataset": dataset.name,
                "entity_names": names,
                "target_p95_ms": TARGET_P95_MS,
                "generation_seconds": timings,
                "postgres": {
                    "version": version,
                    "shared_buffers": shared_buffers,
                    "work_mem": work_mem,
                    "jit": jit,
                    "entityname_total_size": names_size,
                    "trgm_index_size": trgm_size,
                },
                "summary": summary,
                "queries": queries,
                "analysis": analysis,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )
    print(f"\nwrote {out.relative_to(benchdb.BASE_DIR)}")


if __name__ == "__main__":
    main()
