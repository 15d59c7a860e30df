import pytest
from django.urls import reverse

from investigations.models import Investigation, Membership, Role
from tests.factories import UserFactory, make_case


def test_create_case_makes_creator_owner(alice_client, alice):
    response = alice_client.post(
        reverse("investigations:create"), {"title": "Drones via Astana", "summary": "HS 8806"}
    )
    case = Investigation.objects.get(title="Drones via Astana")
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.public_id}/"
    assert case.slug == "drones-via-astana"
    assert Membership.objects.get(investigation=case).role == Role.OWNER
    assert case.created_by == alice


def test_create_case_without_title_shows_inline_error(alice_client):
    response = alice_client.post(reverse("investigations:create"), {"title": "  "})
    assert response.status_code == 200
    assert "This field is required." in response.text
    assert not Investigation.objects.exists()


def test_slugs_stay_unique(alice):
    first = make_case(owner=alice, title="Same title")
    second = make_case(owner=alice, title="Same title")
    assert (first.slug, second.slug) == ("same-title", "same-title-2")


def test_case_url_uses_public_id_not_title_or_pk(case, alice_client):
    url = reverse("investigations:detail", kwargs={"case_id": case.public_id})
    assert str(case.pk) not in url.split("/")
    assert "chips" not in url.lower()
    response = alice_client.get(url)
    assert response.status_code == 200
    assert "Chips via Almaty" in response.text


def test_list_shows_only_my_cases(case, alice, charlie, charlie_client):
    make_case(owner=charlie, title="Charlie's leak")
    response = charlie_client.get(reverse("investigations:list"))
    assert "Charlie&#x27;s leak" in response.text
    assert "Chips via Almaty" not in response.text


def test_list_filters_by_status_and_text(alice, alice_client):
    make_case(owner=alice, title="Open one")
    archived = make_case(owner=alice, title="Old one")
    Investigation.objects.filter(pk=archived.pk).update(status="archived")
    text = alice_client.get(reverse("investigations:list"), {"status": "archived"}).text
    assert "Old one" in text and "Open one" not in text
    text = alice_client.get(reverse("investigations:list"), {"q": "open"}).text
    assert "Open one" in text and "Old one" not in text


def test_list_htmx_returns_only_the_partial(alice, alice_client):
    make_case(owner=alice, title="Open one")
    response = alice_client.get(
        reverse("investigations:list"),
        {"q": "open"},
        headers={"HX-Request": "true", "HX-Target": "case-list"},
    )
    assert response.text.lstrip().startswith('<div id="case-list">')
    assert "Open one" in response.text


def test_case_list_query_count_is_constant(alice, alice_client, django_assert_num_queries):
    for n in range(3):
        make_case(owner=alice, title=f"Case {n}", members={UserFactory(): "viewer"})
    # 1 session, 2 user, 3 invitations pending for my address (none), 4 count for the
    # paginator, 5 the page of cases with role and members
    with django_assert_num_queries(5):
        response = alice_client.get(reverse("investigations:list"))
    assert response.text.count("/cases/") >= 3
    for n in range(3, 10):
        make_case(owner=alice, title=f"Case {n}")
    with django_assert_num_queries(5):
        alice_client.get(reverse("investigations:list"))


def test_settings_owner_only(case, alice_client, bob_client):
    url = reverse("investigations:settings", kwargs={"case_id": case.public_id})
    assert bob_client.get(url).status_code == 403
    response = alice_client.post(url, {"title": "Renamed", "summary": "", "status": "archived"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.title, case.status) == ("Renamed", "archived")


@pytest.mark.parametrize("path", ["/search/?q=chips", "/search/"])
def test_search_finds_only_my_cases(case, charlie, charlie_client, alice_client, path):
    make_case(owner=charlie, title="Chips elsewhere")
    text = charlie_client.get(path).text
    assert "Chips via Almaty" not in text
    if "q=" in path:
        assert "Chips elsewhere" in text
        assert "Chips via Almaty" in alice_client.get(path).text
