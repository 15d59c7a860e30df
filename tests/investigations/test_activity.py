from decimal import Decimal

from django.urls import reverse

from investigations import activity, services
from investigations.models import ActivityEntry, Membership
from tests.factories import UserFactory
from tests.jobs_app.models import Note


def _entries(case):
    return list(ActivityEntry.objects.filter(investigation=case).order_by("id"))


def test_case_creation_and_membership_are_logged(case, alice):
    actions = [(e.action, e.content_type.model) for e in _entries(case)]
    assert actions == [
        ("created", "investigation"),
        ("created", "membership"),  # alice as owner
        ("created", "membership"),  # bob as reporter
    ]
    bob_added = _entries(case)[-1]
    assert bob_added.actor_name == "system"  # a service called outside any request
    assert bob_added.changes == {
        "user": {"to": "bob"},
        "role": {"to": "reporter"},
        "added by": {"to": "alice"},
    }


def test_any_case_owned_model_is_logged_without_per_model_code(case, alice, bob):
    with activity.acting_as(bob):
        note = Note.objects.create(investigation=case, title="Ledger", amount=Decimal("10.50"))
    created = _entries(case)[-1]
    assert (created.action, created.actor, created.actor_name) == ("created", bob, "bob")
    assert created.changes["title"] == {"to": "Ledger"}
    assert created.changes["amount"] == {"to": "10.50"}

    note = Note.objects.get(pk=note.pk)
    note.title = "Ledger 2022"
    with activity.acting_as(alice):
        note.save()
    updated = _entries(case)[-1]
    assert updated.action == "updated"
    assert updated.actor == alice
    assert updated.changes == {"title": {"from": "Ledger", "to": "Ledger 2022"}}

    note.save()  # nothing changed: nothing logged
    assert _entries(case)[-1].pk == updated.pk

    note.delete()
    deleted = _entries(case)[-1]
    assert (deleted.action, deleted.object_repr) == ("deleted", "Ledger 2022")
    assert deleted.changes["title"] == {"from": "Ledger 2022"}
    assert deleted.actor_name == "system"


def test_request_user_is_the_actor(case, alice_client, bob):
    m = Membership.objects.get(investigation=case, user=bob)
    alice_client.post(
        reverse(
            "investigations:member-role",
            kwargs={"case_id": case.public_id, "member_id": m.public_id},
        ),
        {"role": "viewer"},
    )
    entry = _entries(case)[-1]
    assert (entry.action, entry.actor_name) == ("updated", "alice")
    assert entry.changes == {"role": {"from": "reporter", "to": "viewer"}}


def test_deleting_a_case_does_not_trip_over_its_log(case):
    Note.objects.create(investigation=case, title="x")
    case.delete()
    assert not ActivityEntry.objects.exists()


def test_feed_is_newest_first_paginated_and_member_only(case, alice, alice_client, charlie_client):
    for n in range(30):
        Note.objects.create(investigation=case, title=f"note {n}")
    url = reverse("investigations:activity", kwargs={"case_id": case.public_id})
    text = alice_client.get(url).text
    assert text.index("note 29") < text.index("note 28")
    assert "note 3<" not in text  # 33 entries, 25 a page: the oldest are on page 2
    more = alice_client.get(url, {"page": 2}, headers={"HX-Request": "true"}).text
    assert "<html" not in more
    assert "note 3" in more
    assert charlie_client.get(url).status_code == 404


def test_feed_query_count_is_constant(case, alice, alice_client, django_assert_num_queries):
    url = reverse("investigations:activity", kwargs={"case_id": case.public_id})
    for n in range(5):
        services.investigation_add_member(
            investigation=case, user=UserFactory(), role="viewer", actor=alice
        )
        Note.objects.create(investigation=case, title=f"note {n}")
    # 1 session, 2 user, 3 case with my role, 4 paginator count, 5 the page (content types are
    # cached by Django after the first lookup, and joined here anyway)
    with django_assert_num_queries(5):
        alice_client.get(url)
