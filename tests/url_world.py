"""Every URL of the app and a world to fill them: shared by the access walk
(tests/investigations/test_url_access.py), the layout walk in Chromium
(tests/browser/test_layout.py) and the label check (tests/test_form_labels.py).

`_patterns_with_ids()` walks the URL resolver; `_fill(route, world, ids)` builds a URL from
OBJECT_IDS (case-scoped), SHARED_IDS (datasets) or STAFF_IDS (imports). A pattern with an id
this module cannot build fails loudly: add it here. `html_pages(world)` lists every page a
member can GET, ids filled, plus a few filtered variants.
"""

import datetime
import hashlib
import io
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver

from entities.models import (
    Dataset,
    Entity,
    FlagHit,
    FlagRun,
    ImportJob,
    Link,
    LinkKind,
    RejectedRow,
    Shipment,
)
from entities.services import Scope, entity_create, link_create, pin_entity, shipment_create
from evidence.models import Citation, Document, Snapshot, Watch
from investigations import activity, jobs
from investigations.models import Claim, Invitation, Membership, TimelineEvent
from investigations.services import claims, comments
from investigations.services.timeline import event_create
from tests.factories import UserFactory, make_case

# Namespaces that hold no case data and have their own access rules.
EXCLUDED_NAMESPACES = {"admin"}


@dataclass
class World:
    alice: object  # owns `case`
    bob: object  # reporter in `case`
    charlie: object  # outsider: owns `other_case`, never a member of `case`
    case: object
    other_case: object
    dataset: object
    imports: list = field(default_factory=list)  # import jobs, when the world has them


# How to build each URL keyword from the world: (object in alice's case, object in charlie's).
OBJECT_IDS: dict[str, Callable[[World], uuid.UUID]] = {
    "case_id": lambda w: w.case.public_id,
    "member_id": lambda w: Membership.objects.get(investigation=w.case, user=w.bob).public_id,
    "invitation_id": lambda w: Invitation.objects.get(investigation=w.case).public_id,
    "hit_id": lambda w: FlagHit.objects.get(run__investigation=w.case).public_id,
    "entity_id": lambda w: Entity.objects.get(investigation=w.case, name=COMPANY).public_id,
    "link_id": lambda w: Link.objects.filter(investigation=w.case).order_by("id")[0].public_id,
    "shipment_id": lambda w: (
        Shipment.objects.filter(investigation=w.case).order_by("id")[0].public_id
    ),
    "document_id": lambda w: (
        Document.objects.filter(investigation=w.case).order_by("id")[0].public_id
    ),
    "snapshot_id": lambda w: (
        Snapshot.objects.filter(investigation=w.case).order_by("id").first().public_id
    ),
    "watch_id": lambda w: Watch.objects.filter(investigation=w.case).order_by("id")[0].public_id,
    "citation_id": lambda w: (
        Citation.objects.filter(investigation=w.case).order_by("id")[0].public_id
    ),
    "claim_kind": lambda w: "entity",
    "claim_id": lambda w: Entity.objects.get(investigation=w.case, name=COMPANY).public_id,
    "number": lambda w: 1,
    "event_id": lambda w: (
        TimelineEvent.objects.filter(investigation=w.case, kind="written")[0].public_id
    ),
    "claim_uid": lambda w: Claim.objects.filter(investigation=w.case).order_by("id")[0].public_id,
    "target_kind": lambda w: "link",
    "target_id": lambda w: Link.objects.filter(investigation=w.case).order_by("id")[0].public_id,
    "subject_kind": lambda w: "entity",
    "subject_id": lambda w: Entity.objects.get(investigation=w.case, name=COMPANY).public_id,
}
# Shared (dataset) routes: how to build their ids.
SHARED_IDS: dict[str, Callable[[World], uuid.UUID]] = {
    "dataset_id": lambda w: w.dataset.public_id,
    "entity_id": lambda w: Entity.objects.filter(dataset=w.dataset).order_by("id")[0].public_id,
}
# Staff routes (imports).
STAFF_IDS: dict[str, Callable[[World], uuid.UUID]] = {
    "import_id": lambda w: w.imports[0].public_id,
}
COMPANY = "Aspan Arba"


def _walk(resolvers, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            if ns in EXCLUDED_NAMESPACES:
                continue
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        else:
            yield prefix + str(entry.pattern), entry


KWARG = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def _patterns_with_ids() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in _walk(get_resolver().url_patterns) if "<" in route]


def _patterns_without_ids() -> list[tuple[str, URLPattern]]:
    return [(route, p) for route, p in _walk(get_resolver().url_patterns) if "<" not in route]


def _fill(route: str, world: World, ids: dict) -> str:
    def build(match: re.Match) -> str:
        name = match.group("name")
        if name not in ids:
            pytest.fail(f"{route}: no way to build <{name}>; add it to {__file__}")
        return str(ids[name](world))

    return "/" + KWARG.sub(build, route)


