"""Writes for entities, links, shipments and pins. Each public function owns its transaction.

Callers pass cleaned values (forms and importers clean them); services enforce the rules that
need the database: scope, duplicates by identifier, merge.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from investigations import activity
from investigations.errors import Conflict, DomainError
from investigations.models import Investigation

from .models import Dataset, Entity, Identifier, Link, LinkKind, Pin, Schema, Shipment
from .namekeys import dedupe as _dedupe
from .namekeys import entity_names, replace_search_rows


@dataclass(frozen=True)
class Scope:
    """Where a row lives: a case file or a dataset (exactly one)."""

    investigation: Investigation | None = None
    dataset: Dataset | None = None

    def __post_init__(self) -> None:
        if (self.investigation is None) == (self.dataset is None):
            raise ValueError("a scope is one case file or one dataset")

    @property
    def fields(self) -> dict[str, Any]:
        return {"investigation": self.investigation, "dataset": self.dataset}

    @classmethod
    def of(cls, row: Entity | Link | Shipment) -> "Scope":
        return cls(investigation=row.investigation, dataset=row.dataset)


class ReadOnlyEntity(DomainError):
    """A shared dataset entity reached through a case file: pin, link or cite it, never write it.

    Other case files rely on it (STORIES.md, "What must never happen").
    """

    def __init__(self, entity: Entity) -> None:
        super().__init__(
            f"“{entity.name}” belongs to the shared dataset “{entity.dataset.name}”: it is "
            "read-only in a case file. Pin it, link it or cite it instead."
        )


def entity_check_writable(*, entity: Entity, case: Investigation | None) -> None:
    """Refuse a write to `entity` made from inside `case` unless the case owns it.

    `case` is None only for work on the entity's own scope outside any case file: staff tools,
    importers, management commands. Every service that writes an entity row calls this.
    """
    if case is None or entity.investigation_id == case.pk:
        return
    if entity.dataset_id is not None:
        raise ReadOnlyEntity(entity)
    raise DomainError(f"“{entity.name}” is not part of this case file.")


class DuplicateIdentifier(Conflict):
    """The identifier already belongs to an entity in this scope: open that one instead."""

    def __init__(self, message: str, *, existing: Entity, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.existing = existing


ENTITY_FIELDS = (
    "schema",
    "name",
    "aliases",
    "countries",
    "nationality",
    "start_date",
    "end_date",
    "addresses",
    "notes",
    "source",
)


def entity_reindex_names(entity: Entity) -> None:
    """Rebuild the search rows (normalized names and match keys) of an entity's names."""
    replace_search_rows(
        entity_id=entity.pk,
        investigation_id=entity.investigation_id,
        dataset_id=entity.dataset_id,
        names=entity_names(name=entity.name, aliases=entity.aliases, extra=entity.extra),
        person=entity.schema == Schema.PERSON,
    )


def _entity_with_identifier(
    scope: Scope, scheme: str, value: str, exclude: Entity | None = None
) -> Entity | None:
    qs = Entity.objects.filter(identifiers__scheme=scheme, identifiers__value=value, **scope.fields)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.first()


def _set_identifiers(entity: Entity, identifiers: Sequence[tuple[str, str]]) -> None:
    scope = Scope.of(entity)
    wanted = list(dict.fromkeys((s, v) for s, v in identifiers if v))
    for scheme, value in wanted:
        other = _entity_with_identifier(scope, scheme, value, exclude=entity)
        if other is not None:
            raise DuplicateIdentifier(
                f"{scheme} {value} already belongs to “{other.name}” in this "
                f"{'case file' if scope.investigation else 'dataset'}.",
                existing=other,
                field="identifiers",
            )
    current = {(i.scheme, i.value): i for i in entity.identifiers.all()}
    for key, ident in current.items():
        if key not in wanted:
            ident.delete()
    Identifier.objects.bulk_create(
        [Identifier(entity=entity, scheme=s, value=v) for s, v in wanted if (s, v) not in current]
    )


