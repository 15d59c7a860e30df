"""The network, paths and red flags at scale.

    make bench-analysis                 # everything (the data is generated once, ~3 min)
    make bench-analysis BENCH_ARGS="--only graph"   # graph | paths | flags | page

In its bench database (BENCH_DATABASE_URL), makes once the dataset "bench-graph": 100,000
entities and about 1,000,000 links and 1,000,000 shipments between them, laid out on a ring so
that distances grow with the gap between two entities (entity i links to 10 random entities in
(i, i + 5000]; trade goes the same way), with one hub of exactly 50 direct links. A case file
pins the hub and the path's ends. Then measures:
- graph: the 2-hop neighbourhood of the hub through the dataset's links and shipments
  (entities.analysis.graph.neighbourhood, one recursive statement): p50/p95 of 30 runs;
- paths: a shortest path between two entities 6 hops apart (paths.shortest_paths): 10 runs;
- flags: every detector over the 1,000,000-shipment dataset (flags.service.flag_run_now), wall
  time per detector and the process's peak RSS before and after;
- page: the network page of a case with 2,000 entities and 5,000 links, served by gunicorn,
  loaded in Chromium: time from navigation to the first frame of the graph, 5 loads.
Writes bench/out/analysis-<date>.json.
"""

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # sets up the path and the bench database before Django

N_ENTITIES = 100_000
FORWARD_LINKS = 10
WINDOW = 5_000
N_SHIPMENTS = 1_000_000
HUB_LINKS = 50
PAGE_NODES, PAGE_EDGES = 2_000, 5_000
SEED = 15
DATASET = "bench-graph"
VERSION = "1"  # bump when the generator changes: the data is made again
KINDS = ["Ownership"] * 35 + ["Directorship"] * 25 + ["Employment"] * 15 + ["Family"] * 10
KINDS += ["UnknownLink"] * 15
HS = ["854231", "854239", "851762", "852589", "880730", "880699", "901380", "847130"]
HS += ["300490", "271019", "870323", "940360", "392690", "620342", "848180", "853690"]
COUNTRIES = ["KZ", "RU", "DE", "CN", "TR", "AE", "AM", "KG", "US", "IT"]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _reserve_ids(cursor, table: str, n: int) -> int:
    """The first of n consecutive ids reserved in the table's sequence."""
    cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{table}', 'id'))")
    first = cursor.fetchone()[0]
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %s)", [first + n])
    return first


def _load_entities(cursor, dataset_id: int, rng: random.Random) -> int:
    first = _reserve_ids(cursor, "entities_entity", N_ENTITIES)
    now = _now()
    cols = (
        "id, public_id, schema, name, aliases, countries, nationality, start_date, end_date, "
        "addresses, notes, source, created_at, updated_at, ftm_id, extra, dataset_id"
    )
    with cursor.copy(f"COPY entities_entity ({cols}) FROM STDIN") as copy:
        for i in range(N_ENTITIES):
            person = i % 3 == 0
            country = rng.choice(COUNTRIES)
            start = ""
            if not person and rng.random() < 0.2:
                start = f"{rng.choice([2019, 2021, 2022, 2023])}-{rng.randint(1, 12):02d}"
            copy.write_row(
                (
                    first + i,
                    uuid.uuid4(),
                    "Person" if person else "Company",
                    f"{'Person' if person else 'Company'} {i}",
                    "{}",
                    "{}" if person else "{" + country + "}",
                    "{" + country + "}" if person else "{}",
                    start,
                    "",
                    "{}",
                    "",
                    "bench",
                    now,
                    now,
                    f"bench-{i}",
                    "{}",
                    dataset_id,
                )
            )
    with cursor.copy(
        "COPY entities_entityname (entity_id, dataset_id, name, norm) FROM STDIN"
    ) as copy:
        for i in range(N_ENTITIES):
            kind = "person" if i % 3 == 0 else "company"
            copy.write_row((first + i, dataset_id, f"{kind.title()} {i}", f"{kind} {i}"))
    return first


