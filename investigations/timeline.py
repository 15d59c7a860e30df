"""The case timeline: events written by reporters and events derived from the case's data.

investigations imports neither entities nor evidence (DESIGN.md), yet the timeline shows
incorporations, links, shipments, captures and dated documents. So those apps *provide* their
events, and the timeline keeps them as rows:

- Each app registers an `EventSource` from its AppConfig.ready() (entities/timeline_sources.py,
  evidence/timeline_sources.py): the kinds of event it derives (key, label, icon) and
  `for_case(case)`, every derived event of one case file as `DerivedEvent`s.
- Derived events are *materialised* into `TimelineEvent` rows with a stable `source_key`
  ("entities.link:12:start", "entities.shipments:3:4:2022-05"). When a row of the source
  changes, the source app's signal handler calls `sync(case_id, prefix, events)`: the events
  under that key prefix are replaced by the new list in a few set-based statements (an upsert
  on the unique (case, source_key), a delete of what is gone). So derived events follow their
  data, and the timeline page reads one indexed table however many sources there are:
  5,000 events are a paginated query, not 5,000 computations.
- `rebuild(case)` re-derives a whole case from every source (after a merge's bulk moves, for
  data that existed before the timeline, `manage.py rebuild_timeline`).
- Involved entities are kept as primary keys (`entity_ids`, GIN-indexed for an entity's own
  timeline); the entities app registers `entity_refs` to name a page's entities in one query.
- Derived events are written in bulk, so they make no activity entries (the change of the data
  they come from has its own). When a synced event's date, title or facts change, the claims
  on it go back to needs review through `claim_data_changed` (investigations/services/claims.py
  connects itself here), and the activity log says why.
"""

import calendar
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F, Func, Value
from django.utils import timezone

from .models import Investigation, Precision, TimelineEvent

# --- Dates ----------------------------------------------------------------------------------


def precision_of(value: str) -> str:
    """ "2022" -> year, "2022-04" -> month, "2022-04-07" -> day."""
    return {4: Precision.YEAR, 7: Precision.MONTH}.get(len(value), Precision.DAY)


def first_day(value: str) -> datetime.date:
    parts = [int(p) for p in value.split("-")]
    return datetime.date(
        parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1
    )


def last_day(value: str) -> datetime.date:
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return datetime.date(*parts)
    if len(parts) == 2:
        return datetime.date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return datetime.date(parts[0], 12, 31)


def date_fields(start: str, end: str = "") -> dict[str, Any]:
    """The stored date columns of an event from its partial ISO start and end."""
    return {
        "start": start,
        "end": end,
        "precision": precision_of(start),
        "starts_on": first_day(start),
        "ends_on": last_day(end or start),
    }


# --- Sources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventKind:
    key: str  # stored in TimelineEvent.kind
    label: str  # "Incorporations and dissolutions": the filter's choice
    icon: str = "calendar"


@dataclass
class DerivedEvent:
    """One event a source derives from its data."""

    key: str  # stable per datum and case: "entities.link:12:start"
    kind: str
    start: str  # partial ISO date
    title: str
    end: str = ""
    description: str = ""
    entity_ids: list[int] = field(default_factory=list)
    source: models.Model | None = None  # the row it comes from, if there is one
    source_field: str = ""  # the field of that row it reads ("start_date")
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EventSource:
    key: str
    kinds: tuple[EventKind, ...]
    for_case: Callable[[Investigation], Iterable[DerivedEvent]]


WRITTEN_KIND = EventKind(TimelineEvent.WRITTEN, "Written by reporters", "edit")
_SOURCES: dict[str, EventSource] = {}
# entity primary keys -> {pk: EntityRef}; registered by the entities app.
_ENTITY_REFS: list[Callable[[Iterable[int], Any], dict[int, "EntityRef"]]] = []
# case -> the entities an event may involve; registered by entities.
_ENTITY_CHOICES: list[Callable[[Investigation], list["EntityChoice"]]] = []
# Called with (event, what changed) when a sync changes a derived event's data.
_ON_CHANGE: list[Callable[[TimelineEvent, str], None]] = []


@dataclass(frozen=True)
class EntityRef:
    name: str
    url: str | None


@dataclass(frozen=True)
class EntityChoice:
    pk: int
    public_id: Any  # what URLs and filters carry
    name: str


def register_source(source: EventSource) -> None:
    _SOURCES[source.key] = source


def register_entity_refs(resolver: Callable[[Iterable[int], Any], dict[int, EntityRef]]) -> None:
    if resolver not in _ENTITY_REFS:
        _ENTITY_REFS.append(resolver)


def register_entity_choices(choices: Callable[[Investigation], list[EntityChoice]]) -> None:
    if choices not in _ENTITY_CHOICES:
        _ENTITY_CHOICES.append(choices)