@transaction.atomic
def entity_create(
    *,
    scope: Scope,
    name: str,
    created_by=None,
    identifiers: Sequence[tuple[str, str]] = (),
    **fields: Any,
) -> Entity:
    """Create an entity in a case file or dataset, with its identifiers and search names."""
    unknown = set(fields) - set(ENTITY_FIELDS) - {"ftm_id", "extra"}
    if unknown:
        raise TypeError(f"unknown entity fields: {sorted(unknown)}")
    if not name.strip():
        raise DomainError("An entity needs a name.", field="name")
    fields["aliases"] = [a for a in _dedupe(fields.get("aliases", [])) if a != name.strip()]
    entity = Entity.objects.create(
        name=name.strip(), created_by=created_by, **scope.fields, **fields
    )
    _set_identifiers(entity, identifiers)
    entity_reindex_names(entity)
    return entity


@transaction.atomic
def entity_update(
    *,
    entity: Entity,
    case: Investigation | None,
    identifiers: Sequence[tuple[str, str]] | None = None,
    **fields: Any,
) -> Entity:
    """Change an entity's fields (and identifiers, when given); names are re-indexed.

    `case` is the case file the change is made from (None: the entity's own dataset, by staff).
    """
    unknown = set(fields) - set(ENTITY_FIELDS)
    if unknown:
        raise TypeError(f"unknown entity fields: {sorted(unknown)}")
    entity_check_writable(entity=entity, case=case)
    for key, value in fields.items():
        setattr(entity, key, value)
    entity.name = entity.name.strip()
    if not entity.name:
        raise DomainError("An entity needs a name.", field="name")
    entity.aliases = [a for a in _dedupe(entity.aliases) if a != entity.name]
    entity.save()
    if identifiers is not None:
        _set_identifiers(entity, identifiers)
    entity_reindex_names(entity)
    return entity


def _usable_in_case(entity: Entity, case: Investigation) -> bool:
    return entity.investigation_id == case.pk or (
        entity.dataset_id is not None
        and Pin.objects.filter(investigation=case, entity=entity).exists()
    )


@transaction.atomic
def pin_entity(*, investigation: Investigation, entity: Entity, actor=None) -> Pin:
    """Bring a dataset entity into a case file (idempotent)."""
    if entity.dataset_id is None:
        raise DomainError("Only dataset entities can be pinned; this one belongs to a case file.")
    pin, _ = Pin.objects.get_or_create(
        investigation=investigation, entity=entity, defaults={"pinned_by": actor}
    )
    return pin


@transaction.atomic
def unpin_entity(*, investigation: Investigation, entity: Entity) -> None:
    """Take a dataset entity out of a case file; refused while case links or shipments use it."""
    in_use = (
        Link.objects.filter(
            Q(source=entity) | Q(target=entity), investigation=investigation
        ).exists()
        or Shipment.objects.filter(
            Q(exporter=entity) | Q(importer=entity), investigation=investigation
        ).exists()
    )
    if in_use:
        raise DomainError(
            "Links or shipments of this case file use this entity: remove them first."
        )
    Pin.objects.filter(investigation=investigation, entity=entity).delete()


def _case_party(case: Investigation, entity: Entity | None, *, auto_pin: bool, actor) -> None:
    if entity is None:
        return
    if entity.investigation_id == case.pk:
        return
    if entity.dataset_id is not None:
        if auto_pin:
            pin_entity(investigation=case, entity=entity, actor=actor)
            return
        if _usable_in_case(entity, case):
            return
    raise DomainError(f"“{entity}” is not part of this case file.")


