"""Claims and their review: who may verify, the citation rule, edits and removed citations
sending a claim back, disputes with comments, the queue, and how the log reads it."""

import pytest
from django.urls import reverse

from entities.services import entity_update, link_update
from evidence.services import citation_delete
from investigations.errors import Conflict, DomainError, NotAllowed
from investigations.models import ActivityEntry, Claim, ClaimStatus, InboxItem
from investigations.selectors.claims import review_queue
from investigations.services import claims
from investigations.services.timeline import event_create, event_update
from tests.factories import UserFactory, make_case
from tests.investigations.editorial import build_chips
from tests.investigations.test_activity import sentences


@pytest.fixture
def chips(alice):
    return build_chips(alice)


@pytest.fixture
def pass_through(chips):
    return event_create(
        case=chips.case,
        start="2022-05",
        title="Pass-through: 2,598 in, 2,598 out within 14 days",
        entity_ids=[chips.dala.pk],
        actor=chips.dana,
    )


def _claim(chips, target, **kwargs) -> Claim:
    return claims.claim_create(case=chips.case, target=target, actor=chips.dana, **kwargs)


def _reloaded(claim: Claim) -> Claim:
    return Claim.objects.select_related("investigation").get(pk=claim.pk)


def test_only_editors_and_owners_verify_or_dispute(chips, pass_through):
    chips.cite(event=pass_through)
    claim = _claim(chips, pass_through, reviewer=chips.marat)
    for outsider in (chips.dana, chips.vera, UserFactory(username="charlie")):
        with pytest.raises(NotAllowed):
            claims.claim_verify(claim=_reloaded(claim), actor=outsider)
        with pytest.raises(NotAllowed):
            claims.claim_dispute(claim=_reloaded(claim), actor=outsider, comment="No.")
    assert _reloaded(claim).status == ClaimStatus.NEEDS_REVIEW
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    assert _reloaded(claim).status == ClaimStatus.VERIFIED
    claims.claim_dispute(claim=_reloaded(claim), actor=chips.alice, comment="Dates differ.")
    assert _reloaded(claim).status == ClaimStatus.DISPUTED


def test_a_reporter_verifying_through_the_page_gets_a_message_and_nothing_changes(
    chips, pass_through, client
):
    chips.cite(event=pass_through)
    claim = _claim(chips, pass_through, reviewer=chips.marat)
    client.force_login(chips.dana)
    url = reverse(
        "investigations:claim-verify",
        kwargs={"case_id": chips.case.public_id, "claim_uid": claim.public_id},
    )
    page = client.post(url, follow=True)
    assert "Only editors and owners of this case file verify or dispute claims." in page.text
    assert _reloaded(claim).status == ClaimStatus.NEEDS_REVIEW
    # The review buttons are not even shown to her.
    assert "claim-verify" not in page.text and ">Verify<" not in page.text


def test_a_reviewer_must_be_an_editor_or_owner(chips, pass_through):
    with pytest.raises(DomainError, match="Dana cannot review claims here"):
        _claim(chips, pass_through, reviewer=chips.dana)
    assert not Claim.objects.exists()
    _claim(chips, pass_through)
    with pytest.raises(Conflict):
        _claim(chips, pass_through)


def test_verifying_needs_a_citation(chips, pass_through):
    claim = _claim(chips, pass_through, reviewer=chips.marat)
    with pytest.raises(DomainError, match="Cite at least one piece of evidence"):
        claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    assert _reloaded(claim).status == ClaimStatus.NEEDS_REVIEW
    chips.cite(event=pass_through)
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    assert _reloaded(claim).status == ClaimStatus.VERIFIED


def test_a_derived_event_is_supported_by_its_sources_citations(chips):
    event = chips.event("director")
    claim = _claim(chips, event)
    with pytest.raises(DomainError):
        claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    chips.cite(link=chips.directorship)
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    assert _reloaded(claim).status == ClaimStatus.VERIFIED


def test_an_edit_of_a_verified_claims_data_sends_it_back(chips, pass_through):
    chips.cite(event=pass_through)
    claim = _claim(chips, pass_through)
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    event_update(event=pass_through, start="2022-06", title=pass_through.title)
    claim = _reloaded(claim)
    assert claim.status == ClaimStatus.NEEDS_REVIEW
    assert claim.status_reason == "the timeline event's date changed"


