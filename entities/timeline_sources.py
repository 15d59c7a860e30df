"""What entities, links and shipments put on the case timeline, and how they are claimed.

Registered from EntitiesConfig.ready() with investigations/timeline.py (event sources) and
investigations/subjects.py (claim targets, comments): investigations never imports this app.

Derived events, each keyed to its datum so it follows it:
- an organisation's incorporation and dissolution (its own, or a pinned dataset entity's):
  "entities.entity:<pk>:start" / ":end";
- a link's start and end: "entities.link:<pk>:start" / ":end";
- shipments per month per exporter-importer pair, with totals per unit and currency:
  "entities.shipments:<exporter>:<importer>:<YYYY-MM>".
Signals re-derive the events of a row when it is saved or deleted; a merge moves shipments and
links in bulk, so it rebuilds the case's timeline instead.
"""

import html
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr, TruncMonth
from django.db.models.signals import post_delete, post_save
from django.urls import reverse

from investigations import formatting, subjects, timeline
from investigations.errors import DomainError
from investigations.models import Investigation
from investigations.timeline import (
    DerivedEvent,
    EntityChoice,
    EntityRef,
    EventKind,
    EventSource,
)

from .activity_text import link_phrase
from .models import Entity, Link, Pin, Schema, Shipment

INCORPORATION = EventKind("incorporation", "Incorporations and dissolutions", "entity")
LINK = EventKind("link", "Links: start and end", "link")
SHIPMENTS = EventKind("shipments", "Shipments by month", "shipment")
PEOPLE = (Schema.PERSON,)


def _case_url(case: Any, entity: Entity) -> str:
    return reverse(
        "entities:detail", kwargs={"case_id": case.public_id, "entity_id": entity.public_id}
    )


# --- Entities ------------------------------------------------------------------------------


def entity_events(entity: Entity) -> list[DerivedEvent]:
    """An organisation's incorporation and dissolution (people's births are no case events)."""
    if entity.schema in PEOPLE:
        return []
    return _dated(
        entity,
        INCORPORATION,
        {"start_date": f"{entity.name} incorporated", "end_date": f"{entity.name} dissolved"},
        entity_ids=[entity.pk],
    )


def _dated(obj: Any, kind: EventKind, titles: dict[str, str], **fields: Any) -> list[DerivedEvent]:
    """One event per date field of `obj` that is set ("start_date": its title, ...)."""
    return [
        DerivedEvent(
            key=f"{obj._meta.app_label}.{obj._meta.model_name}:{obj.pk}:{name.split('_')[0]}",
            kind=kind.key,
            start=getattr(obj, name),
            title=title,
            source=obj,
            source_field=name,
            **fields,
        )
        for name, title in titles.items()
        if getattr(obj, name)
    ]


def _sync_entity(entity: Entity) -> None:
    cases = (
        [entity.investigation_id]
        if entity.investigation_id
        else list(Pin.objects.filter(entity=entity).values_list("investigation_id", flat=True))
    )
    for case_id in cases:
        timeline.sync(case_id, f"entities.entity:{entity.pk}:", entity_events(entity))


# --- Links ---------------------------------------------------------------------------------


def link_sentence(link: Link) -> str:
    """ "Klaus Hartmann as owner of Nordlicht Bauteile GmbH (50 %)", as plain text."""
    phrase = link_phrase(link.kind, link.source.name, link.target.name, link.role, link.percentage)
    return html.unescape(str(phrase))


def link_events(link: Link) -> list[DerivedEvent]:
    sentence = link_sentence(link)
    return _dated(
        link,
        LINK,
        {"start_date": f"Begins: {sentence}", "end_date": f"Ends: {sentence}"},
        description=link.summary,
        entity_ids=[link.source_id, link.target_id],
    )


def _sync_link(link: Link) -> None:
    if link.investigation_id:
        timeline.sync(link.investigation_id, f"entities.link:{link.pk}:", link_events(link))


# --- Shipments by month --------------------------------------------------------------------


def _group_key(exporter_id: int | None, importer_id: int | None, month: str) -> str:
    return f"entities.shipments:{exporter_id or 0}:{importer_id or 0}:{month}"


