import pytest
from django.urls import reverse

from investigations import services
from investigations.errors import DomainError
from investigations.models import Membership, Role
from tests.factories import UserFactory


def _members_url(case):
    return reverse("investigations:members", kwargs={"case_id": case.public_id})


def _membership(case, user):
    return Membership.objects.get(investigation=case, user=user)


def test_owner_adds_member_by_username_or_email(case, alice_client, charlie):
    response = alice_client.post(_members_url(case), {"user": "CHARLIE", "role": "viewer"})
    assert response.status_code == 302
    assert _membership(case, charlie).role == Role.VIEWER
    dora = UserFactory(username="dora", email="dora@paper.example")
    alice_client.post(_members_url(case), {"user": "Dora@Paper.example", "role": "editor"})
    assert _membership(case, dora).role == Role.EDITOR


def test_adding_unknown_or_existing_member_is_a_form_error(case, alice_client, bob):
    response = alice_client.post(_members_url(case), {"user": "nobody", "role": "viewer"})
    assert response.status_code == 200
    assert "No active user" in response.text
    response = alice_client.post(_members_url(case), {"user": "bob", "role": "viewer"})
    assert "already a member" in response.text
    assert _membership(case, bob).role == Role.REPORTER


def test_reporter_cannot_manage_members(case, bob_client, charlie):
    response = bob_client.post(_members_url(case), {"user": "charlie", "role": "owner"})
    assert response.status_code == 403
    assert not Membership.objects.filter(user=charlie).exists()
    bob_page = bob_client.get(_members_url(case)).text
    assert "Add a member" not in bob_page


def test_owner_changes_role_and_removes(case, alice_client, bob):
    m = _membership(case, bob)
    url = reverse(
        "investigations:member-role", kwargs={"case_id": case.public_id, "member_id": m.public_id}
    )
    alice_client.post(url, {"role": "editor"})
    assert _membership(case, bob).role == Role.EDITOR
    url = reverse(
        "investigations:member-remove", kwargs={"case_id": case.public_id, "member_id": m.public_id}
    )
    alice_client.post(url)
    assert not Membership.objects.filter(investigation=case, user=bob).exists()


def test_last_owner_cannot_be_removed_or_demoted(case, alice, alice_client):
    m = _membership(case, alice)
    with pytest.raises(DomainError, match="last owner"):
        services.membership_remove(membership=m)
    with pytest.raises(DomainError, match="at least one owner"):
        services.membership_change_role(membership=m, role=Role.EDITOR)
    url = reverse(
        "investigations:member-remove", kwargs={"case_id": case.public_id, "member_id": m.public_id}
    )
    response = alice_client.post(url, follow=True)
    assert "last owner cannot be removed" in response.text
    assert _membership(case, alice).role == Role.OWNER


def test_second_owner_lets_first_step_down(case, alice, bob):
    services.membership_change_role(membership=_membership(case, bob), role=Role.OWNER)
    services.membership_change_role(membership=_membership(case, alice), role=Role.VIEWER)
    assert _membership(case, alice).role == Role.VIEWER


def test_removed_member_loses_access_at_once(case, bob, bob_client):
    detail = reverse("investigations:detail", kwargs={"case_id": case.public_id})
    assert bob_client.get(detail).status_code == 200
    services.membership_remove(membership=_membership(case, bob))
    assert bob_client.get(detail).status_code == 404


def test_members_page_query_count(case, alice, alice_client, django_assert_num_queries):
    for _ in range(3):
        services.investigation_add_member(
            investigation=case, user=UserFactory(), role=Role.VIEWER, actor=alice
        )
    # 1 session, 2 user, 3 case with my role, 4 memberships with user and added_by
    with django_assert_num_queries(4):
        assert alice_client.get(_members_url(case)).status_code == 200
