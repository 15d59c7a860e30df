"""{{ field|field_label }}: an import field as the mapping screen names it ("Exporter country")."""

from django import template

from entities.importing.types import FIELD_LABELS

register = template.Library()


@register.filter
def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name.replace("_", " ").capitalize())


@register.simple_tag
def import_described(job):
    """{% import_described job as d %}: the job as a sentence ("Erlan imported 1,200,000 rows
    into KZ customs (37 rejected)"), its detail and outcome (entities/activity_text.py)."""
    from investigations.activity_text import describe_object

    return describe_object(job, actor=job.created_by, when=job.created_at)
