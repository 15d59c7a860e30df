"""The locked door, for every URL: walks the resolver so a new view is covered automatically.

Every pattern with a <case_id> is case-scoped: it must answer a logged-in non-member with 404
(never 403, never data) and an anonymous visitor with a redirect to the login page. Patterns
with a <dataset_id> are shared reference data: any logged-in user reads them, anonymous users
are sent to log in, and a case entity's id never opens through them. A pattern with an id this
file does not know how to build fails loudly: add it to OBJECT_IDS or SHARED_IDS.
"""

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import URLPattern, URLResolver, get_resolver

from entities.models import Dataset, Entity, FlagHit, FlagRun, Link, LinkKind, Shipment
from entities.services import Scope, entity_create, link_create, shipment_create
from evidence.models import Citation, Document, Snapshot, Watch
from investigations.models import Membership
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


# How to build each URL keyword from the world: (object in alice's case, object in charlie's).
OBJECT_IDS: dict[str, Callable[[World], uuid.UUID]] = {
    "case_id": lambda w: w.case.public_id,
    "member_id": lambda w: Membership.objects.get(investigation=w.case, user=w.bob).public_id,
    "entity_id": lambda w: Entity.objects.get(investigation=w.case, name="Aspan Arba").public_id,
    "link_id": lambda w: Link.objects.get(investigation=w.case).public_id,
    "shipment_id": lambda w: Shipment.objects.get(investigation=w.case).public_id,
    "document_id": lambda w: Document.objects.get(investigation=w.case).public_id,
    "snapshot_id": lambda w: (
        Snapshot.objects.filter(investigation=w.case).order_by("id").first().public_id
    ),
    "watch_id": lambda w: Watch.objects.get(investigation=w.case).public_id,
    "citation_id": lambda w: Citation.objects.get(investigation=w.case).public_id,
    "hit_id": lambda w: FlagHit.objects.get(run__investigation=w.case).public_id,
    "claim_kind": lambda w: "entity",
    "claim_id": lambda w: Entity.objects.get(investigation=w.case, name="Aspan Arba").public_id,
}
# Shared (dataset) routes: how to build their ids.
SHARED_IDS: dict[str, Callable[[World], uuid.UUID]] = {
    "dataset_id": lambda w: w.dataset.public_id,
    "entity_id": lambda w: Entity.objects.get(dataset=w.dataset).public_id,
}


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


def _scoped_patterns() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _patterns_with_ids() if "<uuid:case_id>" in r]


def _shared_patterns() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _patterns_with_ids() if "<uuid:dataset_id>" in r]


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


def test_every_pattern_with_an_id_is_classified():
    unclassified = [
        r
        for r, _ in _patterns_with_ids()
        if "<uuid:case_id>" not in r
        and "<uuid:dataset_id>" not in r
        and r not in SIGNED_ROUTES
        and not any(k in r for k in STAFF_KWARGS)
    ]
    assert unclassified == [], "case-scoped (<case_id>) or shared (<dataset_id>)? Say which."


def test_signed_routes_refuse_made_up_tokens(world, client):
    for route in SIGNED_ROUTES:
        assert client.get("/" + route.replace("<str:token>", "made-up")).status_code == 404


