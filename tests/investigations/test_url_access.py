"""The locked door, for every URL: walks the resolver so a new view is covered automatically.

Every pattern with a <case_id> is case-scoped: it must answer a logged-in non-member with 404
(never 403, never data) and an anonymous visitor with a redirect to the login page. Patterns
with a <dataset_id> are shared reference data: any logged-in user reads them, anonymous users
are sent to log in, and a case entity's id never opens through them. A pattern with an id this
file does not know how to build fails loudly: add it to OBJECT_IDS or SHARED_IDS
(tests/url_world.py, shared with the layout and label walks).
"""

import uuid

import pytest
from django.urls import URLPattern

from tests.factories import UserFactory
from tests.url_world import (
    KWARG,
    OBJECT_IDS,
    SHARED_IDS,
    SIGNED_ROUTES,
    STAFF_KWARGS,
    _fill,
    _patterns_with_ids,
    build_world,
)


def _scoped_patterns() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _patterns_with_ids() if "<uuid:case_id>" in r]


def _shared_patterns() -> list[tuple[str, URLPattern]]:
    return [(r, p) for r, p in _patterns_with_ids() if "<uuid:dataset_id>" in r]


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


@pytest.fixture
def world(db):
    return build_world()


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
