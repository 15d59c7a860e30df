"""Name search over a large dataset: latency and hit rate of entities.search.search_entities.

    make bench-search            # 1,000,000 entities (generated once, then reused)
    make bench-search N=100000   # another size: its own dataset "bench-100k"

Generates N entities with mixed Cyrillic/Latin company and person names into the dataset
"bench-<N>" of the bench database (COPY, two worker processes for the names and their match
keys), then times searches of every kind of name form (exact, other script, passport and ISO 9
transliterations, Kazakh Latin, initials, name order, patronymic absent, one word, typos, legal
forms, nonsense) through the real selector as a member of one small case file, alternating with
a bare pg_trgm word_similarity top-20 over the same names as the reference. Prints a table and
writes bench/out/search-<date>.json. When a target is missed it prints the EXPLAIN of the
slowest query's candidate SQL.
"""

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # sets up the path and the bench database before Django
import iuliia
import namegen

TARGET_P95_MS = 50.0
SEED = 1
KINDS = {  # kind: number of measured queries
    "exact": 40,
    "cross_script": 40,
    "passport": 30,
    "iso9": 30,
    "kazakh_latin": 30,
    "initials": 40,
    "name_order": 30,
    "no_patronymic": 30,
    "partial": 30,
    "typo": 40,
    "typo_missing": 30,
    "typo_swap": 30,
    "legal_form": 40,
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


def generate_chunk(args: tuple[int, int, int, int, int, str]) -> tuple[bytes, bytes, bytes, int]:
    """COPY text for entities [start, stop), their EntityName rows and their NameKey rows."""
    from entities.names import name_keys, normalize

    seed, start, stop, first_id, dataset_id, now = args
    entities, names, keys = [], [], []
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
        found: set = set()
        for name in [s.name, *s.aliases]:
            names.append(
                "\t".join(
                    (
                        _copy_field(name[:500]),
                        _copy_field(normalize(name)[:500]),
                        str(dataset_id),
                        str(entity_id),
                    )
                )
            )
            found |= name_keys(name, person=s.schema == "Person")
            n_names += 1
        keys.extend(
            f"{entity_id}\t{dataset_id}\t{int(kind)}\t{_copy_field(key)}"
            for kind, key in sorted(found)
        )
    return (
        ("\n".join(entities) + "\n").encode(),
        ("\n".join(names) + "\n").encode(),
        ("\n".join(keys) + "\n").encode(),
        n_names,
    )


ENTITY_COLUMNS = (
    "id, public_id, schema, name, aliases, countries, nationality, start_date, end_date, "
    "addresses, notes, source, created_at, updated_at, ftm_id, extra, dataset_id"
)
NAME_COLUMNS = "name, norm, dataset_id, entity_id"
KEY_COLUMNS = "entity_id, dataset_id, kind, key"
LOAD_TABLES = ("entities_entity", "entities_entityname", "entities_namekey")


def _copy_parts(pg, table: str, columns: str, parts: list[bytes]) -> float:
    """COPY the chunks' text into a table; returns the seconds it took."""
    t = time.perf_counter()
    with pg.cursor() as raw, raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for part in parts:
            copy.write(part)
    parts.clear()
    return time.perf_counter() - t


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
            cur.execute("DELETE FROM entities_namekey WHERE dataset_id = %s", [dataset.pk])
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
        key_parts: list[bytes] = []
        n_names = 0
        pg = connection.connection  # the psycopg connection under Django's wrapper
        ctx = multiprocessing.get_context("spawn")
        with (
            ctx.Pool(2) as pool,
            pg.cursor() as raw,
            raw.copy(f"COPY entities_entity ({ENTITY_COLUMNS}) FROM STDIN") as copy,
        ):
            for done, (ent, nam, key, k) in enumerate(pool.imap(generate_chunk, chunks), 1):
                copy.write(ent)
                name_parts.append(nam)
                key_parts.append(key)
                n_names += k
                if done % 10 == 0 or done == len(chunks):
                    print(
                        f"  entities {min(done * CHUNK, n):>9,} / {n:,}"
                        f"  ({time.perf_counter() - t_load:.0f} s)",
                        flush=True,
                    )
        timings["generate_and_copy_entities"] = time.perf_counter() - t_load
        timings["copy_names"] = _copy_parts(pg, "entities_entityname", NAME_COLUMNS, name_parts)
        print(f"  names {n_names:,} copied ({timings['copy_names']:.0f} s)", flush=True)
        # The table's trigger lists the new words (entities_nametoken) as the COPY ends.
        timings["copy_keys"] = _copy_parts(pg, "entities_namekey", KEY_COLUMNS, key_parts)
        print(f"  keys copied, words listed ({timings['copy_keys']:.0f} s)", flush=True)
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
        for table in (*LOAD_TABLES, "entities_nametoken"):
            cur.execute(f"VACUUM ANALYZE {table}")
    timings["vacuum_analyze"] = time.perf_counter() - t4
    timings["total"] = time.perf_counter() - t0
    timings["names"] = n_names
    return timings


def ensure_data(n: int, seed: int):
    from django.db import connection

    from entities import names as names_module
    from entities.models import Dataset, Entity

    # The description names the generator version and the match keys' code: data of an older
    # generator, or keys of an older entities/names.py, are remade.
    keys_code = hashlib.sha256(Path(names_module.__file__).read_bytes()).hexdigest()[:12]
    description = (
        f"Search benchmark: {n:,} generated entities (seed {seed}, names v{namegen.VERSION},"
        f" keys {keys_code})."
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

TOP = 10  # a hit: the expected entity (or a namesake) in the first ten results


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= c <= "\u04ff" for c in text)


def _has_kazakh(text: str) -> bool:
    return any(c in "әғқңөұүһіӘҒҚҢӨҰҮҺІ" for c in text)


def _is_passport_latin(s: namegen.Spec) -> bool:
    """A Russian or Kazakh name stored as a passport writes it (not a Western name)."""
    return _is_cyrillic(s.other_script) and s.name.startswith(
        namegen.passport_latin(s.other_script)
    )


def _query(kind: str, j: int, pick, rng: random.Random) -> tuple[namegen.Spec | None, str]:
    """One query of a kind and the entity it should find."""
    from entities.names import to_latin

    if kind == "exact":
        s = pick(lambda s: True)
        return s, s.name
    if kind == "cross_script":  # half Cyrillic names queried in Latin, half the other way
        s = pick(lambda s, w=j % 2 == 0: _is_cyrillic(s.name) == w)
        return s, s.other_script
    if kind == "passport":  # stored as a passport writes it, queried in BGN/PCGN
        s = pick(_is_passport_latin)
        # BGN's middle dot ("Instrument·s": т + с, not ц) is not written in documents.
        return s, to_latin(s.other_script).replace("·", "").title()
    if kind == "iso9":  # stored in Cyrillic, queried in ISO 9 / GOST 7.79
        s = pick(lambda s: _is_cyrillic(s.name) and not _has_kazakh(s.name))
        return s, iuliia.GOST_779.translate(s.name)
    if kind == "kazakh_latin":
        s = pick(lambda s: _has_kazakh(s.name))
        return s, namegen.kazakh_latin(s.name, rng)
    if kind == "initials":
        s = pick(lambda s: s.schema == "Person")
        return s, namegen.initials(s, rng)
    if kind == "name_order":
        s = pick(lambda s: len(s.words) >= 2)
        return s, namegen.name_order(s, rng)
    if kind == "no_patronymic":
        s = pick(namegen.is_russian_style_person)
        return s, namegen.no_patronymic(s, rng)
    if kind == "partial":
        s = pick(lambda s: len(s.words) >= 2)
        return s, rng.choice([w for w in s.words if len(w) >= 3] or s.words)
    if kind in ("typo", "typo_missing", "typo_swap"):
        s = pick(lambda s: any(len(w) >= 4 for w in s.words))
        make = {
            "typo": namegen.typo,
            "typo_missing": namegen.typo_missing,
            "typo_swap": namegen.typo_swap,
        }[kind]
        return s, make(s.name, s.words, rng)
    if kind == "legal_form":
        s = pick(lambda s: bool(s.legal_variant))
        return s, namegen.legal_form_variant(s, rng)
    return None, namegen.nonsense(rng)


def make_queries(n: int, seed: int, counts: dict[str, int], rng_seed: str) -> list[dict]:
    """Queries of each kind with the generated entity each should find (None: nothing)."""
    rng = random.Random(rng_seed)  # noqa: S311

    def pick(accept) -> namegen.Spec:
        while True:
            s = namegen.spec(seed, rng.randrange(n))
            if accept(s):
                return s

    queries: list[dict] = []
    for kind, count in counts.items():
        for j in range(count):
            s, q = _query(kind, j, pick, rng)
            queries.append(
                {
                    "kind": kind,
                    "query": q,
                    "index": s.index if s else None,
                    "name": s.name if s else None,
                    "person": s is not None and s.schema == "Person",
                }
            )
    return queries


def _signatures(kind: str, name: str) -> set[str]:
    """What a namesake shares with the expected entity, as far as the query can tell: the same
    name in any script or transliteration (the words' skeletons in order); in any order for
    `name_order`; for initials, a surname with the same initials; for a name without its
    patronymic, the same two words."""
    from entities.names import NameKind, match_key, name_keys

    if kind == "initials":
        return {k for kd, k in name_keys(name, person=True) if kd == NameKind.INITIALS}
    if kind == "no_patronymic":
        return {k for kd, k in name_keys(name, person=True) if kd == NameKind.PART}
    key = match_key(name)
    return {" ".join(sorted(key.split()))} if kind == "name_order" else {key}


def resolve_expected(dataset, queries: list[dict]) -> None:
    from entities.models import Entity

    keys = {f"bench-{q['index']}" for q in queries if q["index"] is not None}
    ids = dict(Entity.objects.filter(dataset=dataset, ftm_id__in=keys).values_list("ftm_id", "id"))
    for q in queries:
        q["expected_id"] = ids.get(f"bench-{q['index']}") if q["index"] is not None else None
        q["expected_signatures"] = []
        if q["index"] is not None:
            s = namegen.spec(SEED, q["index"])
            sigs = set()
            for n in [s.name, *s.aliases]:
                sigs |= _signatures(q["kind"], n)
            q["expected_signatures"] = sorted(sigs)


def run_queries(user, queries: list[dict]) -> None:
    from entities.search import search_entities

    for q in queries:
        t = time.perf_counter()
        hits = search_entities(user=user, query=q["query"])
        q["ms"] = (time.perf_counter() - t) * 1000
        top = hits[:TOP]
        ids = [h.entity.pk for h in top]
        q["results"] = len(hits)
        q["top"] = [(h.matched_name, round(h.score, 3), h.why) for h in hits[:3]]
        if q["expected_id"] is None:
            q["hit"] = q["hit_name"] = not hits
            q["rank"] = None
        else:
            all_ids = [h.entity.pk for h in hits]
            q["hit"] = q["expected_id"] in ids
            q["rank"] = all_ids.index(q["expected_id"]) + 1 if q["expected_id"] in all_ids else None
            q["why"] = next((h.why for h in hits if h.entity.pk == q["expected_id"]), None)
            # A namesake found instead (an entity with the expected's name among its names):
            # search cannot tell them apart, so this counts as a hit of the name.
            expected = set(q["expected_signatures"])
            q["hit_name"] = q["hit"] or any(
                _signatures(q["kind"], n) & expected
                for h in top
                for n in [h.entity.name, *h.entity.aliases]
            )


BARE_SQL = """
SELECT entity_id FROM entities_entityname WHERE %(norm)s <%% norm
ORDER BY word_similarity(%(norm)s, norm) DESC LIMIT 20
"""


def run_bare(queries: list[dict]) -> None:
    """The reference: a bare pg_trgm word_similarity top-20 over the same names (threshold
    0.6, the default), timed the same way; no ranking, no case filter, no keys."""
    from django.db import connection

    from entities.names import normalize

    with connection.cursor() as cur:
        for q in queries:
            norm = normalize(q["query"])
            t = time.perf_counter()
            cur.execute(BARE_SQL, {"norm": norm})
            cur.fetchall()
            q["bare_ms"] = (time.perf_counter() - t) * 1000


def summarise(queries: list[dict]) -> dict:
    p = benchdb.percentile
    groups: dict[str, list[dict]] = defaultdict(list)
    for q in queries:
        groups[q["kind"]].append(q)
    groups["all"] = list(queries)
    out = {}
    for kind, qs in groups.items():
        ms = [q["ms"] for q in qs]
        bare = [q["bare_ms"] for q in qs]
        out[kind] = {
            "n": len(qs),
            "p50_ms": p(ms, 50),
            "p95_ms": p(ms, 95),
            "p99_ms": p(ms, 99),
            "max_ms": max(ms),
            "bare_p50_ms": p(bare, 50),
            "bare_p95_ms": p(bare, 95),
            "hit_rate": sum(q["hit"] for q in qs) / len(qs),
            "name_hit_rate": sum(q["hit_name"] for q in qs) / len(qs),
            "mean_results": sum(q["results"] for q in qs) / len(qs),
        }
    return out


def print_table(summary: dict) -> None:
    head = (
        f"{'kind':<14}{'n':>4}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}"
        f"{'bare p50':>10}{'bare p95':>10}{'hit':>6}{'name hit':>10}{'results':>9}"
    )
    print(head)
    print("-" * len(head))
    for kind, s in summary.items():
        print(
            f"{kind:<14}{s['n']:>4}{s['p50_ms']:>8.1f}{s['p95_ms']:>8.1f}{s['p99_ms']:>8.1f}"
            f"{s['max_ms']:>8.1f}{s['bare_p50_ms']:>10.1f}{s['bare_p95_ms']:>10.1f}"
            f"{s['hit_rate']:>6.0%}{s['name_hit_rate']:>10.0%}{s['mean_results']:>9.1f}"
        )
    print(
        f"(ms, wall time of search_entities; bare = pg_trgm word_similarity top-20 over the same"
        f" names; hit = the expected entity is in the top {TOP}; name hit = it or a namesake"
        " the query cannot tell from it is; for nonsense both mean no result)"
    )


def explain_slowest(user, queries: list[dict]) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of the candidate SQL of the slowest query."""
    from django.db import connection

    from entities.namematch import parse_query
    from entities.search import Scope, candidates
    from investigations import access

    q = max(queries, key=lambda q: q["ms"])
    cases = tuple(access.visible_investigations(user).values_list("pk", flat=True))
    plans: list[str] = []

    def wrapper(execute, sql, params, many, context):
        if "entities_namekey" in sql:
            # The psycopg cursor under Django's: a Django cursor would call this wrapper again.
            with connection.connection.cursor() as cur:
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plans.append("\n".join(r[0] for r in cur.fetchall()))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        candidates([parse_query(q["query"])], Scope(cases=cases))
    print(f"\nEXPLAIN (ANALYZE, BUFFERS) of the slowest query {q['query']!r} ({q['ms']:.0f} ms):")
    print("\n".join(plans))
    return {"query": q["query"], "ms": q["ms"], "plans": plans}


# Kinds held to the hit-rate target; "partial" (one word of thousands of names) and "nonsense"
# are not.
HIT_TARGET = 0.97
TARGET_P99_MS = 100.0
TARGET_RATIO = 2.0


def check_targets(summary: dict) -> dict:
    """Print and return whether the run meets the targets of issue 16."""
    all_ = summary["all"]
    ratio = all_["p95_ms"] / all_["bare_p95_ms"] if all_["bare_p95_ms"] else float("inf")
    low = [
        k
        for k, s in summary.items()
        if k not in ("all", "partial", "nonsense") and s["name_hit_rate"] < HIT_TARGET
    ]
    verdict = {
        "p95_ms": all_["p95_ms"],
        "p99_ms": all_["p99_ms"],
        "bare_p95_ms": all_["bare_p95_ms"],
        "ratio_to_bare_p95": ratio,
        "kinds_below_hit_target": low,
        "met": all_["p95_ms"] < TARGET_P95_MS
        and all_["p99_ms"] < TARGET_P99_MS
        and ratio <= TARGET_RATIO
        and not low,
    }
    print(
        f"\np95 {all_['p95_ms']:.1f} ms (target < {TARGET_P95_MS:.0f}), p99 {all_['p99_ms']:.1f}"
        f" ms (< {TARGET_P99_MS:.0f}), bare word_similarity p95 {all_['bare_p95_ms']:.1f} ms:"
        f" ratio {ratio:.2f}x (<= {TARGET_RATIO:.0f}x); name hit >= {HIT_TARGET:.0%} on every"
        f" kind but partial and nonsense: {'yes' if not low else 'no, ' + ', '.join(low)};"
        f" load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return verdict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="entities in the dataset")
    parser.add_argument(
        "--no-explain", action="store_true", help="skip EXPLAIN even when a target is missed"
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
    run_bare(warmup[:WARMUP])
    # Ours and the bare query alternate in blocks, so a burst of load on this shared machine
    # hits both alike.
    for i in range(0, len(queries), 20):
        run_queries(user, queries[i : i + 20])
        run_bare(queries[i : i + 20])
    summary = summarise(queries)
    print(
        f"\nsearch_entities over {dataset.name} ({args.n:,} entities), "
        f"{len(queries)} queries after {WARMUP} warm-up:"
    )
    print_table(summary)
    verdict = check_targets(summary)
    analysis = None
    if not verdict["met"] and not args.no_explain:
        analysis = explain_slowest(user, queries)

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
                "targets": verdict,
                "load_average": os.getloadavg(),
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
