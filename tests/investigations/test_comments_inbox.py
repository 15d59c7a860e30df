"""Comments and @mentions (members only, checked with the mentioned person's own role), the inbox
and its unread count, and a viewer's part (reads everything, comments, reviews nothing)."""

import pytest
from django.urls import reverse

from investigations import services as case_services
from investigations.errors import DomainError
from investigations.models import Comment, InboxItem
from investigations.services import claims, comments
from investigations.services.comments import mentions_in
from investigations.services.timeline import event_create
from tests.factories import UserFactory
from tests.investigations.editorial import build_chips


@pytest.fixture
def chips(alice):
    return build_chips(alice)


@pytest.fixture
def claim(chips):
    event = event_create(case=chips.case, start="2022-05", title="Pass-through", actor=chips.dana)
    return claims.claim_create(case=chips.case, target=event, actor=chips.dana)


def test_mentions_are_usernames_after_a_space_never_in_an_address():
    assert mentions_in("@dana see p. 2, cc @marat-2 and (@d.kim); mail x@paper.example") == [
        "dana",
        "marat-2",
        "d.kim",
    ]


@pytest.mark.parametrize("name", ["charlie", "nobody"])
def test_a_mention_of_anyone_but_a_member_is_refused_and_nothing_is_saved(chips, claim, name):
    UserFactory(username="charlie")  # has an account, is not in the case: reads like nobody
    with pytest.raises(DomainError) as caught:
        comments.comment_add(
            case=chips.case, subject=claim, body=f"@dana and @{name}, look", actor=chips.marat
        )
    assert caught.value.message == (
        f"@{name} is not a member of this case file: only members can be mentioned."
    )
    assert not Comment.objects.exists() and not InboxItem.objects.exists()
    # Disputing with such a mention changes nothing either.
    with pytest.raises(DomainError):
        claims.claim_dispute(claim=claim, actor=chips.marat, comment=f"@{name} wrong dates")
    claim.refresh_from_db()
    assert claim.status == "draft" and not Comment.objects.exists()


def test_a_member_who_leaves_can_no_longer_be_mentioned(chips, claim):
    membership = chips.case.memberships.get(user=chips.vera)
    comments.comment_add(case=chips.case, subject=claim, body="@vera fyi", actor=chips.marat)
    case_services.membership_remove(membership=membership)
    case = type(chips.case).objects.get(pk=chips.case.pk)  # as the next request loads it
    with pytest.raises(DomainError):
        comments.comment_add(case=case, subject=claim, body="@vera again", actor=chips.marat)


def test_mentions_reach_the_inbox_with_an_unread_count(chips, claim, client):
    comments.comment_add(
        case=chips.case, subject=claim, body="@vera @marat see page 2", actor=chips.dana
    )
    comments.comment_add(
        case=chips.case, subject=chips.dala, body="@vera the BIN matches", actor=chips.marat
    )
    client.force_login(chips.vera)
    count = client.get(reverse("editor:inbox-count"))
    assert 'aria-label="Inbox, 2 unread"' in count.text
    page = client.get(reverse("editor:inbox"))
    assert page.text.count("inbox-unread") == 2
    assert "mentioned you on" in page.text and "the BIN matches" in page.text
    item = InboxItem.objects.filter(user=chips.vera).order_by("id").first()
    opened = client.post(reverse("editor:inbox-read"), {"item": item.pk, "go": item.url})
    assert opened["Location"] == item.url
    assert 'aria-label="Inbox, 1 unread"' in client.get(reverse("editor:inbox-count")).text
    client.post(reverse("editor:inbox-read"))
    assert 'aria-label="Inbox"' in client.get(reverse("editor:inbox-count")).text
    # An entity comment leads to the entity's comments.
    assert InboxItem.objects.filter(user=chips.vera).order_by("id").last().url.endswith("#comments")


def test_the_inbox_hides_items_of_a_case_i_left(chips, claim, client):
    comments.comment_add(case=chips.case, subject=claim, body="@vera fyi", actor=chips.marat)
    case_services.membership_remove(membership=chips.case.memberships.get(user=chips.vera))
    client.force_login(chips.vera)
    assert "fyi" not in client.get(reverse("editor:inbox")).text
    assert 'aria-label="Inbox"' in client.get(reverse("editor:inbox-count")).text


def test_inbox_query_count_is_constant(chips, claim, client, django_assert_num_queries):
    client.force_login(chips.vera)
    for n in range(3):
        comments.comment_add(case=chips.case, subject=claim, body=f"@vera {n}", actor=chips.marat)
    # 1 session, 2 user, 3 count, 4 items with actor and case
    with django_assert_num_queries(4):
        client.get(reverse("editor:inbox"))
    for n in range(20):
        comments.comment_add(case=chips.case, subject=claim, body=f"@vera {n}", actor=chips.dana)
    with django_assert_num_queries(4):
        client.get(reverse("editor:inbox"))


def test_a_viewer_comments_and_reviews_nothing(chips, claim, client):
    client.force_login(chips.vera)
    url = reverse(
        "investigations:comments",
        kwargs={
            "case_id": chips.case.public_id,
            "subject_kind": "claim",
            "subject_id": claim.public_id,
        },
    )
    response = client.post(url, {"body": "@dana which page?"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "which page?" in response.text
    assert InboxItem.objects.get(user=chips.dana).kind == "mention"
    refused = client.post(url, {"body": "@charlie look"}, HTTP_HX_REQUEST="true")
    assert "@charlie is not a member of this case file" in refused.text
    review = client.get(
        reverse(
            "investigations:claim",
            kwargs={"case_id": chips.case.public_id, "claim_uid": claim.public_id},
        )
    )
    assert review.status_code == 200
    assert ">Verify<" not in review.text and "Unmark as a claim" not in review.text
    charlie = UserFactory(username="charlie")
    client.force_login(charlie)
    assert client.post(url, {"body": "hello"}).status_code == 404