def shipment_events(case_id: int, where: Q | None = None) -> list[DerivedEvent]:
    """Shipments of a case summed per month and exporter-importer pair (one query, plus the
    parties' names): count, quantity per unit, value per currency, HS headings."""
    rows = (
        Shipment.objects.filter(where or Q(), investigation_id=case_id)
        .annotate(month=TruncMonth("date"), heading=Substr("hs_code", 1, 4))
        .values("exporter_id", "importer_id", "month", "unit", "currency", "heading")
        .annotate(n=Count("pk"), quantity=Sum("quantity"), value=Sum("value"))
        .order_by()
    )
    groups: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["exporter_id"], r["importer_id"], r["month"].strftime("%Y-%m"))
        g = groups.setdefault(
            key,
            {"n": 0, "quantity": defaultdict(Decimal), "value": defaultdict(Decimal), "hs": set()},
        )
        g["n"] += r["n"]
        g["hs"].add(r["heading"])
        if r["quantity"] is not None:
            g["quantity"][r["unit"] or ""] += r["quantity"]
        if r["value"] is not None:
            g["value"][r["currency"]] += r["value"]
    ids = {pk for key in groups for pk in key[:2] if pk}
    names = dict(Entity.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}
    return [_group_event(key, g, names) for key, g in groups.items()]


def _group_event(key: tuple, g: dict[str, Any], names: dict[int, str]) -> DerivedEvent:
    exporter, importer, month = key
    quantities = [
        f"{formatting.number(q)} {unit}".strip() for unit, q in sorted(g["quantity"].items())
    ]
    values = [f"{formatting.number(v, 2)} {cur}" for cur, v in sorted(g["value"].items())]
    headings = sorted(g["hs"])
    figures = [
        formatting.plural(g["n"], "shipment"),
        f"HS {', '.join(headings)}",
        *quantities,
        *values,
    ]
    parties = f"{names.get(exporter, '?')} → {names.get(importer, '?')}"
    return DerivedEvent(
        key=_group_key(exporter, importer, month),
        kind=SHIPMENTS.key,
        start=month,
        title=f"{parties}: {', '.join(figures)}",
        entity_ids=[pk for pk in (exporter, importer) if pk],
        facts={
            "shipments": g["n"],
            "hs": headings,
            "quantity": [[u, str(q)] for u, q in sorted(g["quantity"].items())],
            "value": [[c, str(v)] for c, v in sorted(g["value"].items())],
        },
    )


def _sync_group(case_id: int, exporter_id: int | None, importer_id: int | None, day: Any) -> None:
    if day is None:
        return
    month = str(day)[:7]
    year, mon = (int(p) for p in month.split("-"))
    where = Q(exporter_id=exporter_id, importer_id=importer_id, date__year=year, date__month=mon)
    timeline.sync(
        case_id, _group_key(exporter_id, importer_id, month), shipment_events(case_id, where)
    )


def _sync_shipment(shipment: Shipment) -> None:
    if not shipment.investigation_id:
        return
    groups = {(shipment.exporter_id, shipment.importer_id, str(shipment.date))}
    before = shipment._values_before_save or {}
    if before:  # moved to another month or pair: the old group changes too
        groups.add((before.get("exporter_id"), before.get("importer_id"), str(before.get("date"))))
    for exporter_id, importer_id, day in groups:
        _sync_group(
            shipment.investigation_id, exporter_id, importer_id, day if day != "None" else None
        )


# --- The source, signals, claims ----------------------------------------------------------


def events_for_case(case: Investigation) -> Iterable[DerivedEvent]:
    entities = (
        Entity.objects.filter(Q(investigation=case) | Q(pins__investigation=case))
        .exclude(schema__in=PEOPLE)
        .filter(~Q(start_date="") | ~Q(end_date=""))
    )
    for entity in entities.only("pk", "name", "schema", "start_date", "end_date"):
        yield from entity_events(entity)
    for link in (
        Link.objects.filter(investigation=case)
        .filter(~Q(start_date="") | ~Q(end_date=""))
        .select_related("source", "target")
    ):
        yield from link_events(link)
    yield from shipment_events(case.pk)