def _load_links(cursor, dataset_id: int, first: int, hub: int, rng: random.Random) -> int:
    now = _now()
    cols = (
        "public_id, kind, source_id, target_id, role, start_date, end_date, summary, "
        "provenance, created_at, updated_at, ftm_id, extra, dataset_id"
    )
    count = 0
    with cursor.copy(f"COPY entities_link ({cols}) FROM STDIN") as copy:
        for i in range(N_ENTITIES):
            if i == hub:
                continue
            for _ in range(FORWARD_LINKS):
                j = (i + rng.randint(1, WINDOW)) % N_ENTITIES
                if j in (hub, i):
                    continue
                copy.write_row(
                    (
                        uuid.uuid4(),
                        rng.choice(KINDS),
                        first + i,
                        first + j,
                        "",
                        "",
                        "",
                        "",
                        "",
                        now,
                        now,
                        "",
                        "{}",
                        dataset_id,
                    )
                )
                count += 1
        for n in range(HUB_LINKS):
            j = (hub + n + 1) % N_ENTITIES
            copy.write_row(
                (
                    uuid.uuid4(),
                    rng.choice(KINDS),
                    first + hub,
                    first + j,
                    "",
                    "",
                    "",
                    "",
                    "",
                    now,
                    now,
                    "",
                    "{}",
                    dataset_id,
                )
            )
            count += 1
    return count


def _load_shipments(cursor, dataset_id: int, first: int, hub: int, rng: random.Random) -> None:
    now = _now()
    cols = (
        "public_id, date, exporter_id, importer_id, origin_country, destination_country, "
        "dispatch_country, hs_code, description, quantity, unit, value, currency, "
        "declaration_number, source, created_at, updated_at, import_key, ftm_id, extra, dataset_id"
    )
    start = date(2021, 1, 1)
    with cursor.copy(f"COPY entities_shipment ({cols}) FROM STDIN") as copy:
        n = 0
        while n < N_SHIPMENTS:
            i = rng.randrange(N_ENTITIES)
            j = (i + rng.randint(1, WINDOW)) % N_ENTITIES
            if hub in (i, j):
                continue
            day = start + timedelta(days=rng.randrange(3 * 365))
            quantity = rng.randint(1, 5000)
            row = [
                uuid.uuid4(),
                day,
                first + i,
                first + j,
                rng.choice(COUNTRIES),
                rng.choice(COUNTRIES),
                "",
                rng.choice(HS),
                "",
                quantity,
                "pcs",
                rng.randint(100, 500_000),
                rng.choice(["USD", "USD", "EUR"]),
                "",
                "bench",
                now,
                now,
                f"bench-{n}",
                "",
                "{}",
                dataset_id,
            ]
            copy.write_row(row)
            n += 1
            # Now and then the importer ships the same quantity on within two weeks.
            if n % 2000 == 0 and n < N_SHIPMENTS:
                k = (j + rng.randint(1, WINDOW)) % N_ENTITIES
                if hub not in (j, k):
                    later = [*row]
                    later[0], later[1] = uuid.uuid4(), day + timedelta(days=rng.randint(1, 14))
                    later[2], later[3], later[17] = first + j, first + k, f"bench-{n}"
                    copy.write_row(later)
                    n += 1


