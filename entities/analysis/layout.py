"""Saved positions of a case's network page: read and written here only."""

from django.db import transaction

from investigations import activity
from investigations.models import Investigation

from .models import NetworkLayout


def network_layout_of(*, case: Investigation) -> NetworkLayout | None:
    return NetworkLayout.objects.filter(investigation=case).first()


@transaction.atomic
def network_layout_save(
    *,
    case: Investigation,
    positions: dict[str, list[float]],
    hidden_kinds: list[str],
    actor=None,
) -> NetworkLayout:
    """Replace the case's saved layout (callers pass a validated payload); one activity entry."""
    layout, _ = NetworkLayout.objects.update_or_create(
        investigation=case,
        defaults={"positions": positions, "hidden_kinds": hidden_kinds, "updated_by": actor},
    )
    activity.record(
        investigation_id=case.pk,
        action="updated",
        obj=layout,
        changes={"network layout": {"to": f"{len(positions)} positions"}},
        actor=actor,
    )
    return layout
