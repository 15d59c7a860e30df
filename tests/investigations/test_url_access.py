"""The locked door, for every URL: walks the resolver so a new view is covered automatically.

Every pattern that takes an object id is case-scoped: it must answer a logged-in non-member with
404 (never 403, never data) and an anonymous visitor with a redirect to the login page. A
pattern with an id this file does not know how to build fails loudly: add it to OBJECT_IDS.
"""

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

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


# How to build each URL keyword from the world: (object in alice's case, object in charlie's).
OBJECT_IDS: dict[str, Callable[[World], uuid.UUID]] = {
    "case_id": lambda w: w.case.public_id,
    "member_id": lambda w: Membership.objects.get(investigation=w.case, user=w.bob).public_id,
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


def _scoped_patterns() -> list[tuple[str, URLPattern]]:
    return [
        (route, p)
        for route, p in _walk(get_resolver().url_patterns)
        if p.pattern.converters or "<" in route
    ]


def _fill(route: str, pattern: URLPattern, world: World) -> str:
    import re

    def build(match: re.Match) -> str:
        name = match.group("name")
        if name not in OBJECT_IDS:
            pytest.fail(f"{route}: no way to build <{name}>; add it to OBJECT_IDS in {__file__}")
        return str(OBJECT_IDS[name](world))

    return "/" + re.sub(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>", build, route)


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    charlie = UserFactory(username="charlie")
    return World(
        alice=alice,
        bob=bob,
        charlie=charlie,
        case=make_case(owner=alice, members={bob: "reporter"}),
        other_case=make_case(owner=charlie, title="Charlie's own case"),
    )


def test_resolver_finds_case_scoped_patterns():
    routes = [route for route, _ in _scoped_patterns()]
    assert "cases/<uuid:case_id>/" in routes
    assert "cases/<uuid:case_id>/members/<uuid:member_id>/remove/" in routes


@pytest.mark.parametrize(("route", "pattern"), _scoped_patterns(), ids=lambda v: str(v))
def test_non_member_gets_404_and_anonymous_gets_login(route, pattern, world, client):
    url = _fill(route, pattern, world)
    missing_url = url.replace(str(world.case.public_id), str(uuid.uuid4()))

    # The URL is real: the owner gets something other than 404 by GET or POST.
    client.force_login(world.alice)
    owner_statuses = {m: getattr(client, m)(url).status_code for m in ("get", "post")}
    assert set(owner_statuses.values()) - {404, 405}, f"{url} is not a live URL for its owner"

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
    if str(world.case.public_id) in url and url.count("/") > 4:
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