def _on_save(sender, instance, raw=False, **kwargs) -> None:
    if raw:
        return
    if isinstance(instance, Entity):
        _sync_entity(instance)
        if instance.investigation_id and "name" in (kwargs.get("update_fields") or ("name",)):
            _resync_names(instance)
    elif isinstance(instance, Link):
        _sync_link(instance)
    elif isinstance(instance, Shipment):
        _sync_shipment(instance)
    elif isinstance(instance, Pin):
        timeline.sync(
            instance.investigation_id,
            f"entities.entity:{instance.entity_id}:",
            entity_events(instance.entity),
        )


def _resync_names(entity: Entity) -> None:
    """Titles of links and shipment months name the entity: re-derive them when it is renamed."""
    before = (entity._values_before_save or {}).get("name")
    if before is None or before == entity.name:
        return
    for link in Link.objects.filter(Q(source=entity) | Q(target=entity)).select_related(
        "source", "target"
    ):
        _sync_link(link)
    for case_id in (
        Shipment.objects.filter(Q(exporter=entity) | Q(importer=entity))
        .values_list("investigation_id", flat=True)
        .distinct()
    ):
        if case_id:
            timeline.sync(case_id, "entities.shipments:", shipment_events(case_id))


def _on_delete(sender, instance, **kwargs) -> None:
    if isinstance(instance, Entity):
        timeline.remove(instance.investigation_id, f"entities.entity:{instance.pk}:")
        timeline.forget_entity(instance.pk)
    elif isinstance(instance, Link):
        timeline.remove(instance.investigation_id, f"entities.link:{instance.pk}:")
    elif isinstance(instance, Shipment):
        _sync_shipment(instance)
    elif isinstance(instance, Pin):
        timeline.remove(instance.investigation_id, f"entities.entity:{instance.entity_id}:")


def _after_merge(*, survivor: Entity, duplicate: Entity) -> dict[str, int]:
    """A merge moves links and shipments in bulk (no signals): re-derive the case's events."""
    timeline.replace_entity(duplicate.pk, survivor.pk)
    if survivor.investigation_id:
        timeline.rebuild(survivor.investigation)
    return {}


# --- Claims, comments, names ---------------------------------------------------------------


def _load_entity(case: Investigation, public_id: Any) -> Entity | None:
    return Entity.objects.filter(
        Q(investigation=case) | Q(pins__investigation=case), public_id=public_id
    ).first()


def describe_entity(entity: Entity, field: str) -> str:
    if field in ("start_date", "end_date"):
        value = getattr(entity, field)
        label = (entity.start_label if field == "start_date" else entity.end_label).lower()
        day = formatting.partial_date_label(value) if value else "(no date)"
        return f"{entity.name}: {label} {day}"
    if field in ("countries", "addresses"):
        return f"{entity.name}: {', '.join(getattr(entity, field)) or '—'}"
    return entity.name


def describe_link(link: Link, field: str) -> str:
    period = ""
    if link.start_date or link.end_date:
        start = formatting.partial_date_label(link.start_date) if link.start_date else "?"
        end = formatting.partial_date_label(link.end_date) if link.end_date else ""
        period = f", {start}–{end}" if end else f", since {start}"
    return link_sentence(link) + period


def describe_shipment(shipment: Shipment, field: str) -> str:
    parts = [
        formatting.date_label(shipment.date),
        f"{shipment.exporter or '?'} → {shipment.importer or '?'}",
        f"HS {shipment.hs_code}",
    ]
    if shipment.quantity is not None:
        parts.append(f"{formatting.number(shipment.quantity)} {shipment.unit}".strip())
    if shipment.value is not None:
        parts.append(f"{formatting.number(shipment.value, 2)} {shipment.currency}")
    return ", ".join(parts)


def _entity_refs(ids: Iterable[int], case: Any) -> dict[int, EntityRef]:
    rows = Entity.objects.filter(pk__in=list(ids)).only("pk", "name", "public_id")
    return {e.pk: EntityRef(e.name, _case_url(case, e) if case is not None else None) for e in rows}


def _entity_choices(case: Investigation) -> list[EntityChoice]:
    rows = (
        Entity.objects.filter(Q(investigation=case) | Q(pins__investigation=case))
        .order_by("name", "pk")
        .values_list("pk", "public_id", "name")
        .distinct()
    )
    return [EntityChoice(*row) for row in rows]