def _ensure_sanctions() -> None:
    """A sanctions list of 5,000 entities; 1,000 carry the name and country of a bench entity."""
    from django.db import connection, transaction

    from entities.models import Dataset

    if Dataset.objects.filter(name=f"{DATASET}-sanctions").exists():
        return
    rng = random.Random(SEED + 1)  # noqa: S311 (generated data, not secrets)
    now = _now()
    with transaction.atomic(), connection.cursor() as cursor:
        dataset = Dataset.objects.create(name=f"{DATASET}-sanctions", is_sanctions_list=True)
        first = _reserve_ids(cursor, "entities_entity", 5000)
        cols = (
            "id, public_id, schema, name, aliases, countries, nationality, start_date, "
            "end_date, addresses, notes, source, created_at, updated_at, ftm_id, extra, dataset_id"
        )
        rows = []
        for n in range(5000):
            if n < 1000:  # the name of a bench company, in its country
                i = rng.randrange(N_ENTITIES)
                i += 1 if i % 3 == 0 else 0
                name, norm = f"Company {i}", f"company {i}"
            else:
                name, norm = f"Sanctioned {n}", f"sanctioned {n}"
            rows.append((first + n, name, norm))
        with cursor.copy(f"COPY entities_entity ({cols}) FROM STDIN") as copy:
            for pk, name, _ in rows:
                copy.write_row(
                    (
                        pk,
                        uuid.uuid4(),
                        "Company",
                        name,
                        "{}",
                        "{" + rng.choice(COUNTRIES) + "}",
                        "{}",
                        "",
                        "",
                        "{}",
                        "",
                        "bench",
                        now,
                        now,
                        f"s-{pk}",
                        '{"topics": ["sanction"]}',
                        dataset.pk,
                    )
                )
        with cursor.copy(
            "COPY entities_entityname (entity_id, dataset_id, name, norm) FROM STDIN"
        ) as copy:
            for pk, name, norm in rows:
                copy.write_row((pk, dataset.pk, name, norm))


def ensure_data():
    """The dataset, its hub, and the case that pins it (made once per VERSION)."""
    from django.db import connection, transaction

    from entities.models import Dataset, Entity
    from entities.services import pin_entity
    from investigations.models import Investigation
    from tests.factories import UserFactory, make_case

    owner = UserFactory(username="bench-analyst")
    owner.set_password("bench-analyst-pass")
    owner.save()
    dataset = Dataset.objects.filter(name=DATASET, description=f"v{VERSION}").first()
    hub_index = N_ENTITIES // 2
    if dataset is None:
        Dataset.objects.filter(name=DATASET).delete()
        started = time.monotonic()
        rng = random.Random(SEED)  # noqa: S311 (generated data, not secrets)
        with transaction.atomic(), connection.cursor() as cursor:
            dataset = Dataset.objects.create(name=DATASET, description=f"v{VERSION}")
            first = _load_entities(cursor, dataset.pk, rng)
            links = _load_links(cursor, dataset.pk, first, hub_index, rng)
            _load_shipments(cursor, dataset.pk, first, hub_index, rng)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE entities_entity")
            cursor.execute("VACUUM ANALYZE entities_link")
            cursor.execute("VACUUM ANALYZE entities_shipment")
            cursor.execute("VACUUM ANALYZE entities_entityname")
        print(
            f"made {N_ENTITIES:,} entities, {links:,} links, {N_SHIPMENTS:,}+ shipments "
            f"in {time.monotonic() - started:.0f} s"
        )
    hub = Entity.objects.get(dataset=dataset, ftm_id=f"bench-{hub_index}")
    _ensure_sanctions()
    case = Investigation.objects.filter(slug="bench-analysis").first()
    if case is None:
        case = make_case(owner=owner, title="Bench analysis")
        Investigation.objects.filter(pk=case.pk).update(slug="bench-analysis")
        case.refresh_from_db()
    pin_entity(investigation=case, entity=hub)
    return owner, case, dataset, hub


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(benchdb.percentile(values, 50), 1),
        "p95_ms": round(benchdb.percentile(values, 95), 1),
        "max_ms": round(max(values), 1),
    }


