"""How entities, links, shipments, pins and imports read in the activity feed.

Registered from EntitiesConfig.ready() (see investigations/activity_text.py for the machinery):
"Marat added Timur Hartmann as director of ТОО «Дала Микро»",
"Erlan imported 1,200,000 rows into KZ customs (37 rejected)".
"""

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from investigations import formatting
from investigations.activity_text import (
    Described,
    Describer,
    EntryView,
    JobDescriber,
    register,
    what,
    who,
)

from .models import Entity, ImportJob, Link, LinkKind, Pin, Schema, Shipment
from .services import ENTITY_FIELDS

SCHEMA_NOUNS = {
    Schema.COMPANY: "company",
    Schema.PERSON: "person",
    Schema.ORGANIZATION: "organization",
    Schema.LEGAL_ENTITY: "legal entity",
}
# --- Entities -------------------------------------------------------------------------------


def entity_url(entity: Entity | None, case: Any) -> str | None:
    if entity is None or case is None:
        return None
    if entity.investigation_id not in (None, case.pk) or entity.pk is None:
        return None
    return reverse(
        "entities:detail", kwargs={"case_id": case.public_id, "entity_id": entity.public_id}
    )


class EntityDescriber(Describer):
    kind_label = "Entities"
    icon = "entity"
    shown = ENTITY_FIELDS
    partial_dates = frozenset({"start_date", "end_date"})
    labels = {"schema": "Kind", "countries": "Countries", "addresses": "Addresses"}

    def url(self, obj, case):
        return entity_url(obj, case)

    def label(self, f, e: EntryView) -> str:
        if f.name in ("start_date", "end_date"):
            person = e.value("schema") == Schema.PERSON
            if f.name == "start_date":
                return "Born" if person else "Incorporated"
            return "Died" if person else "Dissolved"
        return super().label(f, e)

    def noun_for(self, e: EntryView) -> str:
        return SCHEMA_NOUNS.get(e.value("schema", Schema.COMPANY), "entity")

    def updated(self, e: EntryView) -> Described | None:
        merge = e.new("merge")
        if isinstance(merge, dict):
            moved = [
                f"{formatting.number(count)} {label}"
                for label, count in merge.items()
                if isinstance(count, int) and count
            ]
            return Described(
                format_html(
                    "{} merged {} into {}",
                    who(e),
                    what(merge.get("merged", "an entity")),
                    self.name(e),
                ),
                detail="; ".join(moved),
                icon="merge",
            )
        return super().updated(e)


# --- Links ----------------------------------------------------------------------------------


def _party(e: EntryView, end: str) -> SafeString:
    """One end of a link as it is now, or as the entry recorded it."""
    entity = getattr(e.obj, end, None) if e.obj is not None else None
    if entity is not None:
        return what(entity.name, entity_url(entity, e.case))
    return what(e.value(end) or "?")


def link_phrase(
    kind: str, source: SafeString, target: SafeString, role: str, percentage: Any
) -> SafeString:
    """ "Timur Hartmann as director of ТОО «Дала Микро»": who is what to whom, as FtM has it."""
    role = (role or "").strip()
    if kind == LinkKind.OWNERSHIP:
        share = f" ({formatting.number(percentage)} %)" if percentage not in (None, "") else ""
        return format_html("{} as owner of {}{}", source, target, share)
    if kind == LinkKind.DIRECTORSHIP:
        return format_html("{} as {} of {}", source, role or "director", target)
    if kind == LinkKind.EMPLOYMENT:
        return format_html("{} as {} of {}", source, role or "employee", target)
    if kind == LinkKind.FAMILY:
        if role:
            return format_html("{} as {} of {}", target, role, source)
        return format_html("{} and {} as family", source, target)
    label = format_html(" ({})", role) if role else ""
    return format_html("a link from {} to {}{}", source, target, label)


class LinkDescriber(Describer):
    kind_label = "Links"
    icon = "link"
    shown = (
        "kind",
        "source",
        "target",
        "percentage",
        "shares",
        "role",
        "start_date",
        "end_date",
        "summary",
    )
    partial_dates = frozenset({"start_date", "end_date"})
    labels = {"percentage": "Share (%)", "source": "First party", "target": "Other party"}
    select_related = ("source", "target")

    def refs(self, instance):
        return [(Entity, instance.source_id), (Entity, instance.target_id)]

    def phrase(self, e: EntryView) -> SafeString:
        return link_phrase(
            e.value("kind", ""),
            _party(e, "source"),
            _party(e, "target"),
            e.value("role", ""),
            e.value("percentage"),
        )

    def created(self, e: EntryView) -> Described:
        return Described(
            format_html("{} added {}", who(e), self.phrase(e)), detail=e.value("summary", "")
        )

    def updated(self, e: EntryView) -> Described | None:
        return self.edited(e, format_html("{} changed {}", who(e), self.phrase(e)))

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} removed {}", who(e), self.phrase(e)))