def test_an_edit_of_a_links_date_sends_its_events_claim_back(chips):
    chips.cite(link=chips.directorship)
    on_event = _claim(chips, chips.event("director"))
    on_link = _claim(chips, chips.directorship)
    for claim in (on_event, on_link):
        claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    link_update(link=chips.directorship, start_date="2022-05-02")
    assert _reloaded(on_event).status_reason == "the event's date changed with its data"
    assert _reloaded(on_link).status_reason == "the link's start date changed"
    assert {_reloaded(c).status for c in (on_event, on_link)} == {ClaimStatus.NEEDS_REVIEW}


def test_an_entity_field_claim_goes_back_only_when_that_field_changes(chips):
    chips.cite(entity=chips.dala)
    claim = _claim(chips, chips.dala, field="start_date")
    assert claim.statement == "ТОО «Дала Микро»: incorporated Apr 2022"
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    entity_update(entity=chips.dala, case=chips.case, notes="Seen at the Almaty office.")
    assert _reloaded(claim).status == ClaimStatus.VERIFIED
    entity_update(entity=chips.dala, case=chips.case, start_date="2022-04-11")
    assert _reloaded(claim).status == ClaimStatus.NEEDS_REVIEW


def test_removing_the_last_citation_sends_it_back(chips, pass_through):
    first = chips.cite(event=pass_through)
    second = chips.cite(event=pass_through)
    claim = _claim(chips, pass_through)
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    citation_delete(citation=first)
    assert _reloaded(claim).status == ClaimStatus.VERIFIED
    citation_delete(citation=second)
    claim = _reloaded(claim)
    assert (claim.status, claim.status_reason) == (
        ClaimStatus.NEEDS_REVIEW,
        "its last citation was removed",
    )


def test_disputing_needs_a_comment_and_tells_the_reporter(chips, pass_through):
    claim = _claim(chips, pass_through, reviewer=chips.marat)
    with pytest.raises(DomainError, match="disputing needs a comment"):
        claims.claim_dispute(claim=_reloaded(claim), actor=chips.marat, comment="  ")
    assert _reloaded(claim).status == ClaimStatus.NEEDS_REVIEW
    reason = "the quantities match but dates are 40 days apart, not 14"
    claims.claim_dispute(claim=_reloaded(claim), actor=chips.marat, comment=f"@dana {reason}")
    claim = _reloaded(claim)
    assert (claim.status, claim.reviewed_by) == (ClaimStatus.DISPUTED, chips.marat)
    item = InboxItem.objects.get(user=chips.dana)
    assert (item.kind, item.excerpt) == ("disputed", f"@dana {reason}")
    # The fix: Dana changes the event, the claim goes back to Marat's queue.
    event_update(event=pass_through, start="2022-05", end="2022-06", title=pass_through.title)
    assert _reloaded(claim).status == ClaimStatus.NEEDS_REVIEW
    assert [c.pk for c in review_queue(user=chips.marat)] == [claim.pk]


def test_the_log_reads_as_sentences(chips, pass_through, client):
    chips.cite(event=pass_through)
    claim = _claim(chips, pass_through, reviewer=chips.marat)
    claims.claim_dispute(
        claim=_reloaded(claim),
        actor=chips.marat,
        comment="the quantities match but dates are 40 days apart",
    )
    claims.claim_verify(claim=_reloaded(claim), actor=chips.marat)
    client.force_login(chips.alice)
    page = client.get(reverse("investigations:activity", kwargs={"case_id": chips.case.public_id}))
    title = f"“{claim.statement}”"
    assert sentences(page.text)[:5] == [
        f"Marat verified {title}",
        f"Marat disputed {title}: the quantities match but dates are 40 days apart",
        f"Marat commented on {title}",
        f"Dana asked Marat to review {title}",
        f"Dana marked {title} as a claim",
    ]


