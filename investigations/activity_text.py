"""How activity entries read: one sentence a person would write, per kind of object.

Each app registers a Describer for its models from AppConfig.ready() (entities and evidence
register theirs, so this module never imports them). A describer turns an entry (who, what,
the stored changes, and the object itself when it still exists) into a sentence such as
"Dana captured www.example.kz (200, 2.1 s)", says which fields a person sees as changes and
how they are labelled, which other objects an entry is about (`refs`: a link is about its two
entities, so it shows on both entity pages), and how to load the objects for a page of
entries (one query per kind of object on the page).

A job row (investigations.jobs.JobModel) is described from its current state: the entry
written when it was requested reads as its outcome ("captured ... (200, 2.1 s)", "could not
capture ...: timed out") once the worker is done. Its bookkeeping fields (status, attempts,
queued at, ...) are never shown as changes.
"""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from . import formatting
from .jobs import JobModel

logger = logging.getLogger(__name__)

# Never shown as a change of any model: bookkeeping and the feed's own scope.
HIDDEN_FIELDS = frozenset(
    {"updated_at", "created_at", "search_vector", "public_id", "investigation", "dataset"}
)
MAX_SHOWN_CHARS = 240


@cache
def job_bookkeeping_fields() -> frozenset[str]:
    """The fields every job row has (status, attempts, queued at, ...): derived from JobModel,
    so a field added to it later is bookkeeping too."""
    return frozenset(f.name for f in JobModel._meta.get_fields())


def ref_key(model: type[models.Model] | models.Model, pk: Any) -> str:
    """ "entities.entity:12": how an entry names an object it is about (ActivityEntry.refs)."""
    meta = model._meta
    return f"{meta.app_label}.{meta.model_name}:{pk}"


# --- What a describer sees ------------------------------------------------------------------


@dataclass
class EntryView:
    """One entry as a describer sees it (also built for rows that are their own record, such
    as an import job: see `describe_object`)."""

    action: str  # "created", "updated", "deleted"
    actor_name: str  # username, or "system"
    actor_display: str  # first name when known
    obj: models.Model | None  # the object as it is now; None once deleted
    changes: dict[str, dict[str, Any]]  # by field name: {"from": ..., "to": ...}
    object_repr: str
    case: Any = None  # the case file whose feed this is (for links), if any
    created_at: datetime.datetime | None = None

    @property
    def is_system(self) -> bool:
        return self.actor_name == "system"

    def new(self, name: str, default: Any = None) -> Any:
        return self.changes.get(name, {}).get("to", default)

    def old(self, name: str, default: Any = None) -> Any:
        return self.changes.get(name, {}).get("from", default)

    def value(self, name: str, default: Any = None) -> Any:
        """The field as it is now (object) or was last recorded (changes)."""
        if self.obj is not None and hasattr(self.obj, name):
            current = getattr(self.obj, name)
            return default if current is None else current
        change = self.changes.get(name, {})
        return change.get("to", change.get("from", default))


@dataclass
class Change:
    label: str
    old: str | None  # None: nothing recorded before (a field first set)
    new: str | None  # None: removed


@dataclass
class Described:
    sentence: SafeString
    changes: list[Change] = field(default_factory=list)
    detail: str = ""  # a quote, a reason: shown under the sentence
    outcome: str = ""  # "", "pending" or "failed" (a job not done)
    icon: str = "activity"


def who(e: EntryView) -> SafeString:
    return format_html('<span class="who">{}</span>', e.actor_display)


def what(text: Any, url: str | None = None) -> SafeString:
    text = formatting.truncate(str(text), 120)
    if url:
        return format_html('<a class="what" href="{}">{}</a>', url, text)
    return format_html('<span class="what">{}</span>', text)


# --- Describers -----------------------------------------------------------------------------


