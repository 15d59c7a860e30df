"""Render time and query count of a heavy entity page and of two case list pages.

    make bench-entity-page

In the casefile_bench database, makes (once) the case file "Bench entity page" owned by
bench-owner: one company with 1,000 links (1,000 other entities, both directions, all kinds)
and 10,000 shipments as exporter and importer over 2021-2023. Then renders, through Django's
test client as the owner, the entity page, the case's entity list and its shipment table:
3 warm-up renders, 30 timed. Prints p50/p95/max, response size, SQL queries and SQL time per
render; when the entity page misses its target, profiles one render.
Writes bench/out/entity-page-<date>.json.
"""

import argparse
import cProfile
import io
import json
import pstats
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # sets up the path and the bench database before Django
import namegen

TARGET_MS = 300.0
CASE_SLUG = "bench-entity-page"
HUB_KEY = "bench-hub"
OTHERS = 1_000
LINKS = 1_000
SHIPMENTS = 10_000
WARMUP = 3
RENDERS = 30
SEED = 77

HS_CODES = [
    "847130",
    "847150",
    "847330",
    "847989",
    "848180",
    "850440",
    "851762",
    "851770",
    "852589",
    "852990",
    "853690",
    "854231",
    "854232",
    "854239",
    "854290",
    "870323",
    "870899",
    "871200",
    "880730",
    "901380",
    "902610",
    "903289",
    "271019",
    "271112",
    "720839",
    "721049",
    "730630",
    "390110",
    "392690",
    "300490",
    "300215",
    "610910",
    "620342",
    "940360",
    "940540",
    "290511",
    "310520",
    "100199",
    "080810",
    "220300",
    "330499",
    "401110",
    "732690",
    "841191",
    "841480",
    "842139",
    "843149",
    "844311",
    "846693",
    "850131",
]
CURRENCIES = ["USD", "USD", "USD", "EUR", "EUR", "KZT", "RUB", "CNY"]
COUNTRIES = ["DE", "CN", "KZ", "RU", "TR", "AE", "KG", "AM", "US", "IT", "PL", "UZ"]
UNITS = ["pcs", "kg", "t", "l", "m"]


def _names_for(entity) -> tuple[list, list]:
    """The entity's EntityName and NameKey rows, as entities.services would write them."""
    from entities.models import EntityName, NameKey
    from entities.namekeys import search_rows

    names, keys = search_rows(
        entity_id=entity.pk,
        investigation_id=entity.investigation_id,
        dataset_id=None,
        names=[entity.name, *entity.aliases],
        person=entity.schema == "Person",
    )
    return [EntityName(**row) for row in names], [NameKey(**row) for row in keys]


def _complete(case) -> bool:
    from entities.models import Entity, Link, Shipment

    hub = Entity.objects.filter(investigation=case, ftm_id=HUB_KEY).first()
    return bool(
        hub
        and Link.objects.filter(investigation=case).count() == LINKS
        and Shipment.objects.filter(investigation=case).count() == SHIPMENTS
        and Entity.objects.filter(investigation=case).count() == OTHERS + 1
    )