def test_the_queue_lists_my_case_files_claims_oldest_first(
    chips, pass_through, client, django_assert_num_queries
):
    older = _claim(chips, chips.event("director"), reviewer=chips.marat)
    newer = _claim(chips, pass_through, reviewer=chips.alice)
    _claim(chips, chips.dala)  # a draft waits for nobody
    elsewhere = make_case(owner=chips.dana, title="Dana's own", members={chips.marat: "reporter"})
    dana_event = event_create(case=elsewhere, start="2021", title="Not Marat's to review")
    claims.claim_create(case=elsewhere, target=dana_event, actor=chips.dana, reviewer=chips.dana)
    assert [c.pk for c in review_queue(user=chips.marat)] == [older.pk, newer.pk]
    assert review_queue(user=chips.dana).count() == 1  # her own case, where she is owner
    assert review_queue(user=chips.vera).count() == 0
    client.force_login(chips.marat)
    # 1 session, 2 user, 3 count, 4 claims with case, people and kind, 5 their events,
    # 6 "do I review anywhere"
    with django_assert_num_queries(6):
        page = client.get(reverse("editor:queue"))
    assert page.text.index("Begins: Timur Hartmann") < page.text.index("Pass-through")
    for n in range(5):
        event = event_create(case=chips.case, start=f"201{n}", title=f"Event {n}")
        _claim(chips, event, reviewer=chips.marat)
    _claim(chips, chips.directorship, reviewer=chips.marat)
    # One query more: links are a second kind of target on the page.
    with django_assert_num_queries(7):
        client.get(reverse("editor:queue"))


def test_claims_page_and_readiness(chips, pass_through, client, django_assert_num_queries):
    chips.cite(event=pass_through)
    verified = _claim(chips, pass_through)
    claims.claim_verify(claim=_reloaded(verified), actor=chips.marat)
    _claim(chips, chips.event("director"), reviewer=chips.marat)
    _claim(chips, chips.shipments[0])
    client.force_login(chips.vera)
    url = reverse("investigations:claims", kwargs={"case_id": chips.case.public_id})
    # 1 session, 2 user, 3 case with my role, 4 counts by status, 5 count, 6 claims with their
    # people, 7 their events, 8 their shipments
    with django_assert_num_queries(8):
        page = client.get(url + "?status=unverified")
    assert "Begins: Timur Hartmann" in page.text and "Pass-through" not in page.text
    overview = client.get(
        reverse("investigations:detail", kwargs={"case_id": chips.case.public_id})
    )
    assert 'id="readiness"' in overview.text


def test_marking_through_the_page(chips, client):
    client.force_login(chips.dana)
    url = reverse(
        "investigations:claim-mark",
        kwargs={
            "case_id": chips.case.public_id,
            "target_kind": "entity",
            "target_id": chips.dala.public_id,
        },
    )
    response = client.post(url, {"field": "start_date", "reviewer": chips.marat.pk})
    claim = Claim.objects.get()
    assert response.status_code == 302
    assert (claim.status, claim.reviewer, claim.field) == (
        ClaimStatus.NEEDS_REVIEW,
        chips.marat,
        "start_date",
    )
    assert InboxItem.objects.get(user=chips.marat).kind == "review_request"
    client.force_login(chips.vera)  # a viewer marks nothing
    assert client.post(url, {"field": "end_date"}).status_code == 403
    ActivityEntry.objects.all()  # touched: the log has the marking (checked above in sentences)


def test_a_red_flag_becomes_a_draft_claim_on_the_timeline(chips):
    from types import SimpleNamespace

    from entities.timeline_sources import flag_to_claim

    hit = SimpleNamespace(
        detector="pass_through",
        explanation="Pass-through: 2,598 in, 2,598 out within 40 days",
        entity_ids=[chips.dala.pk, chips.nordlicht.pk, chips.vektor.pk],
        shipment_ids=[s.pk for s in chips.shipments],
        link_ids=[],
    )
    claim = flag_to_claim(hit=hit, case=chips.case, actor=chips.dana)
    event = claim.target
    assert (claim.status, event.start, event.end) == ("draft", "2022-05-03", "2022-06-12")
    assert event.title == "Pass-through: 2,598 in, 2,598 out within 40 days"
    assert set(event.entity_ids) == {chips.dala.pk, chips.nordlicht.pk, chips.vektor.pk}
    with pytest.raises(DomainError, match="no dated shipment or link"):
        flag_to_claim(hit=SimpleNamespace(**{**vars(hit), "shipment_ids": []}), case=chips.case)
