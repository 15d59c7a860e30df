"""Reads for case files: querysets with their joins already applied."""

import datetime

from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .. import access, activity_text
from ..models import ActivityEntry, Investigation, Invitation, Membership


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


def _with_targets(qs: QuerySet[ActivityEntry]) -> QuerySet[ActivityEntry]:
    """Entries with their actor and, per kind of object on the page, the objects as they are
    now (one query per kind): a job's entry reads as its outcome, names link to pages."""
    querysets = [d.queryset() for d in activity_text.registered()]
    return qs.select_related("content_type", "actor").prefetch_related(
        GenericPrefetch("target", querysets)
    )


def activity_list(
    *,
    investigation: Investigation,
    actor_id: int | None = None,
    kind: str = "",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
) -> QuerySet[ActivityEntry]:
    """The case's activity feed, newest first (served by activity_case_newest_idx), filtered
    by person, kind of object (activity_text kinds) and day range (inclusive, local time)."""
    qs = ActivityEntry.objects.filter(investigation=investigation)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if kind:
        qs = qs.filter(activity_text.kind_filter(kind))
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + datetime.timedelta(days=1)))
    return _with_targets(qs.order_by("-created_at", "-id"))


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def activity_about(*, investigation: Investigation, obj, limit: int = 20) -> list[ActivityEntry]:
    """Entries about one object of a case file and what names it (an entity's links,
    citations, shipments, pins), newest first: one query on the refs index, plus its objects."""
    key = activity_text.ref_key(obj, obj.pk)
    qs = ActivityEntry.objects.filter(investigation=investigation, refs__contains=[key])
    return list(_with_targets(qs.order_by("-created_at", "-id"))[:limit])