@transaction.atomic
def link_create(
    *,
    scope: Scope,
    kind: str,
    source: Entity,
    target: Entity,
    created_by=None,
    **fields: Any,
) -> Link:
    """Link two entities; dataset entities used in a case file are pinned into it."""
    if kind not in LinkKind.values:
        raise DomainError(f"Unknown link kind {kind!r}.", field="kind")
    if source.pk == target.pk:
        raise DomainError("An entity cannot be linked to itself.", field="target")
    if scope.investigation is not None:
        for party in (source, target):
            _case_party(scope.investigation, party, auto_pin=True, actor=created_by)
    elif not (source.dataset_id == target.dataset_id == scope.dataset.pk):
        raise DomainError("Dataset links connect entities of the same dataset.")
    return Link.objects.create(
        kind=kind, source=source, target=target, created_by=created_by, **scope.fields, **fields
    )


@transaction.atomic
def link_update(*, link: Link, **fields: Any) -> Link:
    for key, value in fields.items():
        setattr(link, key, value)
    link.save()
    return link


@transaction.atomic
def link_delete(*, link: Link) -> None:
    link.delete()


@transaction.atomic
def shipment_create(*, scope: Scope, created_by=None, **fields: Any) -> Shipment:
    """Record a shipment; its parties must belong to the same case file (or be pinned)."""
    if scope.investigation is not None:
        for party in (fields.get("exporter"), fields.get("importer")):
            _case_party(scope.investigation, party, auto_pin=True, actor=created_by)
    if fields.get("exporter") and fields.get("exporter") == fields.get("importer"):
        raise DomainError("Exporter and importer are the same entity.", field="importer")
    return Shipment.objects.create(created_by=created_by, **scope.fields, **fields)


@transaction.atomic
def shipment_delete(*, shipment: Shipment) -> None:
    shipment.delete()


@transaction.atomic
def entity_delete(*, entity: Entity, case: Investigation | None) -> None:
    """Delete an entity with its links; refused while shipments name it as a party."""
    entity_check_writable(entity=entity, case=case)
    if Shipment.objects.filter(Q(exporter=entity) | Q(importer=entity)).exists():
        raise DomainError(
            "Shipments name this entity as a party: merge it into another entity "
            "or delete those shipments first."
        )
    for link in Link.objects.filter(Q(source=entity) | Q(target=entity)):
        link.delete()  # one by one, so each appears in the activity log
    entity.delete()


@transaction.atomic
def entity_merge(
    *, survivor: Entity, duplicate: Entity, case: Investigation | None, actor=None
) -> Entity:
    """Fold `duplicate` into `survivor`: names become aliases; links, shipments and pins move.

    Only within one scope (one case file, or one dataset): merging across case files would
    move one case's data into another. From a case file (`case`), only its own entities merge;
    dataset entities merge only outside any case (staff tools, `case=None`).
    """
    if survivor.pk == duplicate.pk:
        raise DomainError("An entity cannot be merged with itself.")
    for entity in (survivor, duplicate):
        entity_check_writable(entity=entity, case=case)
    if not survivor.same_scope(duplicate):
        raise DomainError("Only entities of the same case file (or dataset) can be merged.")
    _lock_pair(survivor, duplicate)
    moved: dict[str, Any] = {"merged": duplicate.name, "merged id": str(duplicate.public_id)}
    moved.update(_merge_fields(survivor, duplicate))
    moved.update(_move_rows(survivor, duplicate))
    for hook in MERGE_HOOKS:
        moved.update(hook(survivor=survivor, duplicate=duplicate))

    survivor.save()
    entity_reindex_names(survivor)
    if survivor.investigation_id:
        activity.record(
            investigation_id=survivor.investigation_id,
            action="updated",
            obj=survivor,
            changes={"merge": moved},
            actor=actor,
        )
    inherited_ftm_id = duplicate.ftm_id if not survivor.ftm_id else ""
    try:
        with transaction.atomic():
            duplicate.delete()
    except IntegrityError as exc:  # something new still points at it: keep everything
        raise DomainError(f"Could not finish the merge: {exc}") from exc
    if inherited_ftm_id:  # re-importing the dataset then updates the survivor
        survivor.ftm_id = inherited_ftm_id
        survivor.save(update_fields=["ftm_id"])
    return survivor


