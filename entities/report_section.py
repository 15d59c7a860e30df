"""The case report's summary of entities and links (registered with investigations/report.py)."""

from typing import Any

from django.db.models import Q

from investigations.models import Investigation
from investigations.report import Section, register_section

from .models import Entity, Link
from .timeline_sources import describe_link


def summary(case: Investigation) -> dict[str, Any]:
    """The case's own and pinned entities with identifiers, and its links (three queries)."""
    entities = list(
        Entity.objects.filter(Q(investigation=case) | Q(pins__investigation=case))
        .distinct()
        .prefetch_related("identifiers")
        .order_by("schema", "name")
    )
    links = [
        describe_link(link, "")
        for link in Link.objects.filter(investigation=case)
        .select_related("source", "target")
        .order_by("kind", "id")
    ]
    return {"entities": entities, "links": links}


def register() -> None:
    register_section(Section("entities", "entities/_report_summary.html", summary, order=10))
