"""The activity log: what signals record (by field name, never job bookkeeping), who acted,
and the feed page: newest first, paginated, filtered, members only, constant query count."""

import datetime
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from investigations import activity, services
from investigations.activity_text import job_bookkeeping_fields
from investigations.jobs import JobModel
from investigations.models import ActivityEntry, Membership
from tests.factories import UserFactory
from tests.jobs_app.models import EchoJob, Note


def _client_for(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _entries(case):
    return list(ActivityEntry.objects.filter(investigation=case).order_by("id"))


def sentences(html: str) -> list[str]:
    """The feed's sentences as a person reads them (badges and times left out)."""
    tree = HTMLParser(html)
    for badge in tree.css(".feed-sentence .badge"):
        badge.decompose()
    return [" ".join(node.text().split()) for node in tree.css(".feed-sentence")]


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
        "added_by": {"to": "alice"},
    }
    assert bob_added.refs == [f"investigations.membership:{bob_added.object_id}"]


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

    note.amount = Decimal("1200000")
    note.save()
    url = reverse("investigations:activity", kwargs={"case_id": case.public_id})
    page = HTMLParser(_client_for(alice).get(url).text)
    assert " ".join(page.css_first(".feed-changes").text(separator=" ").split()) == (
        "Amount 10.50 → 1,200,000.00"
    )

    note.delete()
    deleted = _entries(case)[-1]
    assert (deleted.action, deleted.object_repr) == ("deleted", "Ledger 2022")
    assert deleted.changes["title"] == {"from": "Ledger 2022"}
    assert deleted.actor_name == "system"


def test_job_bookkeeping_is_never_recorded(case, alice):
    # Derived from JobModel itself, so a field added there later is covered too.
    assert job_bookkeeping_fields() == {f.name for f in JobModel._meta.get_fields()}
    assert {"status", "attempts", "claimed_by", "queued_at", "error"} <= job_bookkeeping_fields()
    with activity.acting_as(alice):
        job = EchoJob.objects.create(investigation=case, text="hello")
    created = _entries(case)[-1]
    assert set(created.changes) == {"text", "crash", "raise_error"}  # no status, attempts...

    job = EchoJob.objects.get(pk=job.pk)
    job.status, job.attempts, job.claimed_by = "running", 1, "task-1"
    job.started_at, job.error = timezone.now(), "transient"
    job.save()
    assert _entries(case)[-1].pk == created.pk  # pending -> running is not a change

    job.text = "hello again"
    job.status = "done"
    job.save()
    assert _entries(case)[-1].changes == {"text": {"from": "hello", "to": "hello again"}}


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
    url = reverse("investigations:activity", kwargs={"case_id": case.public_id})
    assert sentences(alice_client.get(url).text)[0] == (
        "Alice changed the role of Bob from reporter to viewer"
    )


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
    assert sentences(text)[0] == "System added the note note 29"
    more = alice_client.get(url, {"page": 2, "seen": "Today"}, headers={"HX-Request": "true"})
    assert "<html" not in more.text
    assert "note 3" in more.text
    assert "<h3>Today</h3>" not in more.text  # the day heading the first page showed already
    assert charlie_client.get(url).status_code == 404


def test_feed_filters_by_person_kind_and_day(case, alice, bob, alice_client):
    with activity.acting_as(alice):
        services.investigation_update(
            investigation=case, title="Chips via Almaty (2)", summary=case.summary, status="open"
        )
    with activity.acting_as(bob):
        services.investigation_add_member(
            investigation=case, user=UserFactory(username="dana"), role="viewer", actor=bob
        )
    url = reverse("investigations:activity", kwargs={"case_id": case.public_id})
    by_bob = sentences(alice_client.get(url, {"person": bob.pk}).text)
    assert by_bob == ["Bob added dana as viewer"]
    members = sentences(alice_client.get(url, {"kind": "membership"}).text)
    assert len(members) == 3 and all(" as " in s for s in members)
    settings_changes = sentences(alice_client.get(url, {"kind": "investigation"}).text)
    assert settings_changes == [
        "Alice changed the case file settings",
        "System opened the case file Chips via Almaty (2)",
    ]
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    later = alice_client.get(url, {"date_from": tomorrow.isoformat()}).text
    assert sentences(later) == [] and "Nothing matches these filters" in later
    backwards = alice_client.get(url, {"date_from": "2026-02-02", "date_to": "2026-02-01"})
    assert "The end is before the start" in backwards.text
    # htmx: the filter swaps the feed only.
    partial = alice_client.get(url, {"person": bob.pk}, headers={"HX-Request": "true"}).text
    assert "<html" not in partial and 'id="activity-feed"' in partial


def test_feed_query_count_is_constant(case, alice, alice_client, django_assert_num_queries):
    url = reverse("investigations:activity", kwargs={"case_id": case.public_id})

    def add_rows(n):
        for i in range(n):
            services.investigation_add_member(
                investigation=case, user=UserFactory(), role="viewer", actor=alice
            )
            Note.objects.create(investigation=case, title=f"note {i}")

    add_rows(3)
    # 1 session, 2 user, 3 case with my role, 4 members (the person filter), 5 paginator
    # count, 6 the page of entries with their actors, 7-9 the objects they are about as they
    # are now: one query per kind on the page (case file, memberships with users, notes)
    with django_assert_num_queries(9):
        alice_client.get(url)
    add_rows(5)
    with django_assert_num_queries(9):
        alice_client.get(url)
    # Filtered to members since 2020: the same, with one kind of object on the page.
    with django_assert_num_queries(7):
        alice_client.get(url, {"kind": "membership", "date_from": "2020-01-01"})