# Routes whose only key is a signed, expiring token (evidence downloads on another origin).
SIGNED_ROUTES = {"dl/<str:token>"}
# Staff-only routes (imports): any other user gets 404.
STAFF_KWARGS = {"<uuid:import_id>"}


def ids_for(route: str) -> dict:
    if "<uuid:case_id>" in route:
        return OBJECT_IDS
    if "<uuid:dataset_id>" in route:
        return SHARED_IDS
    return STAFF_IDS


def html_pages(world: World) -> list[tuple[str, str]]:
    """(name, URL) of every page to GET: each pattern with its ids filled, the pages without
    ids, and filtered variants that render more (search hits, filters, the second feed page).
    Callers keep those that answer 200 with HTML."""
    pages = [(r or "home", "/" + r) for r, _ in _patterns_without_ids()]
    for route, _ in _patterns_with_ids():
        if route in SIGNED_ROUTES:
            continue
        pages.append((route, _fill(route, world, ids_for(route))))
    case = f"/cases/{world.case.public_id}"
    pages += [
        ("search with hits", "/search/?q=Aspan+Arba"),
        ("search for text", "/search/?q=registered"),
        ("entities filtered", f"{case}/entities/?q=Aspan&schema=Company"),
        ("shipments filtered", f"{case}/shipments/?hs=85&country=KZ"),
        ("flows by origin", f"{case}/flows/?level=heading&by=origin"),
        ("activity filtered", f"{case}/activity/?kind=entity&date_from=2020-01-01"),
        ("activity page 2", f"{case}/activity/?page=2"),
        ("timeline filtered", f"{case}/timeline/?kind=written&status=needs_review"),
        ("claims unverified", f"{case}/claims/?status=unverified"),
        ("dataset flows", f"/datasets/{world.dataset.public_id}/flows/?level=heading"),
    ]
    for job in world.imports[1:]:
        pages.append((f"import {job.status}", f"/imports/{job.public_id}/"))
    # The realistic world's longest objects have pages of their own.
    long = Entity.objects.filter(investigation=world.case, name=LONG_COMPANY).first()
    if long is not None:
        pages.append(("long entity", f"{case}/entities/{long.public_id}/"))
        pages.append(("long entity edit", f"{case}/entities/{long.public_id}/edit/"))
        pinned = Entity.objects.filter(dataset=world.dataset, name__startswith=LONG_COMPANY)[0]
        pages.append(("pinned entity", f"{case}/entities/{pinned.public_id}/"))
        pages.append(
            ("dataset entity", f"/datasets/{world.dataset.public_id}/entities/{pinned.public_id}/")
        )
        for doc in Document.objects.filter(investigation=world.case).order_by("id")[1:]:
            pages.append(("long document", f"{case}/documents/{doc.public_id}/"))
        for claim in Claim.objects.filter(investigation=world.case, status="disputed"):
            pages.append(("long claim", f"{case}/claims/{claim.public_id}/"))
        for snap in Snapshot.objects.filter(investigation=world.case, url__startswith=LONG_URL):
            pages.append((f"snapshot {snap.status}", f"{case}/snapshots/{snap.public_id}/"))
    return pages


def _warc_bytes(url: str = "https://example.org/") -> bytes:
    from evidence.capture_types import Capture, Exchange
    from evidence.warc import write_warc

    body = b"<html><title>Example</title><p>Example</p></html>"
    capture = Capture(
        requested_url=url,
        exchanges=[
            Exchange(
                url=url,
                method="GET",
                request_headers=[("Host", "example.org")],
                status=200,
                reason="OK",
                http_version="HTTP/1.1",
                response_headers=[("Content-Type", "text/html")],
                raw_body=body,
                body=body,
                peer_ip="93.184.215.14",
                started_at=datetime.datetime.now(datetime.UTC),
            )
        ],
    )
    out = io.BytesIO()
    write_warc(capture, out, metadata={"requested_by": "alice"})
    return out.getvalue()


def build_world() -> World:
    """The small world of the access walk: one of each object."""
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    charlie = UserFactory(username="charlie")
    case = make_case(owner=alice, members={bob: "reporter"})
    scope = Scope(investigation=case)
    company = entity_create(scope=scope, name=COMPANY, created_by=alice)
    person = entity_create(scope=scope, name="Erlan Example", schema="Person", created_by=alice)
    link_create(scope=scope, kind=LinkKind.DIRECTORSHIP, source=person, target=company)
    shipment_create(scope=scope, date="2022-05-01", hs_code="8542", importer=company)
    dataset = Dataset.objects.create(name="KZ customs")
    entity_create(scope=Scope(dataset=dataset), name="Sky Mechanics")
    document, snapshot = _evidence(
        case, alice, title="Register extract", url="https://example.org/"
    )
    Citation.objects.create(investigation=case, document=document, entity=company, page=1)
    Invitation.objects.create(investigation=case, email="dora@paper.example", role="viewer")
    run = FlagRun.objects.create(investigation=case, status="done")
    FlagHit.objects.create(
        run=run, detector="pass_through", score=1, explanation="x", entity_ids=[]
    )
    _review(case, alice, bob, company, document)
    assert snapshot.pk
    return World(
        alice=alice,
        bob=bob,
        charlie=charlie,
        case=case,
        other_case=make_case(owner=charlie, title="Charlie's own case"),
        dataset=dataset,
    )


