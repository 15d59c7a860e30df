import re

import pytest
from django.test import Client
from django.urls import reverse

from investigations import services
from investigations.errors import DomainError
from investigations.models import ActivityEntry, Invitation, Membership, Role
from tests.conftest import PASSWORD
from tests.factories import UserFactory, make_case


def _members_url(case):
    return reverse("investigations:members", kwargs={"case_id": case.public_id})


def _membership(case, user):
    return Membership.objects.get(investigation=case, user=user)


def test_owner_adds_member_by_username_or_invites_by_email(case, alice_client, charlie):
    response = alice_client.post(_members_url(case), {"user": "CHARLIE", "role": "viewer"})
    assert response.status_code == 302
    assert _membership(case, charlie).role == Role.VIEWER
    dora = UserFactory(username="dora", email="dora@paper.example")
    alice_client.post(_members_url(case), {"user": "Dora@Paper.example", "role": "editor"})
    assert not Membership.objects.filter(user=dora).exists()  # invited: joins at her log-in
    dora_client = Client()
    response = dora_client.post(
        reverse("login"), {"username": "dora", "password": PASSWORD}, REMOTE_ADDR="192.0.2.10"
    )
    assert response.status_code == 302
    assert _membership(case, dora).role == Role.EDITOR
    assert Invitation.objects.get(investigation=case).accepted_at is not None


def test_adding_unknown_or_existing_member_is_a_form_error(case, alice_client, bob):
    response = alice_client.post(_members_url(case), {"user": "nobody", "role": "viewer"})
    assert response.status_code == 200
    assert "Could not add “nobody”: check the username, or invite by e-mail." in response.text
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
    for n in range(3):
        services.investigation_add_member(
            investigation=case, user=UserFactory(), role=Role.VIEWER, actor=alice
        )
        services.invitation_create(
            investigation=case, email=f"reader{n}@paper.example", role=Role.VIEWER, actor=alice
        )
    # 1 session, 2 user, 3 case with my role, 4 memberships with user and added_by,
    # 5 pending invitations with invited_by
    with django_assert_num_queries(5):
        response = alice_client.get(_members_url(case))
    assert response.status_code == 200
    assert response.text.count("@paper.example</span></td>") == 3


# --- Hardening 4: the add-member form is no directory of accounts ----------------------------

INVITED = "Invitation for {} recorded: they join as Editor when they log in with that address."


def test_hardening_4_adding_by_email_reads_the_same_whether_or_not_an_account_exists(
    case, alice_client
):
    UserFactory(username="dora", email="dora@paper.example")
    answers = []
    for address in ("dora@paper.example", "ghost@paper.example"):
        response = alice_client.post(
            _members_url(case), {"user": address, "role": "editor"}, follow=True
        )
        assert response.status_code == 200
        [said] = re.findall(r'<div class="messages".*?</div>', response.text, re.S)
        answers.append(said.replace(address, "ADDRESS"))
        assert INVITED.format(address) in said
    assert answers[0] == answers[1]
    assert Membership.objects.filter(investigation=case).count() == 2  # alice and bob only
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "dora@paper.example",
        "ghost@paper.example",
    ]


def test_hardening_4_unknown_and_inactive_usernames_read_alike(case, alice_client):
    UserFactory(username="gone", is_active=False)
    for username in ("nobody", "gone"):
        response = alice_client.post(_members_url(case), {"user": username, "role": "viewer"})
        assert f"Could not add “{username}”: check the username, or invite by e-mail." in (
            response.text
        )
        assert "No active user" not in response.text


def test_hardening_4_adding_members_is_rate_limited_per_person(
    case, alice, alice_client, bob, bob_client, charlie, settings
):
    settings.MEMBER_ADDS_PER_WINDOW = 3
    UserFactory(username="erin")
    for who in ("nobody", "ghost@paper.example", "erin"):  # unknown and known count alike
        alice_client.post(_members_url(case), {"user": who, "role": "viewer"})
    response = alice_client.post(_members_url(case), {"user": "charlie", "role": "viewer"})
    assert "Too many people added or invited in a short time" in response.text
    assert not Membership.objects.filter(investigation=case, user__username="charlie").exists()
    # Another owner has their own count.
    theirs = make_case(owner=bob, title="Bob's case")
    response = bob_client.post(_members_url(theirs), {"user": "charlie", "role": "viewer"})
    assert response.status_code == 302


def test_hardening_4_invitations_are_accepted_at_log_in_or_on_the_case_list(
    case, alice, bob, bob_client
):
    dora = UserFactory(username="dora", email="Dora@Paper.example")
    services.invitation_create(
        investigation=case, email="dora@paper.example", role=Role.EDITOR, actor=alice
    )
    services.invitation_create(
        investigation=case, email="never@paper.example", role=Role.VIEWER, actor=alice
    )
    # Dora is logged in already: her case list accepts it.
    dora_client = Client()
    dora_client.force_login(dora)
    Membership.objects.filter(user=dora).delete()
    Invitation.objects.filter(email="dora@paper.example").update(accepted_at=None)
    assert "Chips via Almaty" in dora_client.get(reverse("investigations:list")).text
    membership = _membership(case, dora)
    assert (membership.role, membership.added_by) == (Role.EDITOR, alice)
    assert ActivityEntry.objects.filter(
        investigation=case, actor=dora, object_repr__contains="dora"
    ).exists()
    # An address no account has stays pending; accepting twice changes nothing.
    assert Invitation.objects.get(email="never@paper.example").accepted_at is None
    assert services.invitations_accept(user=dora) == []


def test_hardening_4_owners_cancel_pending_invitations(case, alice, alice_client, bob_client):
    invitation = services.invitation_create(
        investigation=case, email="ghost@paper.example", role=Role.VIEWER, actor=alice
    )
    url = reverse(
        "investigations:invitation-cancel",
        kwargs={"case_id": case.public_id, "invitation_id": invitation.public_id},
    )
    assert "ghost@paper.example" in bob_client.get(_members_url(case)).text
    assert bob_client.post(url).status_code == 403
    response = alice_client.post(url, follow=True)
    assert "Invitation for ghost@paper.example cancelled." in response.text
    assert not Invitation.objects.exists()
    assert ActivityEntry.objects.filter(
        investigation=case, action="deleted", object_repr__contains="ghost@paper.example"
    ).exists()


def test_hardening_4_inviting_twice_or_a_member_is_refused(case, alice, bob):
    bob.email = "bob@paper.example"
    bob.save()
    with pytest.raises(DomainError, match="A member of this case file has the address"):
        services.invitation_create(
            investigation=case, email="BOB@paper.example", role=Role.VIEWER, actor=alice
        )
    services.invitation_create(
        investigation=case, email="ghost@paper.example", role=Role.VIEWER, actor=alice
    )
    with pytest.raises(DomainError, match="already invited"):
        services.invitation_create(
            investigation=case, email="Ghost@paper.example", role=Role.EDITOR, actor=alice
        )
    with pytest.raises(DomainError, match="e-mail address"):
        services.invitation_create(
            investigation=case, email="not an address@", role=Role.VIEWER, actor=alice
        )