def bench_graph(case, hub) -> dict:
    from django.db.models import Q

    from entities.analysis import graph
    from entities.models import Link

    direct = Link.objects.filter(Q(source=hub) | Q(target=hub)).count()
    times, result = [], None
    for _ in range(33):
        t = time.perf_counter()
        result = graph.neighbourhood(case=case, entity=hub, hops=2, datasets=True)
        times.append((time.perf_counter() - t) * 1000)
    stats = _stats(times[3:])
    print(
        f"2-hop neighbourhood of the hub ({direct} direct links): {len(result.nodes)} nodes, "
        f"{len(result.edges)} edges (reached {result.total}, truncated {result.truncated}); "
        f"p50 {stats['p50_ms']} ms, p95 {stats['p95_ms']} ms (target < 100)"
    )
    return {
        "direct_links": direct,
        "nodes": len(result.nodes),
        "edges": len(result.edges),
        "reached": result.total,
        "truncated": result.truncated,
        **stats,
    }


def bench_paths(case, dataset) -> dict:
    from entities.analysis import paths
    from entities.models import Entity
    from entities.services import pin_entity

    kinds = ["Ownership", "Directorship", "Family", "Employment", "Trade"]
    source = Entity.objects.get(dataset=dataset, ftm_id="bench-10000")
    found = None
    # The ring: entity i reaches at most i + 5000 per hop; find a pair exactly 6 hops apart.
    for gap in range(24_000, 30_001, 500):
        target = Entity.objects.get(dataset=dataset, ftm_id=f"bench-{10_000 + gap}")
        result = paths.shortest_paths(
            case=case, source=source, target=target, kinds=kinds, datasets=True
        )
        if result.length == 6:
            found = (target, gap)
            break
    if found is None:
        print("paths: no pair 6 hops apart found")
        return {}
    target, gap = found
    pin_entity(investigation=case, entity=source)
    pin_entity(investigation=case, entity=target)
    times = []
    for _ in range(12):
        t = time.perf_counter()
        result = paths.shortest_paths(
            case=case, source=source, target=target, kinds=kinds, datasets=True
        )
        times.append((time.perf_counter() - t) * 1000)
    stats = _stats(times[2:])
    print(
        f"shortest path, {result.length} hops ({len(result.paths)} chains shown, "
        f"{result.visited:,} entities visited): p50 {stats['p50_ms']} ms, "
        f"p95 {stats['p95_ms']} ms (target < 500)"
    )
    return {
        "hops": result.length,
        "gap": gap,
        "chains": len(result.paths),
        "visited": result.visited,
        **stats,
    }


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_flags(dataset) -> dict:
    from entities.analysis.flags import service
    from entities.analysis.flags.base import FlagConfig, FlagScope, scope_tables

    scope = FlagScope(dataset=dataset)
    config = FlagConfig.from_settings()
    before = _rss_mb()
    t0 = time.perf_counter()
    per: dict[str, float] = {}
    counts: dict[str, int] = {}
    with scope_tables(scope):
        per["scope tables"] = round(time.perf_counter() - t0, 2)
        for detector in service.DETECTORS:
            t = time.perf_counter()
            counts[detector.NAME] = len(detector.detect(config, scope))
            per[detector.NAME] = round(time.perf_counter() - t, 2)
    total = time.perf_counter() - t0
    # The same through the service (job row, hits replaced in one transaction).
    t = time.perf_counter()
    run = service.flag_run_now(dataset=dataset)
    service_s = time.perf_counter() - t
    after = _rss_mb()
    print(
        f"all detectors over {N_SHIPMENTS:,} shipments: {total:.1f} s "
        f"(through the service: {service_s:.1f} s, {run.hit_count} hits); "
        f"peak RSS {before:.0f} -> {after:.0f} MB (target < 60 s, flat)"
    )
    for name, seconds in per.items():
        print(f"  {name:<16}{seconds:>7.2f} s  {counts.get(name, '')}")
    return {
        "seconds": round(total, 2),
        "service_seconds": round(service_s, 2),
        "per": per,
        "hits": counts,
        "rss_before_mb": round(before),
        "rss_after_mb": round(after),
    }