def _warc_bytes() -> bytes:
    import datetime
    import io

    from evidence.capture_types import Capture, Exchange
    from evidence.warc import write_warc

    body = b"<html><title>Example</title><p>Example</p></html>"
    capture = Capture(
        requested_url="https://example.org/",
        exchanges=[
            Exchange(
                url="https://example.org/",
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


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    charlie = UserFactory(username="charlie")
    case = make_case(owner=alice, members={bob: "reporter"})
    scope = Scope(investigation=case)
    company = entity_create(scope=scope, name="Aspan Arba", created_by=alice)
    person = entity_create(scope=scope, name="Erlan Example", schema="Person", created_by=alice)
    link_create(scope=scope, kind=LinkKind.DIRECTORSHIP, source=person, target=company)
    shipment_create(scope=scope, date="2022-05-01", hs_code="8542", importer=company)
    dataset = Dataset.objects.create(name="KZ customs")
    entity_create(scope=Scope(dataset=dataset), name="Sky Mechanics")
    stored = default_storage.save(f"test/{case.public_id}", ContentFile(b"%PDF-1.4 test"))
    document = Document.objects.create(
        investigation=case,
        title="Register extract",
        original_name="extract.pdf",
        file=stored,
        sha256="0" * 64,
        size=13,
        mime="application/pdf",
        kind="pdf",
        type_label="PDF",
        status="done",
    )
    warc = default_storage.save(f"test/{case.public_id}.warc.gz", ContentFile(_warc_bytes()))
    snapshot = Snapshot.objects.create(
        investigation=case,
        url="https://example.org/",
        status="done",
        warc_file=warc,
        screenshot_file=stored,
        warc_sha256="0" * 64,
        final_url="https://example.org/",
        text="Example",
        captured_at="2026-01-01T00:00:00Z",
    )
    Snapshot.objects.create(
        investigation=case,
        url="https://example.org/",
        status="done",
        warc_file=stored,
        captured_at="2026-01-02T00:00:00Z",
        text="Example 2",
    )
    Watch.objects.create(
        investigation=case,
        url="https://example.org/",
        frequency="daily",
        next_check_at="2030-01-01T00:00:00Z",
    )
    Citation.objects.create(investigation=case, document=document, entity=company, page=1)
    run = FlagRun.objects.create(investigation=case, status="done")
    FlagHit.objects.create(
        run=run, detector="pass_through", score=1, explanation="x", entity_ids=[]
    )
    assert snapshot.pk
    return World(
        alice=alice,
        bob=bob,
        charlie=charlie,
        case=case,
        other_case=make_case(owner=charlie, title="Charlie's own case"),
        dataset=dataset,
    )


def test_resolver_finds_case_scoped_patterns():
    routes = [route for route, _ in _scoped_patterns()]
    assert "cases/<uuid:case_id>/" in routes
    assert "cases/<uuid:case_id>/members/<uuid:member_id>/remove/" in routes


@pytest.mark.parametrize(("route", "pattern"), _scoped_patterns(), ids=lambda v: str(v))
def test_non_member_gets_404_and_anonymous_gets_login(route, pattern, world, client):
    url = _fill(route, world, OBJECT_IDS)
    missing_url = url.replace(str(world.case.public_id), str(uuid.uuid4()))

    client.force_login(world.charlie)
    answered_404 = False
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code == 405:
            # The method is refused before any lookup: the same for a case that does not exist.
            assert getattr(client, method)(missing_url).status_code == 405
            continue
        assert response.status_code == 404, f"{method.upper()} {url} as a non-member"
        answered_404 = True
    assert answered_404

    # The outsider's own case id with alice's object ids: both halves of the URL must agree.
    if len(KWARG.findall(route)) > 1:
        crossed = url.replace(str(world.case.public_id), str(world.other_case.public_id))
        for method in ("get", "post"):
            assert getattr(client, method)(crossed).status_code in (404, 405)

    client.logout()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 302, f"{method.upper()} {url} anonymously"
        assert response["Location"].startswith("/accounts/login/")

    # Last (a POST may delete the object): the URL is real, its owner gets no 404 by GET or POST.
    client.force_login(world.alice)
    owner_statuses = {m: getattr(client, m)(url).status_code for m in ("get", "post")}
    assert set(owner_statuses.values()) - {404, 405}, f"{url} is not a live URL for its owner"


@pytest.mark.parametrize(("route", "pattern"), _shared_patterns(), ids=lambda v: str(v))
def test_shared_routes_need_login_and_never_open_case_entities(route, pattern, world, client):
    url = _fill(route, world, SHARED_IDS)
    client.force_login(world.charlie)
    assert client.get(url).status_code in (200, 405)
    if "<uuid:entity_id>" in route:
        case_entity = str(OBJECT_IDS["entity_id"](world))
        dataset_entity = str(SHARED_IDS["entity_id"](world))
        client.force_login(world.alice)  # even a member of that case: not through this door
        for method in ("get", "post"):
            crossed = url.replace(dataset_entity, case_entity)
            assert getattr(client, method)(crossed).status_code in (404, 405)
    client.logout()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code != 405:
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")


def _staff_patterns() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _patterns_with_ids() if any(k in r for k in STAFF_KWARGS)]


@pytest.mark.parametrize(("route", "pattern"), _staff_patterns(), ids=lambda v: str(v))
def test_staff_routes_are_404_for_everyone_else(route, pattern, world, client, tmp_path):
    from entities.importing import service

    source = tmp_path / "customs.csv"
    source.write_text("date,hs_code,importer\n2022-05-01,8542,Dala Micro\n", encoding="utf-8")
    job = service.import_stage(
        kind="shipments", dataset=world.dataset, path=source, original_name="customs.csv"
    )
    url = "/" + route.replace("<uuid:import_id>", str(job.public_id))
    client.force_login(world.alice)  # a case owner, not staff
    for method in ("get", "post"):
        assert getattr(client, method)(url).status_code in (404, 405)
    client.logout()
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code != 405:
            assert response["Location"].startswith("/accounts/login/")
    staff = UserFactory(username="erlan", is_staff=True)
    client.force_login(staff)
    assert {client.get(url).status_code, client.post(url).status_code} - {404, 405}
