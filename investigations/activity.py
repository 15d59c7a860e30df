"""The activity log: every create, update and delete of case-file data, recorded by signals.

Any model that subclasses investigations.models.TrackedModel (CaseOwnedModel for case data) is
covered with no per-model code. Who acted comes from a context variable: ActorMiddleware sets it
per request, Celery tasks and commands use `acting_as(user)`; with none set the actor is
"system". Bulk writes (QuerySet.update, bulk_create, COPY) bypass signals by design: the
services doing them record one summary entry with `record()`.

Changes are stored by field name. A job row's bookkeeping (status, attempts, queued at, ...:
the fields of investigations.jobs.JobModel) is never recorded: a job's life is its one
"created" entry, which the feed reads as the job's outcome (investigations/activity_text.py).
Each entry also lists the objects it is about (`refs`), so an entity's page finds the entries
of its links, citations and shipments with one query.
"""

import contextvars
import datetime
import decimal
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_delete
from django.http import HttpRequest, HttpResponse

from . import activity_text
from .jobs import JobModel
from .models import ActivityEntry, Investigation, TrackedModel

_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("activity_actor", default=None)
# Case files being deleted right now: their rows cascade away with them, log and all.
_deleting_cases: contextvars.ContextVar[frozenset[int]] = contextvars.ContextVar(
    "activity_deleting_cases", default=frozenset()
)

# Fields whose values are bookkeeping, not case data ("investigation" is the feed itself).
IGNORED_FIELDS = frozenset(
    {"updated_at", "created_at", "search_vector", "public_id", "investigation"}
)
MAX_VALUE_CHARS = 500

# Told of every recorded update (instance, changes by field name) and delete (instance): a
# claim goes back to needs review when its data changes (investigations/services/claims.py).
CHANGE_HOOKS: list[Callable[[models.Model, dict[str, Any]], None]] = []
DELETE_HOOKS: list[Callable[[models.Model], None]] = []


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


def deleting_case(case_id: int | None) -> bool:
    """True while this case file is being deleted (its rows cascade away with it)."""
    return case_id in _deleting_cases.get()


def current_actor() -> Any:
    actor = _actor.get()
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


class ActorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(request.user):
            return self.get_response(request)


def _display(value: Any) -> Any:
    """A JSON-safe, bounded rendering of a field value."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_display(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _display(v) for k, v in value.items()}
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _tracked_fields(instance: models.Model) -> list[models.Field]:
    ignored = IGNORED_FIELDS
    if isinstance(instance, JobModel):
        ignored = ignored | activity_text.job_bookkeeping_fields()
    return [
        f for f in instance._meta.concrete_fields if f.name not in ignored and not f.primary_key
    ]


def _values(instance: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(instance, f.attname) for f in _tracked_fields(instance)}


def _shown(instance: models.Model, field: models.Field, value: Any, *, load: bool = False) -> Any:
    """A related object by its name when it is already loaded (or, with load=True, loaded
    now: a deleted row's entry is all that will be left of it), else by its id."""
    if field.is_relation and value is not None:
        related = None
        if field.is_cached(instance):
            related = field.get_cached_value(instance)
        elif load:
            try:
                related = getattr(instance, field.name)
            except ObjectDoesNotExist:  # removed by the same cascade
                related = None
        if related is not None and related.pk == value:
            return _display(str(related))
    return _display(value)


def record(
    *,
    investigation_id: int,
    action: str,
    obj: models.Model,
    changes: dict[str, Any] | None = None,
    actor: Any = None,
) -> ActivityEntry:
    """Write one activity entry; services call this directly for bulk operations."""
    actor = actor or current_actor()
    try:
        label = str(obj)
    except ObjectDoesNotExist:  # a cascade already removed what its name refers to
        label = f"{obj._meta.verbose_name} {obj.pk}"
    try:
        refs = activity_text.refs_for(obj)
    except ObjectDoesNotExist:
        refs = [activity_text.ref_key(obj, obj.pk)]
    return ActivityEntry.objects.create(
        refs=refs,
        investigation_id=investigation_id,
        actor=actor,
        actor_name=actor.get_username() if actor else "system",
        action=action,
        content_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=label[:300],
        changes=changes or {},
    )


def _on_save(sender: type, instance: models.Model, created: bool, raw: bool, **kwargs) -> None:
    if raw or not isinstance(instance, TrackedModel):
        return
    # What the row held before this save, for other post_save receivers (which run after this
    # one, when _loaded_values already holds the new values): the timeline's old month.
    instance._values_before_save = instance._loaded_values
    case_id = instance.activity_investigation_id
    if case_id is None:  # shared reference data (datasets): imports record their own summary
        return
    now = _values(instance)
    if created:
        changes = {
            f.name: {"to": _shown(instance, f, now[f.attname])}
            for f in _tracked_fields(instance)
            if now[f.attname] not in (None, "", [], {})
        }
        record(
            investigation_id=case_id,
            action=ActivityEntry.Action.CREATED,
            obj=instance,
            changes=changes,
        )
    else:
        before = instance._loaded_values
        update_fields = kwargs.get("update_fields")
        changes = {}
        for f in _tracked_fields(instance):
            if update_fields is not None and f.name not in update_fields:
                continue
            if before is None or f.attname not in before:
                # Saved without being loaded first: we cannot know the old value.
                changes[f.name] = {"to": _shown(instance, f, now[f.attname])}
            elif before[f.attname] != now[f.attname]:
                changes[f.name] = {
                    "from": _display(before[f.attname]),
                    "to": _shown(instance, f, now[f.attname]),
                }
        if changes:
            record(
                investigation_id=case_id,
                action=ActivityEntry.Action.UPDATED,
                obj=instance,
                changes=changes,
            )
            instance._loaded_values = {**(instance._loaded_values or {}), **now}
            for hook in CHANGE_HOOKS:
                hook(instance, changes)
    instance._loaded_values = {**(instance._loaded_values or {}), **now}


def _on_pre_delete(sender: type, instance: models.Model, **kwargs) -> None:
    if isinstance(instance, Investigation):
        _deleting_cases.set(_deleting_cases.get() | {instance.pk})


def _on_delete(sender: type, instance: models.Model, **kwargs) -> None:
    if isinstance(instance, Investigation):
        # Children are deleted (and signalled) before their case file, so it is done now.
        _deleting_cases.set(_deleting_cases.get() - {instance.pk})
        return
    if not isinstance(instance, TrackedModel):
        return
    case_id = instance.activity_investigation_id
    if case_id is None or case_id in _deleting_cases.get():
        return
    kept = {
        f.name: {"from": _shown(instance, f, v, load=True)}
        for f, v in zip(_tracked_fields(instance), _values(instance).values(), strict=True)
        if v not in (None, "", [], {})
    }
    record(
        investigation_id=case_id, action=ActivityEntry.Action.DELETED, obj=instance, changes=kept
    )
    for hook in DELETE_HOOKS:
        hook(instance)


def connect_signals() -> None:
    post_save.connect(_on_save, dispatch_uid="activity_post_save")
    pre_delete.connect(_on_pre_delete, dispatch_uid="activity_pre_delete")
    post_delete.connect(_on_delete, dispatch_uid="activity_post_delete")