# --- Shipments and pins ---------------------------------------------------------------------


def shipment_facts(e: EntryView) -> str:
    """3 May 2022 · HS 854231 · 2,598 pcs · 119,508.00 EUR"""
    parts = [formatting.date_label(e.value("date")) if e.value("date") else ""]
    if e.value("hs_code"):
        parts.append(f"HS {e.value('hs_code')}")
    if e.value("quantity") not in (None, ""):
        parts.append(f"{formatting.number(e.value('quantity'))} {e.value('unit', '')}".strip())
    if e.value("value") not in (None, ""):
        parts.append(f"{formatting.number(e.value('value'), 2)} {e.value('currency', '')}".strip())
    return " · ".join(p for p in parts if p)


class ShipmentDescriber(Describer):
    kind_label = "Shipments"
    icon = "shipment"
    hidden = frozenset({"import_key", "ftm_id", "extra", "created_by"})
    select_related = ("exporter", "importer")

    def refs(self, instance):
        return [(Entity, instance.exporter_id), (Entity, instance.importer_id)]

    def route(self, e: EntryView) -> SafeString:
        return format_html("from {} to {}", _party(e, "exporter"), _party(e, "importer"))

    def created(self, e: EntryView) -> Described:
        return Described(
            format_html("{} recorded a shipment {}", who(e), self.route(e)),
            detail=shipment_facts(e),
        )

    def updated(self, e: EntryView) -> Described | None:
        return self.edited(e, format_html("{} changed the shipment {}", who(e), self.route(e)))

    def deleted(self, e: EntryView) -> Described:
        return Described(
            format_html("{} deleted the shipment {}", who(e), self.route(e)),
            detail=shipment_facts(e),
        )


class PinDescriber(Describer):
    kind_label = "Entities"
    kind = "entity"  # pins are filtered with entities
    icon = "pin"
    select_related = ("entity__dataset",)

    def refs(self, instance):
        return [(Entity, instance.entity_id)]

    def entity(self, e: EntryView) -> SafeString:
        return _party(e, "entity")

    def created(self, e: EntryView) -> Described:
        entity = getattr(e.obj, "entity", None) if e.obj is not None else None
        if entity is not None and entity.dataset is not None:
            return Described(
                format_html(
                    "{} pinned {} from the dataset {}",
                    who(e),
                    self.entity(e),
                    what(entity.dataset.name),
                )
            )
        return Described(format_html("{} pinned {}", who(e), self.entity(e)))

    def updated(self, e: EntryView) -> Described | None:
        return None  # a merge moving a pin says so in its own entry

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} unpinned {}", who(e), self.entity(e)))


# --- Imports (their rows are the dataset's history) -----------------------------------------


class ImportDescriber(JobDescriber):
    kind_label = "Imports"
    icon = "import"
    select_related = ("dataset", "created_by")

    def created(self, e: EntryView) -> Described:
        job: ImportJob = e.obj
        state = self.state(e)
        dataset = what(job.dataset.name)
        file = what(job.original_name)
        if state == "done":
            return self.done(e, job, dataset)
        if state == "failed":
            return Described(
                format_html("{} could not import {} into {}", who(e), file, dataset),
                detail=f"{job.error} Nothing from this file was imported.",
                outcome="failed",
            )
        if state == "draft":
            sentence = format_html("{} uploaded {} for {}", who(e), file, dataset)
            return Described(sentence, detail="The columns are not mapped yet.", outcome="pending")
        return Described(
            format_html("{} is importing {} into {}", who(e), file, dataset), outcome="pending"
        )

    def done(self, e: EntryView, job: ImportJob, dataset: SafeString) -> Described:
        new, updated = job.rows_imported, job.rows_updated
        same, rejected = job.rows_unchanged, job.rows_rejected
        rest = [
            f"{formatting.number(count)} {label}"
            for count, label in (
                (updated if new else 0, "updated"),
                (same, "unchanged"),
                (rejected, "rejected"),
            )
            if count
        ]
        tail = f" ({', '.join(rest)})" if rest else ""
        if new:
            count = formatting.plural(new, "row")
            sentence = format_html("{} imported {} into {}{}", who(e), count, dataset, tail)
        elif updated:
            count = formatting.plural(updated, "row")
            sentence = format_html("{} updated {} of {}{}", who(e), count, dataset, tail)
        else:
            sentence = format_html(
                "{} imported {} into {}: nothing new{}",
                who(e),
                what(job.original_name),
                dataset,
                tail,
            )
        return Described(sentence)


def register_describers() -> None:
    register(EntityDescriber(Entity))
    register(LinkDescriber(Link))
    register(ShipmentDescriber(Shipment))
    register(PinDescriber(Pin))
    register(ImportDescriber(ImportJob))
