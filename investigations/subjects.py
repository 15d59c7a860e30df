"""What claims and comments may point at, and where a claim's evidence is: registered by apps.

A claim is a generic reference (content type + primary key, and a field for an entity field),
so investigations imports none of the models it points at. Each app registers, from its
AppConfig.ready():

- `ClaimTarget`s: a kind ("event", "link", "shipment", "entity"; the same words as citation
  URLs), its model, how to load one of a case by public id, how it reads, its page, and which
  of its fields may be claimed one by one (an entity's incorporation date). investigations
  registers the timeline event itself.
- `Commentable`s: what comments may be about (claims here, entities in the entities app).
- an evidence provider (the evidence app): for a list of claims, their citations as
  `EvidenceItem`s, in one or two queries. A claim is supported by any citation of it,
  whatever the evidence is (a document page, a snapshot, a registry record once they exist):
  the rule "verifying needs at least one citation" counts what the provider returns.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model, QuerySet
from django.http import Http404
from django.urls import reverse

from . import access
from .formatting import partial_date_label
from .models import Claim, Investigation


@dataclass(frozen=True)
class ClaimTarget:
    kind: str
    model: type[Model]
    # The row of this case file with this public id, or None.
    load: Callable[[Investigation, Any], Model | None]
    # How the claimed datum reads ("Nordlicht Bauteile GmbH: incorporated 12 Mar 2009").
    describe: Callable[[Model, str], str]
    url: Callable[[Model, Investigation], str | None]
    # Fields that may be claimed one by one: name -> label.
    fields: dict[str, str] = field(default_factory=dict)
    label: str = ""  # "link", "shipment": what the review screen calls it
    select_related: tuple[str, ...] = ()  # what `describe` reads

    def queryset(self) -> QuerySet:
        qs = self.model._default_manager.all()
        return qs.select_related(*self.select_related) if self.select_related else qs


@dataclass(frozen=True)
class Commentable:
    kind: str
    model: type[Model]
    load: Callable[[Investigation, Any], Model | None]
    url: Callable[[Model, Investigation], str | None]


@dataclass
class EvidenceItem:
    """One citation of a claim, as the review screen and the report show it."""

    kind: str  # "document", "snapshot", "registry record"
    title: str
    url: str | None  # its page in the case file
    sha256: str
    hash_label: str  # "SHA-256 of the file", "SHA-256 of the WARC"
    citation_id: Any = None
    page: int | None = None
    quote: str = ""
    note: str = ""
    cited_for: str = ""  # "this event", "its link": when cited for the event's source
    when: datetime.datetime | datetime.date | None = None  # captured / dated
    timestamp_at: datetime.datetime | None = None  # RFC 3161, where there is one
    timestamp_error: str = ""
    image_url: str | None = None  # the snapshot's screenshot, the document page's image
    text: str = ""  # the document page's text, the snapshot's text (an excerpt)
    extra: dict[str, str] = field(default_factory=dict)  # more facts to show (status, URL)


# (claims, case, detail) -> {claim pk: [EvidenceItem]}; detail: texts and images too.
EvidenceProvider = Callable[[list[Claim], Investigation, bool], dict[int, list[EvidenceItem]]]

_TARGETS: dict[str, ClaimTarget] = {}
_COMMENTABLE: dict[str, Commentable] = {}
_EVIDENCE: list[EvidenceProvider] = []


def register_target(target: ClaimTarget) -> None:
    _TARGETS[target.kind] = target


def register_commentable(commentable: Commentable) -> None:
    _COMMENTABLE[commentable.kind] = commentable


def register_evidence(provider: EvidenceProvider) -> None:
    if provider not in _EVIDENCE:
        _EVIDENCE.append(provider)


def target(kind: str) -> ClaimTarget | None:
    return _TARGETS.get(kind)


def target_for_model(model: type[Model]) -> ClaimTarget | None:
    for t in _TARGETS.values():
        if t.model is model:
            return t
    return None


def targets() -> list[ClaimTarget]:
    return list(_TARGETS.values())


def target_models() -> tuple[type[Model], ...]:
    return tuple(t.model for t in _TARGETS.values())


def commentable(kind: str) -> Commentable | None:
    return _COMMENTABLE.get(kind)


def commentable_for_model(model: type[Model]) -> Commentable | None:
    for c in _COMMENTABLE.values():
        if c.model is model:
            return c
    return None


def content_type(model_or_obj: type[Model] | Model) -> ContentType:
    return ContentType.objects.get_for_model(model_or_obj, for_concrete_model=False)


def load_or_404[K: (ClaimTarget, Commentable)](
    kind: K | None, case: Investigation, public_id: Any
) -> tuple[K, Model]:
    """The row of this kind with this public id in the case (URLs' kinds and ids), or 404."""
    found = kind.load(case, access.parse_public_id(public_id)) if kind is not None else None
    if found is None:
        raise Http404("Nothing of that kind here")
    return kind, found


def evidence_for(
    claims: list[Claim], case: Investigation, *, detail: bool = False
) -> dict[int, list[EvidenceItem]]:
    """Every citation of each claim, from every provider, by claim primary key."""
    found: dict[int, list[EvidenceItem]] = {c.pk: [] for c in claims}
    if not claims:
        return found
    for provider in _EVIDENCE:
        for pk, items in provider(claims, case, detail).items():
            found.setdefault(pk, []).extend(items)
    return found


def describe(claim: Claim) -> str:
    """How the claimed datum reads now (its target prefetched); the statement if it is gone."""
    obj = claim.target
    kind = target_for_model(type(obj)) if obj is not None else None
    if kind is None:
        return claim.statement
    return kind.describe(obj, claim.field)


def kind_of(claim: Claim) -> ClaimTarget | None:
    model = claim.target_type.model_class()
    return target_for_model(model) if model is not None else None


def claim_url(claim: Claim) -> str:
    """The claim's review page."""
    return reverse(
        "investigations:claim",
        kwargs={"case_id": claim.investigation.public_id, "claim_uid": claim.public_id},
    )


# --- This app's own: timeline events are claimed, claims are commented on ------------------


def _event_url(event: Model, case: Investigation) -> str:
    return reverse(
        "investigations:event", kwargs={"case_id": case.public_id, "event_id": event.public_id}
    )


def _describe_event(event: Model, field: str) -> str:
    when = partial_date_label(event.start)
    if event.end:
        when = f"{when} – {partial_date_label(event.end)}"
    return f"{when}: {event.title}"


def register_own() -> None:
    from .models import TimelineEvent

    register_target(
        ClaimTarget(
            "event",
            TimelineEvent,
            lambda case, pid: TimelineEvent.objects.filter(
                investigation=case, public_id=pid
            ).first(),
            _describe_event,
            _event_url,
            label="timeline event",
            select_related=("source_type",),
        )
    )
    register_commentable(
        Commentable(
            "claim",
            Claim,
            lambda case, pid: Claim.objects.filter(investigation=case, public_id=pid).first(),
            lambda claim, case: claim_url(claim),
        )
    )
