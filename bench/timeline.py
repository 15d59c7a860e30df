"""The case timeline with 5,000 events, and the case report of a case with 500 claims.

    make bench-timeline

In the casefile_bench database, makes (once) the case file "Bench timeline" owned by
bench-owner: 300 companies with founding dates, 300 ownership links with start dates and
2,400 shipments between 60 pairs over 2019-2024 (derived events: incorporations, link starts,
shipment months), plus written events up to 5,000 events in all; 500 of them are claims
(300 verified, each citing one of 20 documents, 50 disputed, 100 waiting, 50 drafts).
Then renders, as the owner through Django's test client, timeline pages (the first, one in the
middle, filtered by entity and by review status): 3 warm-up renders, 30 timed, p50/p95/max,
SQL time and query count. Then the report: the HTML (5 renders) and the PDF through Chromium
(3 renders): seconds, pages and bytes. Writes bench/out/timeline-<date>.json.
"""

import datetime
import io
import json
import random
import sys
import time
from datetime import UTC
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import benchdb  # sets up the path and the bench database before Django
import entity_page  # measure(): the same warm-up, timing and query capture

TARGET_MS = 300.0
CASE_SLUG = "bench-timeline"
EVENTS = 5_000
COMPANIES = 300
PAIRS = 60
SHIPMENTS = 2_400
CLAIMS = {"verified": 300, "disputed": 50, "needs_review": 100, "draft": 50}
DOCUMENTS = 20
PDF_RENDERS = 3
SEED = 12