def ensure_data():
    """The case file, its owner and the hub entity; made once, remade if incomplete."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from entities.models import Entity, EntityName, Identifier, Link, LinkKind, NameKey, Shipment
    from investigations import activity
    from investigations.models import Investigation
    from investigations.services import investigation_create

    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    case = Investigation.objects.filter(slug=CASE_SLUG).first()
    if case is not None and _complete(case):
        hub = Entity.objects.get(investigation=case, ftm_id=HUB_KEY)
        print(
            f"case {case.title!r} already there: {OTHERS + 1:,} entities, {LINKS:,} links, "
            f"{SHIPMENTS:,} shipments"
        )
        return owner, case, hub, None

    t0 = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311  (test data, not secrets)
    with transaction.atomic():
        if case is not None:  # a half-made case from an interrupted run: start again
            with connection.cursor() as cur:
                for table in (
                    "entities_shipment",
                    "entities_link",
                    "entities_entityname",
                    "entities_namekey",
                ):
                    cur.execute(
                        f"DELETE FROM {table} WHERE investigation_id = %s",  # noqa: S608
                        [case.pk],
                    )
                cur.execute(
                    "DELETE FROM entities_identifier WHERE entity_id IN "
                    "(SELECT id FROM entities_entity WHERE investigation_id = %s)",
                    [case.pk],
                )
                cur.execute("DELETE FROM entities_entity WHERE investigation_id = %s", [case.pk])
                cur.execute(
                    "DELETE FROM investigations_activityentry WHERE investigation_id = %s",
                    [case.pk],
                )
        else:
            case = investigation_create(
                title="Bench entity page",
                created_by=owner,
                slug=CASE_SLUG,
                summary="Benchmark data: one hub company.",
            )
        scope = {"investigation": case, "created_by": owner}
        hub = Entity.objects.create(
            **scope,
            schema="Company",
            name="ТОО «Аспан Арба Логистик»",
            aliases=["Aspan Arba Logistik LLP", "Aspan Arba Logistics"],
            countries=["KZ"],
            start_date="2022-04",
            addresses=["Алматы, пр. Абая 150"],
            ftm_id=HUB_KEY,
            notes="Re-exports electronics from the EU to Russia (benchmark data).",
            source="https://example.org/kz-registry/940140000385",
        )
        Identifier.objects.bulk_create(
            [Identifier(entity=hub, scheme="kz_bin", value="940140000385")]
        )
        others = []
        for i in range(OTHERS):
            s = namegen.spec(SEED, i)
            others.append(
                Entity(
                    **scope,
                    schema=s.schema,
                    name=s.name,
                    aliases=s.aliases,
                    countries=s.countries,
                    nationality=s.nationality,
                    start_date=s.start_date,
                )
            )
        others = Entity.objects.bulk_create(others, batch_size=500)
        rows = [_names_for(e) for e in [hub, *others]]
        EntityName.objects.bulk_create([n for names, _ in rows for n in names], batch_size=1000)
        NameKey.objects.bulk_create([k for _, keys in rows for k in keys], batch_size=1000)
        Identifier.objects.bulk_create(
            [
                Identifier(entity=e, scheme="kz_bin", value=f"{rng.randrange(10**11, 10**12)}")
                for e in others
                if e.countries == ["KZ"]
            ],
            batch_size=1000,
        )

        links = []
        for i, other in enumerate(others):
            person = other.schema == "Person"
            outgoing = i % 5 < 3  # 600 from the hub, 400 to it
            if outgoing:  # companies the hub owns, people and firms it deals with
                kind = (
                    LinkKind.UNKNOWN
                    if person
                    else rng.choice([LinkKind.OWNERSHIP, LinkKind.OWNERSHIP, LinkKind.UNKNOWN])
                )
                source, target = hub, other
            else:  # owners, directors and employees of the hub
                kind = (
                    rng.choice([LinkKind.DIRECTORSHIP, LinkKind.EMPLOYMENT, LinkKind.OWNERSHIP])
                    if person
                    else rng.choice([LinkKind.OWNERSHIP, LinkKind.UNKNOWN])
                )
                source, target = other, hub
            start = f"{rng.randint(2015, 2023)}-{rng.randint(1, 12):02d}"
            end = "" if rng.random() < 0.7 else f"{int(start[:4]) + rng.randint(1, 2)}"
            links.append(
                Link(
                    **scope,
                    kind=kind,
                    source=source,
                    target=target,
                    percentage=(
                        Decimal(rng.randint(1, 10000)) / 100 if kind == LinkKind.OWNERSHIP else None
                    ),
                    role={
                        LinkKind.DIRECTORSHIP: "director",
                        LinkKind.EMPLOYMENT: "manager",
                        LinkKind.UNKNOWN: "business partner",
                    }.get(kind, ""),
                    start_date=start,
                    end_date=end,
                    summary="" if rng.random() < 0.8 else "From the 2023 registry extract.",
                    provenance="benchmark",
                )
            )
        Link.objects.bulk_create(links, batch_size=1000)

        first_day, days = date(2021, 1, 1), (date(2023, 12, 31) - date(2021, 1, 1)).days
        shipments = []
        for i in range(SHIPMENTS):
            other = others[rng.randrange(OTHERS)]
            exporting = i % 2 == 0
            value = Decimal(rng.randint(1_000, 2_000_000))
            shipments.append(
                Shipment(
                    **scope,
                    date=first_day + timedelta(days=rng.randint(0, days)),
                    exporter=hub if exporting else other,
                    importer=other if exporting else hub,
                    origin_country=rng.choice(COUNTRIES),
                    dispatch_country="KZ",
                    destination_country="RU" if exporting else "KZ",
                    hs_code=rng.choice(HS_CODES),
                    description="Electronic integrated circuits, "
                    "processors and controllers, in packages (benchmark)",
                    quantity=Decimal(rng.randint(1, 50_000)),
                    unit=rng.choice(UNITS),
                    value=value,
                    currency=rng.choice(CURRENCIES),
                    declaration_number=f"5010{rng.randrange(10**10):010d}/{i % 30 + 1:03d}",
                )
            )
        Shipment.objects.bulk_create(shipments, batch_size=1000)
        # What the bulk services record: one summary entry instead of one per row.
        activity.record(investigation_id=case.pk, action="created", obj=hub, actor=owner)
    with connection.cursor() as cur:
        for table in (
            "entities_entity",
            "entities_entityname",
            "entities_namekey",
            "entities_link",
            "entities_shipment",
            "entities_identifier",
        ):
            cur.execute(f"ANALYZE {table}")
    seconds = time.perf_counter() - t0
    print(f"made case {case.title!r} in {seconds:.1f} s")
    return owner, case, hub, seconds


class SqlTime:
    """connection.execute_wrapper adding up the time spent in SQL, and counting queries."""

    def __init__(self) -> None:
        self.ms = 0.0
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        t = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms += (time.perf_counter() - t) * 1000
            self.count += 1


def _check(response, url: str) -> None:
    if response.status_code != 200:
        raise SystemExit(f"bench: {url} answered {response.status_code}")


def measure(client, url: str) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        _check(client.get(url), url)
    times, sql_times = [], []
    for _ in range(RENDERS):
        timer = SqlTime()
        with connection.execute_wrapper(timer):
            t = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
        sql_times.append(timer.ms)
        _check(response, url)
    # Counted on an extra, untimed render: capturing adds overhead of its own.
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    p = benchdb.percentile
    return {
        "url": url,
        "renders": RENDERS,
        "p50_ms": p(times, 50),
        "p95_ms": p(times, 95),
        "max_ms": max(times),
        "sql_p50_ms": p(sql_times, 50),
        "bytes": len(response.content),
        "queries": len(captured.captured_queries),
        "captured": captured.captured_queries,
        "slowest_queries": sorted(
            (
                {"ms": float(q["time"]) * 1000, "sql": q["sql"][:600]}
                for q in captured.captured_queries
            ),
            key=lambda q: -q["ms"],
        )[:5],
    }


def explain_slow(captured: list[dict], min_ms: float = 20.0, top: int = 3) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest captured queries (the SQL as sent)."""
    from django.db import connection

    plans = []
    slow = sorted(captured, key=lambda q: -float(q["time"]))[:top]
    for q in slow:
        if float(q["time"]) * 1000 < min_ms:
            break
        with connection.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + q["sql"])
            plan = "\n".join(r[0] for r in cur.fetchall())
        plans.append({"ms": float(q["time"]) * 1000, "sql": q["sql"], "plan": plan})
    return plans


