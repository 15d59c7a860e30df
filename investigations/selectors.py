"""Reads for case files: querysets with their joins already applied."""

from django.db.models import Count, Q, QuerySet

from . import access
from .models import ActivityEntry, Investigation, Invitation, Membership


def investigation_list(*, user, status: str = "", query: str = "") -> QuerySet[Investigation]:
    """My case files (member only), with my role and the member count, newest activity first."""
    qs = access.visible_investigations(user).annotate(member_count=Count("memberships"))
    if status:
        qs = qs.filter(status=status)
    if query:
        qs = qs.filter(Q(title__icontains=query) | Q(summary__icontains=query))
    return qs.select_related("created_by").order_by("-updated_at", "-id")


def membership_list(*, investigation: Investigation) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(investigation=investigation)
        .select_related("user", "added_by")
        .order_by("user__username")
    )


def invitation_list(*, investigation: Investigation) -> QuerySet[Invitation]:
    """The case's pending invitations, oldest first."""
    return (
        Invitation.objects.filter(investigation=investigation, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("created_at", "id")
    )


def activity_list(*, investigation: Investigation) -> QuerySet[ActivityEntry]:
    """The case's activity feed, newest first (served by activity_case_newest_idx)."""
    return (
        ActivityEntry.objects.filter(investigation=investigation)
        .select_related("content_type")
        .order_by("-created_at", "-id")
    )