def _page_case(owner):
    """A case with 2,000 entities and 5,000 links (made once)."""
    from django.db import transaction

    from entities.models import Entity, Link, LinkKind
    from investigations.models import Investigation
    from tests.factories import make_case

    case = Investigation.objects.filter(slug="bench-network-page").first()
    if case is not None and Link.objects.filter(investigation=case).count() == PAGE_EDGES:
        return case
    if case is not None:
        case.delete()
    rng = random.Random(SEED)  # noqa: S311 (generated data, not secrets)
    with transaction.atomic():
        case = make_case(owner=owner, title="Bench network page")
        Investigation.objects.filter(pk=case.pk).update(slug="bench-network-page")
        entities = Entity.objects.bulk_create(
            Entity(
                investigation=case,
                name=f"Entity {i}",
                countries=[rng.choice(COUNTRIES)],
                schema="Person" if i % 3 == 0 else "Company",
            )
            for i in range(PAGE_NODES)
        )
        kinds = [k for k in LinkKind.values]
        Link.objects.bulk_create(
            Link(
                investigation=case,
                kind=rng.choice(kinds),
                source=entities[a],
                target=entities[(a + rng.randint(1, 60)) % PAGE_NODES],
            )
            for a in (rng.randrange(PAGE_NODES) for _ in range(PAGE_EDGES))
        )
    case.refresh_from_db()
    return case


def bench_page(owner) -> dict:
    case = _page_case(owner)
    port = 8391
    env = {**os.environ, "STATIC_ROOT": str(benchdb.OUT_DIR / "static"), "DB_CONN_MAX_AGE": "60"}
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=benchdb.BASE_DIR,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "newsroom.wsgi",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            "2",
            "--access-logfile",
            "/dev/null",
        ],
        cwd=benchdb.BASE_DIR,
        env=env,
    )
    try:
        time.sleep(3)
        from playwright.sync_api import sync_playwright

        base = f"http://127.0.0.1:{port}"
        paints, errors, marks = [], [], []
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: m.type == "error" and errors.append(m.text))
            page.goto(f"{base}/accounts/login/")
            page.fill("#id_username", "bench-analyst")
            page.fill("#id_password", "bench-analyst-pass")
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/cases/")
            for _ in range(6):
                page.goto(f"{base}/cases/{case.public_id}/network/")
                page.wait_for_selector("body[data-network-ready]", timeout=60_000)
                paints.append(float(page.evaluate("document.body.dataset.networkReady")))
                marks.append(
                    page.evaluate(
                        "Object.fromEntries(performance.getEntriesByType('mark')"
                        ".map(m => [m.name, Math.round(m.startTime)]))"
                    )
                )
                nodes = page.evaluate("window.casefileNetwork.nodes().length")
                edges = page.evaluate("window.casefileNetwork.edges().length")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    stats = _stats(paints[1:])
    print(
        f"network page, {nodes:,} nodes and {edges:,} edges: first frame of the graph "
        f"p50 {stats['p50_ms']} ms, max {stats['max_ms']} ms after navigation "
        f"(target < 2000); console errors: {len(errors)}"
    )
    print(f"  marks of the last load (ms after navigation): {marks[-1]}")
    return {"nodes": nodes, "edges": edges, "console_errors": errors, "marks": marks, **stats}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["graph", "paths", "flags", "page"], action="append")
    args = parser.parse_args()
    benchdb.setup()
    owner, case, dataset, hub = ensure_data()
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    wanted = args.only or ["graph", "paths", "flags", "page"]
    results: dict = {"load": load, "when": _now()}
    if "graph" in wanted:
        results["graph"] = bench_graph(case, hub)
    if "paths" in wanted:
        results["paths"] = bench_paths(case, dataset)
    if "flags" in wanted:
        results["flags"] = bench_flags(dataset)
    if "page" in wanted:
        results["page"] = bench_page(owner)
    benchdb.OUT_DIR.mkdir(exist_ok=True)
    out = benchdb.OUT_DIR / f"analysis-{datetime.now(UTC).date().isoformat()}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