class Describer:
    """How one model reads in the feed. Subclass per model; the defaults fit any model."""

    model: type[models.Model]
    kind = ""  # filter key ("entity"); default: the model name
    kind_label = ""  # "Entities"; default: the plural verbose name
    icon = "activity"
    labels: dict[str, str] = {}  # field name -> label, when the verbose name does not read well
    hidden: frozenset[str] = frozenset()  # fields never shown as changes
    shown: tuple[str, ...] | None = None  # if set, only these fields are shown as changes
    partial_dates: frozenset[str] = frozenset()  # CharFields holding "2022", "2022-04", ...
    select_related: tuple[str, ...] = ()  # what sentences of the live object need

    def __init__(self, model: type[models.Model] | None = None) -> None:
        if model is not None:
            self.model = model
        meta = self.model._meta
        self.kind = self.kind or meta.model_name
        self.kind_label = self.kind_label or str(meta.verbose_name_plural).capitalize()

    # Loading and references

    def queryset(self) -> models.QuerySet:
        qs = self.model._default_manager.all()
        return qs.select_related(*self.select_related) if self.select_related else qs

    def refs(self, instance: models.Model) -> list[tuple[type[models.Model], Any]]:
        """Other objects this row is about, as (model, pk): its entry shows on their pages."""
        return []

    def url(self, obj: models.Model, case: Any) -> str | None:
        return None

    # Sentences

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    def noun_for(self, e: EntryView) -> str:
        """What this object is called in a sentence ("the company ...")."""
        return self.noun

    def name(self, e: EntryView) -> SafeString:
        obj = e.obj
        label = str(obj) if obj is not None else e.object_repr
        return what(label, self.url(obj, e.case) if obj is not None and e.case else None)

    def created(self, e: EntryView) -> Described:
        return Described(format_html("{} added the {} {}", who(e), self.noun_for(e), self.name(e)))

    def updated(self, e: EntryView) -> Described | None:
        return self.edited(
            e, format_html("{} edited the {} {}", who(e), self.noun_for(e), self.name(e))
        )

    def edited(self, e: EntryView, sentence: SafeString) -> Described | None:
        """An update read as `sentence` with its visible changes; None when none is left."""
        changes = self.visible_changes(e)
        return Described(sentence, changes=changes) if changes else None

    def deleted(self, e: EntryView) -> Described:
        return Described(
            format_html("{} deleted the {} {}", who(e), self.noun_for(e), what(e.object_repr))
        )

    def describe(self, e: EntryView) -> Described | None:
        """The entry's sentence, or None when nothing a person would care about is left (an
        update of bookkeeping fields only, recorded before they were left out)."""
        handler = {"created": self.created, "updated": self.updated, "deleted": self.deleted}
        described = handler.get(e.action, self.updated)(e)
        if described is not None and described.icon == "activity":
            described.icon = self.icon
        return described

    # Changes

    def field(self, key: str) -> models.Field | None:
        return _field_for(self.model, key)

    def label(self, f: models.Field, e: EntryView) -> str:
        return self.labels.get(f.name) or str(f.verbose_name).capitalize()

    def is_shown(self, f: models.Field) -> bool:
        if f.name in HIDDEN_FIELDS or f.name in self.hidden or f.primary_key:
            return False
        if issubclass(self.model, JobModel) and f.name in job_bookkeeping_fields():
            return False
        if self.shown is not None:
            return f.name in self.shown
        return not isinstance(
            f, models.JSONField | models.BinaryField
        ) and f.get_internal_type() not in ("SearchVectorField",)

    def format(self, f: models.Field, value: Any) -> str:
        return format_value(f, value, partial_date=f.name in self.partial_dates)

    def visible_changes(self, e: EntryView) -> list[Change]:
        result = []
        for key, change in e.changes.items():
            f = self.field(key)
            if f is None or not self.is_shown(f) or not isinstance(change, dict):
                continue
            old = self.format(f, change["from"]) if "from" in change else None
            new = self.format(f, change["to"]) if "to" in change else None
            if old == new:
                continue
            result.append(Change(self.label(f, e), old, new))
        return result


def _field_for(model: type[models.Model], key: str) -> models.Field | None:
    """A stored change key: a field name, or (entries written before names) a verbose name."""
    fields = _fields_by_key(model)
    return fields.get(key)


@cache
def _fields_by_key(model: type[models.Model]) -> dict[str, models.Field]:
    by_key: dict[str, models.Field] = {}
    for f in model._meta.concrete_fields:
        by_key.setdefault(str(f.verbose_name), f)
        by_key.setdefault(f.attname, f)
    for f in model._meta.concrete_fields:
        by_key[f.name] = f
    return by_key