def ensure_data():
    """The bench case, made once (about half a minute)."""
    from django.contrib.auth import get_user_model

    from entities.models import Entity, Link, LinkKind, Shipment
    from evidence.models import Citation, Document
    from investigations import subjects, timeline
    from investigations.models import Claim, Investigation, TimelineEvent
    from investigations.services import investigation_create

    owner, _ = get_user_model().objects.get_or_create(
        username="bench-owner", defaults={"first_name": "Bench"}
    )
    case = Investigation.objects.filter(slug=CASE_SLUG).first()
    if case is not None and TimelineEvent.objects.filter(investigation=case).count() >= EVENTS:
        return owner, case, 0.0
    if case is not None:
        case.delete()
    started = time.perf_counter()
    rng = random.Random(SEED)  # noqa: S311 (bench data, not secrets)
    case = investigation_create(title="Bench timeline", created_by=owner, slug=CASE_SLUG)
    companies = Entity.objects.bulk_create(
        Entity(
            investigation=case,
            name=f"Bench Trading {n} LLP",
            start_date=f"{2000 + n % 24}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        )
        for n in range(COMPANIES)
    )
    Link.objects.bulk_create(
        Link(
            investigation=case,
            kind=LinkKind.OWNERSHIP,
            source=companies[n],
            target=companies[(n + 1) % COMPANIES],
            percentage=Decimal(50),
            start_date=f"{2010 + n % 14}-{1 + n % 12:02d}",
        )
        for n in range(COMPANIES)
    )
    pairs = [(companies[n], companies[(n * 7 + 3) % COMPANIES]) for n in range(PAIRS)]
    Shipment.objects.bulk_create(
        Shipment(
            investigation=case,
            date=datetime.date(2019 + n % 6, 1 + (n // 6) % 12, 1 + n % 28),
            exporter=pairs[n % PAIRS][0],
            importer=pairs[n % PAIRS][1],
            hs_code="854231",
            quantity=Decimal(rng.randint(100, 5000)),
            unit="pcs",
            value=Decimal(rng.randint(1000, 900000)),
            currency="USD",
        )
        for n in range(SHIPMENTS)
    )
    derived = timeline.rebuild(case)  # bulk writes send no signals: derive once
    written = [
        TimelineEvent(
            investigation=case,
            title=f"Written event {n}: a payment routed through an intermediary",
            description="Bench event. " * 5,
            entity_ids=[companies[n % COMPANIES].pk, companies[(n * 13) % COMPANIES].pk],
            created_by=owner,
            **timeline.date_fields(f"{2000 + n % 25}-{1 + n % 12:02d}-{1 + n % 28:02d}"),
        )
        for n in range(EVENTS - derived)
    ]
    TimelineEvent.objects.bulk_create(written, batch_size=1000)
    documents = Document.objects.bulk_create(
        Document(
            investigation=case,
            title=f"Register extract {n}",
            original_name=f"extract-{n}.pdf",
            file=f"bench/extract-{n}.pdf",
            sha256=f"{n:064x}",
            size=1000,
            mime="application/pdf",
            kind="pdf",
            type_label="PDF",
            status="done",
        )
        for n in range(DOCUMENTS)
    )
    events = list(
        TimelineEvent.objects.filter(investigation=case).order_by("?")[: sum(CLAIMS.values())]
    )
    event_type = subjects.content_type(TimelineEvent)
    now = datetime.datetime.now(UTC)
    statuses = [s for s, n in CLAIMS.items() for _ in range(n)]
    Claim.objects.bulk_create(
        Claim(
            investigation=case,
            target_type=event_type,
            target_id=event.pk,
            statement=f"{event.start}: {event.title}"[:500],
            status=status,
            status_reason="The dates do not match the declaration." if status == "disputed" else "",
            created_by=owner,
            reviewed_by=owner if status in ("verified", "disputed") else None,
            reviewed_at=now if status in ("verified", "disputed") else None,
            review_requested_at=now if status != "draft" else None,
        )
        for event, status in zip(events, statuses, strict=True)
    )
    Citation.objects.bulk_create(
        Citation(
            investigation=case,
            document=documents[n % DOCUMENTS],
            event=event,
            page=1 + n % 3,
            quote="Учредитель: Bench Trading LLP. " * 2,
        )
        for n, event in enumerate(events[: CLAIMS["verified"] + CLAIMS["disputed"]])
    )
    return owner, case, time.perf_counter() - started


def report_figures(case) -> dict:
    import pypdfium2 as pdfium

    from investigations import report

    html_times = []
    for _ in range(5):
        t = time.perf_counter()
        html = report.render_html(report.build(case), inline_css=True)
        html_times.append(time.perf_counter() - t)
    pdf_times, data = [], b""
    for _ in range(PDF_RENDERS):
        t = time.perf_counter()
        data = report.render_pdf(case)
        pdf_times.append(time.perf_counter() - t)
    pages = len(pdfium.PdfDocument(io.BytesIO(data)))
    return {
        "html_p50_s": benchdb.percentile(html_times, 50),
        "html_bytes": len(html.encode()),
        "pdf_p50_s": benchdb.percentile(pdf_times, 50),
        "pdf_max_s": max(pdf_times),
        "pdf_pages": pages,
        "pdf_bytes": len(data),
    }


def main() -> None:
    benchdb.setup()
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from entities.models import Entity
    from investigations.models import TimelineEvent

    owner, case, seconds = ensure_data()
    with connection.cursor() as cur:  # fresh statistics after the bulk loads, as autovacuum would
        for table in ("investigations_timelineevent", "investigations_claim", "evidence_citation"):
            cur.execute(f"ANALYZE {table}")
    events = TimelineEvent.objects.filter(investigation=case).count()
    entity = Entity.objects.filter(investigation=case).order_by("pk")[7]
    client = Client()
    client.force_login(owner)
    url = reverse("investigations:timeline", kwargs={"case_id": case.public_id})
    pages = {
        "first page": url,
        "page 25 of 50": url + "?page=25",
        "one entity": url + f"?entity={entity.public_id}",
        "verified claims": url + "?status=verified",
    }
    results = {name: entity_page.measure(client, u) for name, u in pages.items()}
    print(f"\n{'timeline':<18}{'p50':>9}{'p95':>9}{'max':>9}{'sql p50':>9}{'queries':>9}{'KiB':>8}")
    for name, r in results.items():
        r.pop("captured")
        print(
            f"{name:<18}{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['max_ms']:>9.1f}"
            f"{r['sql_p50_ms']:>9.1f}{r['queries']:>9}{r['bytes'] / 1024:>8.0f}"
        )
    worst = max(r["p50_ms"] for r in results.values())
    print(
        f"({events:,} events; ms over {entity_page.RENDERS} renders after "
        f"{entity_page.WARMUP} warm-up, test client, DEBUG off) "
        f"slowest p50 {worst:.0f} ms: target {TARGET_MS:.0f} ms "
        f"{'met' if worst <= TARGET_MS else 'MISSED'}"
    )
    figures = report_figures(case)
    print(
        f"\nreport of {sum(CLAIMS.values())} claims ({CLAIMS['verified']} verified): HTML "
        f"{figures['html_p50_s']:.2f} s ({figures['html_bytes'] / 1024:.0f} KiB); PDF "
        f"{figures['pdf_p50_s']:.1f} s p50 of {PDF_RENDERS} (max {figures['pdf_max_s']:.1f} s), "
        f"{figures['pdf_pages']} pages, {figures['pdf_bytes']:,} bytes"
    )
    benchdb.OUT_DIR.mkdir(exist_ok=True)
    out = benchdb.OUT_DIR / f"timeline-{datetime.datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.datetime.now(UTC).isoformat(timespec="seconds"),
                "target_ms": TARGET_MS,
                "events": events,
                "claims": CLAIMS,
                "setup_seconds": seconds,
                "timeline": results,
                "report": figures,
            },
            indent=2,
            default=str,
        )
    )
    print(f"\nwrote {out.relative_to(benchdb.BASE_DIR)}")


if __name__ == "__main__":
    main()