def _median_ms(fn, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return benchdb.percentile(times, 50)


def breakdown(owner, case, hub) -> dict:
    """The entity page piece by piece: each selector, then the template on the same context.

    Also renders the template with shipment totals grouped by direction (what the selector's
    docstring promises) instead of by exporter, to show what that grouping costs.
    """
    from django.db.models import Case, Count, Q, Sum, Value, When
    from django.db.models.functions import ExtractYear, Left
    from django.template.loader import render_to_string
    from django.test import RequestFactory
    from django_htmx.middleware import HtmxDetails

    from entities import search, selectors, views
    from entities.forms import LinkForm
    from entities.models import Shipment
    from investigations import access

    request = RequestFactory().get("/")
    request.user = owner
    request.htmx = HtmxDetails(request)
    case = access.get_case_for(owner, case.public_id)
    entity = selectors.entity_in_case(case=case, public_id=hub.public_id)
    steps = {
        "entity_in_case": lambda: selectors.entity_in_case(case=case, public_id=hub.public_id),
        "entity_links": lambda: selectors.entity_links(entity=entity, case=case),
        "entity_shipment_totals": lambda: selectors.entity_shipment_totals(
            entity=entity, case=case
        ),
        "entity_recent_shipments": lambda: selectors.entity_recent_shipments(
            entity=entity, case=case
        ),
        "possible_duplicates": lambda: search.possible_duplicates(entity=entity),
        "entity_activity": lambda: list(selectors.entity_activity(entity=entity)),
        "_entity_page_context (links, totals, recent)": lambda: views._entity_page_context(
            entity, case
        ),
    }
    out: dict = {"selectors_ms": {name: _median_ms(fn) for name, fn in steps.items()}}
    context = {
        **views._entity_page_context(entity, case),
        "case": case,
        "tab": "entities",
        "duplicates": search.possible_duplicates(entity=entity),
        "activity": list(selectors.entity_activity(entity=entity)),
        "link_form": LinkForm(),
    }
    out["totals_rows"] = len(context["totals"])
    out["link_rows"] = context["link_count"]
    out["template_ms"] = _median_ms(
        lambda: render_to_string("entities/detail.html", context, request=request)
    )
    by_direction = list(
        Shipment.objects.filter(investigation=case)
        .filter(Q(exporter=entity) | Q(importer=entity))
        .annotate(
            year=ExtractYear("date"),
            chapter=Left("hs_code", 2),
            direction=Case(When(exporter=entity, then=Value("export")), default=Value("import")),
        )
        .values("direction", "year", "chapter", "currency")
        .annotate(count=Count("id"), quantity=Sum("quantity"), value=Sum("value"))
        .order_by("year", "chapter", "currency", "direction")
    )
    out["totals_rows_by_direction"] = len(by_direction)
    out["template_ms_totals_by_direction"] = _median_ms(
        lambda: render_to_string(
            "entities/detail.html", {**context, "totals": by_direction}, request=request
        )
    )
    out["template_ms_totals_by_direction_no_links"] = _median_ms(
        lambda: render_to_string(
            "entities/detail.html",
            {**context, "totals": by_direction, "links_out": [], "links_in": []},
            request=request,
        )
    )
    return out


def profile(client, url: str) -> dict:
    """cProfile of 5 renders: the top functions, and where the time goes."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]

    def cumulative(predicate) -> float:
        # Outermost matching frames only, so nested calls are not counted twice.
        seconds = 0.0
        for func, (_cc, _nc, _tt, ct, callers) in stats.stats.items():  # type: ignore[attr-defined]
            if predicate(func) and not any(predicate(c) for c in callers):
                seconds += ct
        return seconds

    def is_sql(f) -> bool:
        return f[2] == "execute" and "psycopg" in f[0] and "cursor" in f[0]

    def is_template(f) -> bool:
        return f[2] == "render" and f[0].endswith("django/template/backends/django.py")

    split = {
        "total_s": total,
        "sql_execute_s": cumulative(is_sql),
        "template_render_s": cumulative(is_template),
    }
    out = {}
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats(order).print_stats(25)
        out[order] = buf.getvalue()
    return {"url": url, "renders": 5, "split": split, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--profile",
        action="store_true",
        help="profile the entity page even when it meets the target",
    )
    args = parser.parse_args()

    benchdb.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    owner, case, hub, seconds = ensure_data()
    client = Client()
    client.force_login(owner)
    pages = {
        "entity page": reverse(
            "entities:detail", kwargs={"case_id": case.public_id, "entity_id": hub.public_id}
        ),
        "case entity list": reverse("entities:list", kwargs={"case_id": case.public_id}),
        "case shipments": reverse("entities:shipments", kwargs={"case_id": case.public_id}),
    }
    with connection.cursor() as cur:
        cur.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'entities_entity'")
        entities_in_db = cur.fetchone()[0]
    results = {name: measure(client, url) for name, url in pages.items()}

    print(f"\n{'page':<18}{'p50':>9}{'p95':>9}{'max':>9}{'sql p50':>9}{'queries':>9}{'KiB':>8}")
    for name, r in results.items():
        print(
            f"{name:<18}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}"
            f"{r['sql_p50_ms']:>9.1f}{r['queries']:>9}{r['bytes'] / 1024:>8.0f}"
        )
    print(
        f"(ms over {RENDERS} renders after {WARMUP} warm-up, test client, DEBUG off; "
        f"~{entities_in_db:,} entities in the database)"
    )
    for name, r in results.items():
        r["explain"] = explain_slow(r.pop("captured"))
        print(f"\nslowest queries of {name}:")
        for q in r["slowest_queries"][:3]:
            print(f"  {q['ms']:7.1f} ms  {' '.join(q['sql'].split())[:240]}")
        for e in r["explain"]:
            print(
                f"\n  EXPLAIN (ANALYZE, BUFFERS) of the {e['ms']:.0f} ms query:\n    "
                + e["plan"].replace("\n", "\n    ")
            )

    entity = results["entity page"]
    print(
        f"\nentity page p50 {entity['p50_ms']:.0f} ms: target {TARGET_MS:.0f} ms "
        f"{'met' if entity['p50_ms'] <= TARGET_MS else 'MISSED'}"
    )
    prof = parts = None
    if entity["p50_ms"] > TARGET_MS or args.profile:
        parts = breakdown(owner, case, hub)
        print("\nentity page piece by piece (median ms of 7 calls, SQL included):")
        for name, ms in parts["selectors_ms"].items():
            print(f"  {ms:8.1f}  {name}")
        print(
            f"  {parts['template_ms']:8.1f}  template detail.html with the page's context "
            f"({parts['link_rows']} link rows, {parts['totals_rows']} totals rows)"
        )
        print(
            f"  {parts['template_ms_totals_by_direction']:8.1f}  the same with totals grouped "
            f"by direction ({parts['totals_rows_by_direction']} rows)"
        )
        print(
            f"  {parts['template_ms_totals_by_direction_no_links']:8.1f}  the same without the "
            "link rows"
        )
        prof = profile(client, pages["entity page"])
        s = prof["split"]
        print(
            f"\nprofile of 5 entity-page renders: {s['total_s']:.2f} s, of which SQL "
            f"{s['sql_execute_s']:.2f} s, template rendering {s['template_render_s']:.2f} s "
            "(profiler overhead inflates Python time)"
        )
        print(prof["tottime"])

    benchdb.OUT_DIR.mkdir(exist_ok=True)
    out = benchdb.OUT_DIR / f"entity-page-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "target_ms": TARGET_MS,
                "data": {
                    "links": LINKS,
                    "shipments": SHIPMENTS,
                    "case_entities": OTHERS + 1,
                    "entities_in_database": entities_in_db,
                    "setup_seconds": seconds,
                },
                "results": results,
                "breakdown": parts,
                "profile": prof,
            },
            indent=2,
            ensure_ascii=False,
            default=str,
        )
    )
    print(f"\nwrote {out.relative_to(benchdb.BASE_DIR)}")


if __name__ == "__main__":
    main()