def _case_of(case: Investigation, public_id: Any, model) -> Any:
    return model.objects.filter(investigation=case, public_id=public_id).first()


def register() -> None:
    from .services import MERGE_HOOKS

    timeline.register_source(
        EventSource("entities", (INCORPORATION, LINK, SHIPMENTS), events_for_case)
    )
    timeline.register_entity_refs(_entity_refs)
    timeline.register_entity_choices(_entity_choices)
    entity_fields = {
        "start_date": "Incorporation or birth",
        "end_date": "Dissolution or death",
        "countries": "Countries",
        "addresses": "Addresses",
    }
    for target in (
        subjects.ClaimTarget(
            "entity", Entity, _load_entity, describe_entity, _case_url_for, entity_fields, "entity"
        ),
        subjects.ClaimTarget(
            "link",
            Link,
            lambda case, pid: _case_of(case, pid, Link),
            describe_link,
            lambda link, case: (
                _case_url_for(link.source, case)
                if link.source.investigation_id == case.pk
                else None
            ),
            {},
            "link",
            ("source", "target"),
        ),
        subjects.ClaimTarget(
            "shipment",
            Shipment,
            lambda case, pid: _case_of(case, pid, Shipment),
            describe_shipment,
            lambda s, case: reverse("entities:shipments", kwargs={"case_id": case.public_id}),
            {},
            "shipment",
            ("exporter", "importer"),
        ),
    ):
        subjects.register_target(target)
    subjects.register_commentable(
        subjects.Commentable("entity", Entity, _load_entity, _case_url_for)
    )
    if _after_merge not in MERGE_HOOKS:
        MERGE_HOOKS.append(_after_merge)
    for model in (Entity, Link, Shipment, Pin):
        post_save.connect(_on_save, sender=model, dispatch_uid=f"timeline_save_{model.__name__}")
        post_delete.connect(
            _on_delete, sender=model, dispatch_uid=f"timeline_delete_{model.__name__}"
        )


def _case_url_for(entity: Entity, case: Investigation) -> str:
    return _case_url(case, entity)


# --- A red flag becomes a timeline claim (the analysis app's CLAIM_HOOKS) -------------------


def flag_to_claim(*, hit: Any, case: Investigation, actor: Any = None) -> Any:
    """A written event from a red-flag hit (its explanation, its entities, dated by its
    shipments or links), marked as a draft claim. The reporter cites evidence and asks for
    review from the claim's page.

    Registered in entities.analysis.flags.service.CLAIM_HOOKS (`register_flag_claims`);
    takes any object with explanation, detector, entity_ids, shipment_ids and link_ids.
    """
    from investigations.services import claims
    from investigations.services.timeline import event_create

    dates = sorted(
        str(d)
        for d in Shipment.objects.filter(
            investigation=case, pk__in=list(getattr(hit, "shipment_ids", []) or [])
        ).values_list("date", flat=True)
    )
    if not dates:
        dates = sorted(
            d
            for d in Link.objects.filter(
                investigation=case, pk__in=list(getattr(hit, "link_ids", []) or [])
            ).values_list("start_date", flat=True)
            if d
        )
    if not dates:
        raise DomainError("This flag has no dated shipment or link: write the event by hand.")
    visible = set(
        Entity.objects.filter(
            Q(investigation=case) | Q(pins__investigation=case), pk__in=list(hit.entity_ids)
        ).values_list("pk", flat=True)
    )
    event = event_create(
        case=case,
        start=dates[0],
        end=dates[-1] if dates[-1] != dates[0] else "",
        title=hit.explanation.strip().splitlines()[0][:500],
        description=f"Red flag ({hit.detector}): {hit.explanation.strip()}",
        entity_ids=[pk for pk in hit.entity_ids if pk in visible],
        actor=actor,
    )
    return claims.claim_create(case=case, target=event, actor=actor)


def register_flag_claims() -> None:
    """A flag of entities.analysis becomes a timeline claim in one click."""
    from .analysis.flags.service import CLAIM_HOOKS

    if flag_to_claim not in CLAIM_HOOKS:
        CLAIM_HOOKS.append(flag_to_claim)
