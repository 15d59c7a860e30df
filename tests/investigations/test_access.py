import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from investigations import access, selectors
from investigations.access import Action
from investigations.models import Membership
from tests.factories import UserFactory, make_case


def test_only_members_see_a_case(case, alice, bob, charlie):
    assert list(access.visible_investigations(alice)) == [case]
    assert list(access.visible_investigations(bob)) == [case]
    assert list(access.visible_investigations(charlie)) == []
    assert list(access.visible_investigations(AnonymousUser())) == []


def test_staff_and_superusers_see_no_case_they_are_not_in(case):
    boss = UserFactory(username="boss", is_staff=True, is_superuser=True)
    assert list(access.visible_investigations(boss)) == []
    with pytest.raises(Http404):
        access.get_case_for(boss, case.public_id)


def test_inactive_member_sees_nothing(case, bob):
    bob.is_active = False
    bob.save()
    assert list(access.visible_investigations(bob)) == []


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("viewer", {Action.VIEW, Action.COMMENT}),
        ("reporter", {Action.VIEW, Action.COMMENT, Action.WRITE}),
        ("editor", {Action.VIEW, Action.COMMENT, Action.WRITE, Action.REVIEW}),
        ("owner", set(Action)),
    ],
)
def test_role_rules(alice, role, allowed):
    dora = UserFactory(username="dora")
    case = make_case(owner=alice, members={dora: role})
    for action in Action:
        assert access.can(dora, action, case) is (action in allowed), (role, action)


def test_get_case_for_404_for_outsider_403_for_weak_role(case, bob, charlie):
    with pytest.raises(Http404):
        access.get_case_for(charlie, case.public_id)
    with pytest.raises(Http404):
        access.get_case_for(bob, uuid.uuid4())
    with pytest.raises(Http404):
        access.get_case_for(bob, "not-a-uuid")
    with pytest.raises(PermissionDenied):
        access.get_case_for(bob, case.public_id, Action.MANAGE)
    assert access.get_case_for(bob, case.public_id, Action.WRITE) == case


def test_get_case_for_is_one_query_and_later_checks_are_free(case, bob, django_assert_num_queries):
    with django_assert_num_queries(1):  # the case joined with bob's role
        loaded = access.get_case_for(bob, case.public_id)
        assert access.can(bob, Action.WRITE, loaded)
        assert not access.can(bob, Action.MANAGE, loaded)


def test_object_of_another_case_is_404_even_for_its_own_member(alice, bob, charlie):
    mine = make_case(owner=alice, members={bob: "viewer"})
    theirs = make_case(owner=charlie, members={bob: "owner"})
    their_membership = Membership.objects.get(investigation=theirs, user=charlie)
    with pytest.raises(Http404):
        access.get_case_object_for(bob, Membership, case=mine, public_id=their_membership.public_id)


def test_scoped_filters_case_owned_rows(case, alice, charlie):
    make_case(owner=charlie, title="Other")
    rows = access.scoped(charlie, Membership.objects.all())
    assert {m.investigation.title for m in rows} == {"Other"}


def test_hardening_3_a_role_loaded_for_one_user_never_answers_for_another(
    case, alice, bob, charlie, django_assert_num_queries
):
    [loaded] = access.visible_investigations(alice)
    with django_assert_num_queries(0):  # alice's own role is in the row
        assert access.can(alice, Action.MANAGE, loaded)
    assert not access.can(bob, Action.MANAGE, loaded)  # bob reports: not alice's owner role
    assert access.can(bob, Action.WRITE, loaded)
    assert not access.can(charlie, Action.VIEW, loaded)
    with pytest.raises(Http404):
        access.check(charlie, Action.VIEW, loaded)
    # Asking about others changes nothing for the user the case was loaded for.
    with django_assert_num_queries(0):
        assert access.role_in(alice, loaded) == "owner"
    assert loaded.user_role == "owner"
    [listed] = selectors.investigation_list(user=bob)
    assert access.role_in(alice, listed) == "owner"
    assert listed.user_role == "reporter"
