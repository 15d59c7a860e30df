"""Writing an entity's search rows: its names (EntityName) and their match keys (NameKey).

Every path that writes names goes through here or writes the same rows with SQL: services
(entity_reindex_names), the FtM import (entities.ftm) and the bulk importer
(entities.importing.loader, from the keys the parser computed with entities.names.name_forms).
"""

from collections.abc import Iterable
from typing import Any

from .name_models import EntityName, NameKey
from .names import name_keys, normalize


def dedupe(values: Iterable[str]) -> list[str]:
    """Stripped, non-empty values, first spelling kept, case-insensitive duplicates dropped."""
    seen: dict[str, str] = {}
    for value in values:
        value = (value or "").strip()
        if value and value.casefold() not in seen:
            seen[value.casefold()] = value
    return list(seen.values())


def search_rows(
    *,
    entity_id: int,
    investigation_id: int | None,
    dataset_id: int | None,
    names: Iterable[str],
    person: bool,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """EntityName and NameKey rows (column -> value) for an entity's names; keys once each."""
    scope = {"investigation_id": investigation_id, "dataset_id": dataset_id}
    name_rows, keys = [], set()
    for name in dedupe(names):
        name_rows.append(
            {"entity_id": entity_id, **scope, "name": name[:500], "norm": normalize(name)[:500]}
        )
        keys |= name_keys(name, person=person)
    key_rows = [
        {"entity_id": entity_id, **scope, "kind": int(kind), "key": key}
        for kind, key in sorted(keys)
    ]
    return name_rows, key_rows


def replace_search_rows(
    *,
    entity_id: int,
    investigation_id: int | None,
    dataset_id: int | None,
    names: Iterable[str],
    person: bool,
) -> None:
    """Delete an entity's names and keys and write them again (the caller owns the transaction)."""
    EntityName.objects.filter(entity_id=entity_id).delete()
    NameKey.objects.filter(entity_id=entity_id).delete()
    name_rows, key_rows = search_rows(
        entity_id=entity_id,
        investigation_id=investigation_id,
        dataset_id=dataset_id,
        names=names,
        person=person,
    )
    EntityName.objects.bulk_create([EntityName(**row) for row in name_rows])
    NameKey.objects.bulk_create([NameKey(**row) for row in key_rows])


EXTRA_NAME_PROPERTIES = ("name", "alias", "weakAlias", "previousName")


def entity_names(*, name: str, aliases: Iterable[str], extra: dict | None) -> list[str]:
    """Every name of an entity that search reads: its name, aliases, and the FtM names kept only
    in `extra` (second names, weak aliases, former names)."""
    extra_names = [
        value
        for prop in EXTRA_NAME_PROPERTIES
        for value in (extra or {}).get(prop, [])
        if isinstance(value, str)
    ]
    return [name, *aliases, *extra_names]


def rebuild_search_rows(entities: Iterable[Any]) -> int:
    """Write the names and keys of these entities again, in one statement per table (the caller
    owns the transaction). For `manage.py reindex_names`, after entities.names changed."""
    ids, name_rows, key_rows = [], [], []
    for entity in entities:
        names, keys = search_rows(
            entity_id=entity.pk,
            investigation_id=entity.investigation_id,
            dataset_id=entity.dataset_id,
            names=entity_names(name=entity.name, aliases=entity.aliases, extra=entity.extra),
            person=entity.schema == "Person",
        )
        ids.append(entity.pk)
        name_rows += names
        key_rows += keys
    EntityName.objects.filter(entity_id__in=ids).delete()
    NameKey.objects.filter(entity_id__in=ids).delete()
    EntityName.objects.bulk_create([EntityName(**row) for row in name_rows], batch_size=5000)
    NameKey.objects.bulk_create([NameKey(**row) for row in key_rows], batch_size=5000)
    return len(ids)