def entity_choices(case: Investigation) -> list[EntityChoice]:
    """The entities of a case file (its own and pinned) an event may involve, by name."""
    found: list[EntityChoice] = []
    for choices in _ENTITY_CHOICES:
        found += choices(case)
    return found


def on_event_change(hook: Callable[[TimelineEvent, str], None]) -> None:
    if hook not in _ON_CHANGE:
        _ON_CHANGE.append(hook)


def kinds() -> list[EventKind]:
    """Every kind of event, written first, for filters and labels."""
    found = [WRITTEN_KIND]
    for source in _SOURCES.values():
        found += source.kinds
    return found


def kind_labels() -> dict[str, EventKind]:
    return {k.key: k for k in kinds()}


def entity_refs(ids: Iterable[int], case: Any) -> dict[int, EntityRef]:
    """Names and case URLs of these entities (one query); ids that are gone are left out."""
    ids = set(ids)
    refs: dict[int, EntityRef] = {}
    if ids:
        for resolver in _ENTITY_REFS:
            refs.update(resolver(ids, case))
    return refs


# --- Materialising --------------------------------------------------------------------------

# What a change of these columns means for a claim on the event (the activity log's words).
_COMPARED = {"start": "date", "end": "end date", "title": "description", "facts": "figures"}


def _row(case_id: int, event: DerivedEvent, now: datetime.datetime) -> TimelineEvent:
    source = event.source
    return TimelineEvent(
        investigation_id=case_id,
        kind=event.kind,
        title=event.title[:500],
        description=event.description,
        entity_ids=sorted({pk for pk in event.entity_ids if pk is not None}),
        source_key=event.key,
        source_type=(
            ContentType.objects.get_for_model(source, for_concrete_model=False) if source else None
        ),
        source_id=source.pk if source is not None else None,
        source_field=event.source_field,
        facts=event.facts,
        created_at=now,
        updated_at=now,
        **date_fields(event.start, event.end),
    )


def _changed(old: dict[str, Any], new: TimelineEvent) -> str:
    for name, words in _COMPARED.items():
        if old[name] != getattr(new, name):
            return words
    return ""


@transaction.atomic
def sync(case_id: int, prefix: str, events: Iterable[DerivedEvent]) -> None:
    """Make the derived events of one case whose key starts with `prefix` exactly `events`.

    Upserts by (case, source_key) and deletes the keys under the prefix that are gone; an
    event whose data changed tells the claims on it (`on_event_change`).
    """
    now = timezone.now()
    rows = [_row(case_id, e, now) for e in events if e.key.startswith(prefix)]
    existing = TimelineEvent.objects.filter(investigation_id=case_id, source_key__startswith=prefix)
    before = {r["source_key"]: r for r in existing.values("pk", "source_key", *_COMPARED)}
    keep = {r.source_key for r in rows}
    gone = [r["pk"] for key, r in before.items() if key not in keep]
    if gone:
        # Through the collector: the claims and citations of a vanished event go with it.
        TimelineEvent.objects.filter(pk__in=gone).delete()
    if not rows:
        return
    TimelineEvent.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["investigation", "source_key"],
        update_fields=[
            "kind",
            "title",
            "description",
            "entity_ids",
            "source_type",
            "source_id",
            "source_field",
            "facts",
            "start",
            "end",
            "precision",
            "starts_on",
            "ends_on",
            "updated_at",
        ],
    )
    if not _ON_CHANGE:
        return
    for row in rows:
        old = before.get(row.source_key)
        what = _changed(old, row) if old is not None else ""
        if what:
            row.pk = old["pk"]
            for hook in _ON_CHANGE:
                hook(row, what)


def remove(case_id: int | None, prefix: str) -> None:
    """Drop the derived events under a key prefix (their data is gone)."""
    if case_id is not None:
        sync(case_id, prefix, [])


@transaction.atomic
def rebuild(case: Investigation) -> int:
    """Re-derive every derived event of a case from every source; returns how many there are."""
    events: list[DerivedEvent] = []
    for source in _SOURCES.values():
        events += source.for_case(case)
    # The empty prefix: every derived key of the case (written events have no key).
    sync(case.pk, "", events)
    return len(events)


def forget_entity(entity_id: int) -> None:
    """An entity is gone: events no longer name it (one UPDATE on the GIN index)."""
    TimelineEvent.objects.filter(entity_ids__contains=[entity_id]).update(
        entity_ids=Func(F("entity_ids"), Value(entity_id), function="array_remove")
    )


def replace_entity(old_id: int, new_id: int) -> None:
    """A merge: events that named the duplicate name the survivor."""
    TimelineEvent.objects.filter(entity_ids__contains=[old_id]).update(
        entity_ids=Func(F("entity_ids"), Value(old_id), Value(new_id), function="array_replace")
    )
