"""Reads for the inbox: my items in the case files I am still a member of."""

from django.db.models import QuerySet

from .. import access
from ..models import InboxItem


def inbox(*, user) -> QuerySet[InboxItem]:
    """My inbox, newest first; items of a case file I left are not shown."""
    cases = access.visible_investigations(user).values("pk")
    return (
        InboxItem.objects.filter(user=user, investigation__in=cases)
        .select_related("actor", "investigation")
        .order_by("-created_at", "-id")
    )


def unread_count(*, user) -> int:
    """The header's number: unread items in my case files (one query)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    cases = access.visible_investigations(user).values("pk")
    return InboxItem.objects.filter(
        user=user, read_at__isnull=True, investigation__in=cases
    ).count()
