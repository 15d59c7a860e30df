"""Reads for claims: a case's claims by status, the editor's queue, a claim with its evidence."""

from dataclasses import dataclass

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Count, QuerySet

from .. import access, subjects
from ..models import ActivityEntry, Claim, ClaimStatus, Comment, Investigation, Membership
from . import activity_about


def _with_targets(qs: QuerySet[Claim]) -> QuerySet[Claim]:
    """Claims with their people and, per kind of target on the page, the targets (one query
    per kind), so each claim reads as its datum does now."""
    return qs.select_related(
        "target_type", "created_by", "reviewer", "reviewed_by", "investigation"
    ).prefetch_related(GenericPrefetch("target", [t.queryset() for t in subjects.targets()]))


def claim_list(*, case: Investigation, status: str = "") -> QuerySet[Claim]:
    """The case's claims, oldest request first within each status."""
    qs = Claim.objects.filter(investigation=case)
    if status:
        qs = qs.filter(status=status)
    return _with_targets(qs.order_by("review_requested_at", "created_at", "id"))


@dataclass
class StatusCount:
    status: str
    label: str
    count: int


def claim_counts(*, case: Investigation) -> list[StatusCount]:
    """Claims by status, every status listed (one query)."""
    found = dict(
        Claim.objects.filter(investigation=case)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [StatusCount(s.value, s.label, found.get(s.value, 0)) for s in ClaimStatus]


def review_queue(*, user) -> QuerySet[Claim]:
    """Claims waiting for review in every case file where I am editor or owner, oldest first."""
    cases = access.reviewing_investigations(user).values("pk")
    qs = Claim.objects.filter(status=ClaimStatus.NEEDS_REVIEW, investigation__in=cases)
    return _with_targets(qs.order_by("review_requested_at", "id"))


def claims_with_targets() -> QuerySet[Claim]:
    """For the access loader: a claim page's claim, with its people and target."""
    return _with_targets(Claim.objects.all())


def comments_on(*, subject) -> QuerySet[Comment]:
    return (
        Comment.objects.filter(subject_type=subjects.content_type(subject), subject_id=subject.pk)
        .select_related("author")
        .order_by("created_at", "id")
    )


def claim_history(*, claim: Claim, limit: int = 20) -> list[ActivityEntry]:
    """The claim's activity entries (marked, asked, verified, disputed, sent back), newest first."""
    return activity_about(investigation=claim.investigation, obj=claim, limit=limit)


def claim_on(*, case: Investigation, target, field: str = "") -> Claim | None:
    """The claim on this row (and field) of the case, if it is one."""
    return (
        Claim.objects.filter(
            investigation=case,
            target_type=subjects.content_type(target),
            target_id=target.pk,
            field=field,
        )
        .select_related("created_by", "reviewer", "reviewed_by")
        .first()
    )


def reviewer_choices(*, case: Investigation) -> list[tuple[int, str]]:
    """Members who verify and dispute claims here (editors and owners), for "ask for review"."""
    roles = [r for r, actions in access.ROLE_ACTIONS.items() if access.Action.REVIEW in actions]
    members = (
        Membership.objects.filter(investigation=case, role__in=roles)
        .select_related("user")
        .order_by("user__username")
    )
    return [
        (m.user_id, f"{m.user.get_full_name() or m.user.get_username()} ({m.get_role_display()})")
        for m in members
    ]