def _lock_pair(survivor: Entity, duplicate: Entity) -> None:
    """Lock both rows in primary-key order (two concurrent merges cannot deadlock or
    interleave) and read them again."""
    locked = list(
        Entity.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk]).order_by("pk")
    )
    if len(locked) != 2:
        raise DomainError("One of the two entities no longer exists.")
    survivor.refresh_from_db()
    duplicate.refresh_from_db()


def _merge_fields(survivor: Entity, duplicate: Entity) -> dict[str, Any]:
    """The duplicate's names, countries, addresses, dates, notes, FtM properties and identifiers
    added to the survivor's (not saved yet); what the activity log should say about it."""
    said: dict[str, Any] = {}
    survivor.aliases = [
        a
        for a in _dedupe([*survivor.aliases, duplicate.name, *duplicate.aliases])
        if a.casefold() != survivor.name.casefold()
    ]
    survivor.countries = _dedupe([*survivor.countries, *duplicate.countries])
    survivor.nationality = _dedupe([*survivor.nationality, *duplicate.nationality])
    survivor.addresses = _dedupe([*survivor.addresses, *duplicate.addresses])
    for date_field in ("start_date", "end_date"):
        if not getattr(survivor, date_field) and getattr(duplicate, date_field):
            setattr(survivor, date_field, getattr(duplicate, date_field))
    if duplicate.notes and duplicate.notes not in survivor.notes:
        survivor.notes = "\n\n".join(filter(None, [survivor.notes, duplicate.notes]))
    survivor.extra = _merge_extra(survivor.extra, duplicate.extra)
    if survivor.ftm_id and duplicate.ftm_id:
        said["FtM id dropped"] = duplicate.ftm_id
    have = set(survivor.identifiers.values_list("scheme", "value"))
    for ident in duplicate.identifiers.all():
        if (ident.scheme, ident.value) not in have:
            Identifier.objects.create(entity=survivor, scheme=ident.scheme, value=ident.value)
    return said


def _move_rows(survivor: Entity, duplicate: Entity) -> dict[str, int]:
    """Links, shipments and pins of the duplicate moved onto the survivor; counts for the log.

    A link between the two would point at itself after the merge: it is dropped (and logged).
    Links move one by one, so each change is in the activity log."""
    between = Link.objects.filter(
        Q(source=survivor, target=duplicate) | Q(source=duplicate, target=survivor)
    )
    counts = {"links dropped (between the two)": between.count()}
    for link in between:
        link.delete()
    links = 0
    for link in Link.objects.filter(Q(source=duplicate) | Q(target=duplicate)):
        if link.source_id == duplicate.pk:
            link.source = survivor
        if link.target_id == duplicate.pk:
            link.target = survivor
        link.save()
        links += 1
    counts["links moved"] = links
    counts["shipments moved"] = Shipment.objects.filter(exporter=duplicate).update(
        exporter=survivor
    ) + Shipment.objects.filter(importer=duplicate).update(importer=survivor)
    pinned_cases = set(
        Pin.objects.filter(entity=survivor).values_list("investigation_id", flat=True)
    )
    for pin in Pin.objects.filter(entity=duplicate):
        if pin.investigation_id in pinned_cases:
            pin.delete()
        else:
            pin.entity = survivor
            pin.save()
    return counts


def _merge_extra(mine: dict, theirs: dict) -> dict:
    """Union of two FtM property dicts (lists of values), nothing dropped."""
    merged = {
        key: list(values) if isinstance(values, list) else values
        for key, values in (mine or {}).items()
    }
    for key, values in (theirs or {}).items():
        if key not in merged:
            merged[key] = values
        elif isinstance(merged[key], list) and isinstance(values, list):
            merged[key] = list(dict.fromkeys([*merged[key], *values]))
    return merged


# Later apps (citations in evidence/) register here to move their rows in a merge:
# hook(*, survivor, duplicate) -> {"label": count}. investigations-style one-way dependencies:
# entities does not import evidence.
MERGE_HOOKS: list = []