def _review(case, alice, bob, company, document) -> None:
    """A written event with a claim (cited, asked of alice), a comment mentioning alice."""
    event = event_create(
        case=case,
        start="2022-04",
        end="2022-05",
        title="Pass-through: 2,598 in, 2,598 out",
        entity_ids=[company.pk],
        actor=bob,
    )
    Citation.objects.create(investigation=case, document=document, event=event, page=1)
    claim = claims.claim_create(case=case, target=event, actor=bob, reviewer=alice)
    comments.comment_add(case=case, subject=claim, body="@alice please check page 1", actor=bob)


def one_page_pdf() -> bytes:
    """A real one-page PDF (pdfium renders it), for documents and page images."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    pdf.new_page(595, 842)
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()


def _evidence(case, user, *, title: str, url: str, text: str = "Example"):
    stored = default_storage.save(f"test/{case.public_id}", ContentFile(one_page_pdf()))
    document = Document.objects.create(
        investigation=case,
        title=title,
        original_name=f"{title[:60]}.pdf",
        file=stored,
        sha256=hashlib.sha256(title.encode()).hexdigest(),
        size=13,
        mime="application/pdf",
        kind="pdf",
        type_label="PDF",
        status="done",
        uploaded_by=user,
    )
    warc = default_storage.save(f"test/{case.public_id}.warc.gz", ContentFile(_warc_bytes(url)))
    snapshot = Snapshot.objects.create(
        investigation=case,
        url=url,
        status="done",
        warc_file=warc,
        screenshot_file=stored,
        warc_sha256="0" * 64,
        final_url=url,
        text=text,
        title=title,
        http_status=200,
        response_headers=[["Content-Type", "text/html"], ["Set-Cookie", "x" * 300]],
        captured_at="2026-01-01T00:00:00Z",
        requested_by=user,
    )
    Snapshot.objects.create(
        investigation=case,
        url=url,
        status="done",
        warc_file=stored,
        captured_at="2026-01-02T00:00:00Z",
        text=f"{text} 2",
        requested_by=user,
    )
    Watch.objects.create(
        investigation=case,
        url=url,
        frequency="daily",
        next_check_at="2030-01-01T00:00:00Z",
    )
    return document, snapshot


# --- A realistic world: long names, long URLs, many columns ---------------------------------

LONG_COMPANY = (
    "Товарищество с ограниченной ответственностью «Международная торгово-логистическая "
    "компания Казахстан-Евразия Микроэлектроника и Беспилотные Системы»"
)
LONG_URL = (
    "https://www.kazakhstan-eurasia-microelectronics-and-unmanned-systems.example.kz/ru/catalogue/"
    "integrated-circuits/processors-and-controllers/8542310000/stm32f407vgt6-lqfp100?"
    "utm_source=casefile&utm_medium=evidence&session=0123456789abcdef0123456789abcdef"
)
UNBROKEN = "DEMO/2022/" + "0123456789" * 9  # 100 characters without a space


def build_realistic_world() -> World:
    """The same shape, filled as a real case would be: long names in two scripts, long URLs
    and unbroken tokens, many shipments over many years and countries, a wide import."""
    world = build_world()
    case, alice = world.case, world.alice
    alice.first_name, alice.last_name, alice.is_staff = "Alice", "Longname-Investigator", True
    alice.save()
    case.title = "Chips via Almaty: how Western microcontrollers reached Russian buyers in 2022"
    case.summary = ("Microchips re-exported through Kazakhstan. " * 12) + UNBROKEN
    case.save()
    scope = Scope(investigation=case)
    with activity.acting_as(alice):
        long = entity_create(
            scope=scope,
            name=LONG_COMPANY,
            aliases=[
                f"Kazakhstan-Eurasia Microelectronics and Unmanned Systems LLP {n}"
                for n in range(6)
            ],
            countries=["KZ", "RU", "DE", "CN", "AE", "TR"],
            start_date="2022-04-07",
            identifiers=[("kz_bin", "220440012351"), ("registration", UNBROKEN[:60])],
            addresses=["пр. Абая 150, офис 1207, Бостандыкский район, 050046 Алматы, Казахстан"],
            notes=UNBROKEN,
            source=LONG_URL,
            created_by=alice,
        )
        company = Entity.objects.get(investigation=case, name=COMPANY)
        link_create(
            scope=scope,
            kind=LinkKind.OWNERSHIP,
            source=long,
            target=company,
            percentage=Decimal("33.3333"),
            role="beneficial owner through a nominee arrangement " * 3,
            start_date="2022-04",
            summary=UNBROKEN,
        )
        countries = ["DE", "KZ", "RU", "CN", "AE", "TR", "US", "NL"]
        for n in range(40):
            shipment_create(
                scope=scope,
                date=datetime.date(2019 + n % 6, 1 + n % 12, 1 + n % 27),
                exporter=long if n % 2 else company,
                importer=company if n % 2 else long,
                hs_code=["854231", "880621", "854232", "852589"][n % 4],
                description="Integrated circuits, processors and controllers, STM32F407VGT6, "
                "LQFP100, in reels of 540 pieces " * 2,
                quantity=Decimal("1234567.125") + n,
                unit="pieces",
                value=Decimal("98765432.10") + n,
                currency=["USD", "EUR"][n % 2],
                origin_country=countries[n % 8],
                dispatch_country=countries[(n + 3) % 8],
                destination_country=countries[(n + 5) % 8],
                declaration_number=UNBROKEN,
            )
        _evidence(case, alice, title=LONG_COMPANY + " — register extract", url=LONG_URL)
        failed = Snapshot.objects.create(
            investigation=case, url=LONG_URL + "&failed=1", requested_by=alice
        )
        Snapshot.objects.filter(pk=failed.pk).update(
            status=jobs.JobStatus.FAILED, error="refused: " + UNBROKEN + " resolves to 10.0.0.7"
        )
        Citation.objects.create(
            investigation=case,
            document=Document.objects.filter(investigation=case).order_by("id")[0],
            entity=long,
            page=2,
            quote=UNBROKEN + " " + "Учредитель: Тимур Хартманн. " * 6,
        )
        event = event_create(
            case=case,
            start="2022-04-07",
            title=f"{LONG_COMPANY} re-exports {UNBROKEN} to ООО «Вектор Системс»",
            description=UNBROKEN + " " + "Customs extracts of April and May 2022. " * 8,
            entity_ids=[long.pk, company.pk],
            actor=alice,
        )
        long_claim = claims.claim_create(case=case, target=event, actor=alice)
        claims.claim_dispute(
            claim=long_claim, actor=alice, comment=f"@bob {UNBROKEN} " + "dates differ. " * 10
        )
    dataset = world.dataset
    dataset.name = "KZ customs declarations 2019-2024 (Kazakhstan State Revenue Committee)"
    dataset.description = "Customs records. " * 20
    dataset.save()
    pinned = entity_create(scope=Scope(dataset=dataset), name=LONG_COMPANY + " (registry)")
    pin_entity(investigation=case, entity=pinned, actor=alice)
    world.imports = _imports(dataset, alice)
    return world


def _imports(dataset, user) -> list[ImportJob]:
    """A draft waiting for its mapping (many columns), and a finished import with rejects."""
    import tempfile
    from pathlib import Path

    from entities.importing import service

    headers = [
        "дата",
        "номер декларации",
        "экспортер / отправитель",
        "страна отправителя",
        "получатель",
        "страна получателя",
        "код ТН ВЭД",
        "описание товара",
        "количество",
        "единица",
        "стоимость",
        "валюта",
        "страна происхождения",
    ]
    row = [
        "07.04.2022",
        UNBROKEN,
        LONG_COMPANY,
        "DE",
        "ООО «Вектор Системс»",
        "RU",
        "8542310000",
        "Интегральные схемы, процессоры и контроллеры " * 3,
        "2 598",
        "шт",
        "119 508,00",
        "EUR",
        "DE",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "customs.csv"
        path.write_text(
            "\n".join([";".join(headers), *[";".join(row)] * 5]) + "\n", encoding="utf-8"
        )
        draft = service.import_stage(
            kind="shipments",
            dataset=dataset,
            path=path,
            original_name="kz-customs-declarations-2019-2024-full-export-from-the-state-revenue.csv",
            actor=user,
        )
    done = ImportJob.objects.create(
        kind="shipments",
        dataset=dataset,
        original_name="kz-customs-2022-q1-q4.csv",
        file="imports/kz-customs-2022.csv",
        created_by=user,
        status=jobs.JobStatus.DONE,
        rows_read=1_200_037,
        rows_imported=1_200_000,
        rows_rejected=37,
        seconds=45.2,
    )
    RejectedRow.objects.bulk_create(
        RejectedRow(job=done, line=n, column="код ТН ВЭД", value=UNBROKEN, reason="not an HS code")
        for n in range(2, 39)
    )
    return [draft, done]
