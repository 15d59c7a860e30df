"""Writes for events written by reporters. Derived events are the timeline's business
(investigations/timeline.py): they change with their data, never by hand."""

from collections.abc import Iterable

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction

from .. import activity, timeline
from ..dates import clean_partial_date
from ..errors import DomainError
from ..models import Investigation, TimelineEvent


def _dates(start: str, end: str) -> dict:
    """Checked date columns: dates that cannot exist and ends before starts say so."""
    try:
        start = clean_partial_date(start)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="start") from exc
    if not start:
        raise DomainError(
            "Give the date of the event (YYYY, YYYY-MM or YYYY-MM-DD).", field="start"
        )
    try:
        end = clean_partial_date(end)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="end") from exc
    fields = timeline.date_fields(start, end)
    if end and fields["ends_on"] < fields["starts_on"]:
        raise DomainError("The end is before the start.", field="end")
    if end == start:
        fields = timeline.date_fields(start)
    return fields


def _checked(
    *, start: str, end: str, title: str, description: str, entity_ids: Iterable[int]
) -> dict:
    """The columns of a written event, checked: a title, dates that exist, in order."""
    title = (title or "").strip()
    if not title:
        raise DomainError("Say what happened: an event needs a title.", field="title")
    return {
        **_dates(start, end),
        "title": title[:500],
        "description": (description or "").strip(),
        "entity_ids": sorted(set(entity_ids)),
    }


@transaction.atomic
def event_create(
    *,
    case: Investigation,
    start: str,
    title: str,
    end: str = "",
    description: str = "",
    entity_ids: Iterable[int] = (),
    actor: AbstractBaseUser | None = None,
) -> TimelineEvent:
    """Write an event on the case timeline: a date or a range, each as exact as it is known
    (2022, 2022-04 or 2022-04-07), a title, a description, the entities involved."""
    fields = _checked(
        start=start, end=end, title=title, description=description, entity_ids=entity_ids
    )
    with activity.acting_as(actor):
        return TimelineEvent.objects.create(investigation=case, created_by=actor, **fields)


@transaction.atomic
def event_update(
    *,
    event: TimelineEvent,
    start: str,
    title: str,
    end: str = "",
    description: str = "",
    entity_ids: Iterable[int] = (),
) -> TimelineEvent:
    """Change a written event; a claim on it that was reviewed goes back to needs review."""
    if not event.is_written:
        raise DomainError("This event follows the case's data: change the data instead.")
    fields = _checked(
        start=start, end=end, title=title, description=description, entity_ids=entity_ids
    )
    for name, value in fields.items():
        setattr(event, name, value)
    event.save()
    return event


@transaction.atomic
def event_delete(*, event: TimelineEvent) -> None:
    """Delete a written event (its claim and citations go with it)."""
    if not event.is_written:
        raise DomainError("This event follows the case's data: it goes when its data goes.")
    event.delete()