def format_value(f: models.Field, value: Any, *, partial_date: bool = False) -> str:
    """A stored value as a person reads it: labels for choices, 2 Apr 2022, 1,200,000."""
    if value is None or value in ("", [], {}):
        return "—"
    if f.is_relation:
        if isinstance(value, int):  # saved while the related row was not loaded
            return f"{f.related_model._meta.verbose_name} no. {value}"
        return formatting.truncate(str(value), MAX_SHOWN_CHARS)
    if f.choices:
        return str(dict(f.flatchoices).get(value, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if partial_date:
        return formatting.partial_date_label(str(value))
    if isinstance(f, models.BooleanField):
        return "yes" if value else "no"
    if isinstance(f, models.DateTimeField | models.DateField):
        return formatting.date_label(value)
    if isinstance(f, models.DecimalField) and f.decimal_places <= 2:  # money: 1,200,000.00
        return formatting.number(value, f.decimal_places)
    if isinstance(f, models.DecimalField | models.IntegerField | models.FloatField):
        return formatting.number(value)
    return formatting.truncate(str(value), MAX_SHOWN_CHARS)


_REGISTRY: dict[type[models.Model], Describer] = {}


def register(describer: Describer) -> Describer:
    """Register how a model reads in the feed (call from the app's AppConfig.ready())."""
    _REGISTRY[describer.model] = describer
    return describer


def describer_for(model: type[models.Model]) -> Describer:
    found = _REGISTRY.get(model)
    if found is None:
        found = _REGISTRY[model] = Describer(model)
    return found


def registered() -> list[Describer]:
    return [d for d in _REGISTRY.values() if type(d) is not Describer]


def kind_choices() -> list[tuple[str, str]]:
    """(kind, label) of the registered describers, for the feed's filter."""
    kinds: dict[str, str] = {}
    for d in registered():
        kinds.setdefault(d.kind, d.kind_label)
    return list(kinds.items())


def kind_filter(kind: str) -> models.Q:
    """Entries about objects of this kind, matched by content type in SQL (no look-up)."""
    q = models.Q(pk__in=[])
    for d in registered():
        if d.kind == kind:
            meta = d.model._meta
            q |= models.Q(
                content_type__app_label=meta.app_label, content_type__model=meta.model_name
            )
    return q


def refs_for(instance: models.Model) -> list[str]:
    """The ref keys of an entry about this row: itself and what its describer names."""
    keys = [ref_key(instance, instance.pk)]
    for model, pk in describer_for(type(instance)).refs(instance):
        if pk is not None:
            keys.append(ref_key(model, pk))
    return list(dict.fromkeys(keys))


# --- Pages of entries -----------------------------------------------------------------------


def actor_display(entry: Any) -> str:
    actor = getattr(entry, "actor", None)
    if actor is not None:
        return actor.get_short_name() or actor.get_username()
    return "System" if entry.actor_name == "system" else entry.actor_name


def view_of(entry: Any, *, case: Any = None) -> EntryView:
    """An ActivityEntry (its `target` prefetched by the selector) as a describer sees it."""
    return EntryView(
        action=entry.action,
        actor_name=entry.actor_name,
        actor_display=actor_display(entry),
        obj=entry.target,
        changes=entry.changes if isinstance(entry.changes, dict) else {},
        object_repr=entry.object_repr,
        case=case,
        created_at=entry.created_at,
    )


def describe_entry(entry: Any, *, case: Any = None) -> Described | None:
    model = entry.content_type.model_class()
    if model is None:  # a model that no longer exists
        return None
    view = view_of(entry, case=case)
    try:
        return describer_for(model).describe(view)
    except (KeyError, ValueError, TypeError, AttributeError):
        # One odd old entry must not take the whole feed down: say it plainly, log the bug.
        logger.exception("could not describe activity entry %s", entry.pk)
        return Described(
            format_html(
                "{} changed the {} {}", who(view), model._meta.verbose_name, what(view.object_repr)
            )
        )


@dataclass
class FeedItem:
    entry: Any
    described: Described
    day: datetime.date
    actor_display: str = ""

    @property
    def when(self) -> str:
        """Today, 14:05 / 2 Dec 2026, 14:05: for lists not grouped by day."""
        return f"{day_label(self.day)}, {timezone.localtime(self.entry.created_at):%H:%M}"


@dataclass
class FeedDay:
    day: datetime.date
    label: str
    items: list[FeedItem]


def feed_items(entries: Iterable[Any], *, case: Any = None) -> list[FeedItem]:
    items = []
    for entry in entries:
        described = describe_entry(entry, case=case)
        if described is not None:
            day = timezone.localtime(entry.created_at).date()
            items.append(
                FeedItem(
                    entry=entry, described=described, day=day, actor_display=actor_display(entry)
                )
            )
    return items


def day_label(day: datetime.date) -> str:
    today = timezone.localdate()
    if day == today:
        return "Today"
    if day == today - datetime.timedelta(days=1):
        return "Yesterday"
    return formatting.date_label(day)


def feed_days(items: list[FeedItem]) -> list[FeedDay]:
    """Items grouped by local day, newest first (items come newest first)."""
    days: list[FeedDay] = []
    for item in items:
        if not days or days[-1].day != item.day:
            days.append(FeedDay(day=item.day, label=day_label(item.day), items=[]))
        days[-1].items.append(item)
    return days


def describe_object(
    obj: models.Model, *, actor: Any, when: datetime.datetime | None = None
) -> Described | None:
    """A row that is its own record (an import job) read as if it were an entry about it."""
    view = EntryView(
        action="created",
        actor_name=actor.get_username() if actor else "system",
        actor_display=(actor.get_short_name() or actor.get_username()) if actor else "System",
        obj=obj,
        changes={},
        object_repr=str(obj),
        created_at=when,
    )
    return describer_for(type(obj)).describe(view)


# --- Jobs -----------------------------------------------------------------------------------


class JobDescriber(Describer):
    """A job row's one entry: its request, read as its outcome once the worker is done."""

    def state(self, e: EntryView) -> str:
        """pending, running, done, failed, draft; "gone" once the row is deleted."""
        return getattr(e.obj, "status", "gone") if e.obj is not None else "gone"

    @staticmethod
    def seconds(obj: models.Model) -> float | None:
        started, finished = getattr(obj, "started_at", None), getattr(obj, "finished_at", None)
        if started is None or finished is None:
            return None
        return max((finished - started).total_seconds(), 0.0)

    @staticmethod
    def outcome_of(state: str) -> str:
        if state in ("pending", "running", "draft"):
            return "pending"
        return "failed" if state == "failed" else ""


# --- Case files and members -----------------------------------------------------------------


class InvestigationDescriber(Describer):
    kind_label = "Case file"
    icon = "case"
    shown = ("title", "summary", "status")
    noun = "case file"

    def created(self, e: EntryView) -> Described:
        return Described(format_html("{} opened the case file {}", who(e), self.name(e)))

    def updated(self, e: EntryView) -> Described | None:
        return self.edited(e, format_html("{} changed the case file settings", who(e)))


class MembershipDescriber(Describer):
    kind_label = "Members"
    icon = "members"
    shown = ("role",)
    select_related = ("user",)

    def member(self, e: EntryView) -> SafeString:
        user = getattr(e.obj, "user", None) if e.obj is not None else None
        if user is not None:
            return what(user.get_short_name() or user.get_username())
        return what(e.value("user") or e.object_repr)

    def role(self, value: Any) -> str:
        return format_value(self.model._meta.get_field("role"), value).lower()

    def created(self, e: EntryView) -> Described:
        role = self.role(e.new("role", ""))
        user = getattr(e.obj, "user", None) if e.obj is not None else None
        if user is not None and user.get_username() == e.actor_name:
            # An invitation accepted at log-in: the person joined on their own.
            return Described(format_html("{} joined as {}", who(e), role))
        return Described(format_html("{} added {} as {}", who(e), self.member(e), role))

    def updated(self, e: EntryView) -> Described | None:
        if "role" in e.changes:
            return Described(
                format_html(
                    "{} changed the role of {} from {} to {}",
                    who(e),
                    self.member(e),
                    self.role(e.old("role")),
                    self.role(e.new("role")),
                )
            )
        return None

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} removed {} from the case file", who(e), self.member(e)))


class InvitationDescriber(MembershipDescriber):
    """An invitation by e-mail; its acceptance reads as the membership it made."""

    shown = ()
    select_related = ()

    def member(self, e: EntryView) -> SafeString:
        return what(e.value("email") or e.object_repr)

    def created(self, e: EntryView) -> Described:
        return Described(
            format_html("{} invited {} as {}", who(e), self.member(e), self.role(e.new("role", "")))
        )

    def updated(self, e: EntryView) -> Described | None:
        return None  # accepted: the new membership says so

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} cancelled the invitation of {}", who(e), self.member(e)))


def register_own() -> None:
    from .models import Investigation, Invitation, Membership
    from .review_text import register_review

    register(InvestigationDescriber(Investigation))
    register(MembershipDescriber(Membership))
    register(InvitationDescriber(Invitation))
    register_review()
