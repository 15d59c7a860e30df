"""FollowTheMoney (FtM) JSON lines in and out: case files and datasets as FtM entities.

One line is one compact JSON object {"id", "schema", "properties"}. Export and import follow
one rule: a value goes into a model field only when the export gives it back; everything else
stays in the row's `extra` (FtM property -> list of strings) and is exported again unchanged, so
export -> import -> export yields the same lines.

Entities (Company, Person, Organization, LegalEntity):
  name, alias, country (lower-case ISO codes of `countries`, for every schema), nationality
  (Person; other schemas add it to country), incorporationDate/dissolutionDate or
  birthDate/deathDate (Person), address, notes, source -> sourceUrl when it is an http(s) URL,
  else publisher. Identifiers through identifiers.FTM_PROPERTY; a scheme whose property the
  schema lacks (ru_kpp outside Company) goes to registrationNumber. Identifier values are
  sorted, as identifiers are a set. On import: innCode -> ru_inn, ogrnCode -> ru_ogrn,
  kppCode -> ru_kpp, leiCode -> lei, vatCode -> de_vat ("DE...") or eu_vat, registrationNumber
  -> registration (kz_bin, gb_company and de_register all export as registrationNumber, so the
  scheme cannot be told apart), idNumber -> kz_iin when 12 digits and a country is kz; any
  other idNumber stays in extra, because a "registration" row would come back as
  registrationNumber. Check digits are not validated on import. Organisations' jurisdiction
  (and a Person's citizenship) also fills countries (nationality) when country (nationality) is
  absent; the original property stays in extra.
Links: Ownership (owner, asset, percentage, sharesCount, role), Directorship (director,
  organization, role), Family (person, relative, relationship), Employment (employee, employer,
  role), UnknownLink (subject, object, role); all with startDate, endDate, summary and
  provenance as sourceUrl/publisher. FtM constrains endpoint schemata (Ownership.asset is an
  Asset, Directorship.organization and Employment.employer an Organization, Family ends and
  Employment.employee a Person): an entity is exported with the least specialisation that fits
  its links (LegalEntity -> Organization, Person or Company; Organization -> Company), and a
  link that still does not fit (a Person owned as an asset) is exported as UnknownLink with
  role = its kind (or role) and description = kind and details.
Shipments -> EconomicActivity: ccdNumber, vedCode, sender, receiver, customsAmount (value),
  originCountry, destinationCountry, departureCountry (dispatch), date, goodsDescription
  (description + " — 2,598 pcs", for readers; FtM has no quantity). FtM has no amount, unit or
  currency property on EconomicActivity, so `summary` carries them in a fixed form that the
  importer parses back exactly: "quantity=2598; unit=pcs; currency=USD". A partial FtM date is
  stored as its first day with the original kept in extra and exported instead while the two
  agree.
"""

import datetime
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from followthemoney import model
from followthemoney.exc import InvalidData
from followthemoney.schema import Schema as FtmSchema
from followthemoney.types import registry
from psycopg.types.json import Jsonb

from investigations.models import Investigation

from .identifiers import FTM_PROPERTY, Scheme
from .models import (
    LINK_ENDS,
    PARTIAL_DATE_REGEX,
    Dataset,
    Entity,
    EntityName,
    Identifier,
    Link,
    LinkKind,
    NameKey,
    Pin,
    Shipment,
)
from .namekeys import search_rows

CHUNK_SIZE = 2000
BATCH_SIZE = 1000
PARTIAL_DATE = re.compile(PARTIAL_DATE_REGEX)
ENTITY_SCHEMATA = ("Company", "Person", "Organization", "LegalEntity")
# Specialisations tried, least specific first, when links need a narrower schema.
SPECIALISATIONS = ("Organization", "Person", "Company")
LINK_SCHEMATA = frozenset(LinkKind.values)
SHIPMENT_SCHEMA = "EconomicActivity"
IDENTIFIER_PROPERTIES = frozenset(
    {*FTM_PROPERTY.values(), "registrationNumber", "idNumber", "kppCode"}
)
ENTITY_MODEL_FIELDS = (
    "schema", "name", "aliases", "countries", "nationality", "start_date", "end_date",
    "addresses", "notes", "source", "extra",
)  # fmt: skip
LINK_MODEL_FIELDS = (
    "kind", "source_id", "target_id", "percentage", "shares", "role", "start_date", "end_date",
    "summary", "provenance", "extra",
)  # fmt: skip
SHIPMENT_MODEL_FIELDS = (
    "date", "exporter_id", "importer_id", "origin_country", "destination_country",
    "dispatch_country", "hs_code", "description", "quantity", "unit", "value", "currency",
    "declaration_number", "source", "extra",
)  # fmt: skip
SUMMARY_KEYS = ("quantity", "unit", "currency")
COUNTRY_CODE = re.compile(r"^[a-z]{2}$")
HS_CODE = re.compile(r"^[0-9]{2,10}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")


# --- shared helpers ---------------------------------------------------------------------------


def ftm_id_of(row: Entity | Link | Shipment) -> str:
    """The FtM id of a row: the one it was imported under, else one made from its public id."""
    return row.ftm_id or f"casefile-{row.public_id}"


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


def _plain(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 2598.000 -> "2598", 12.50 -> "12.5"."""
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _grouped(number: Decimal) -> str:
    """A decimal with thousands separators, for goodsDescription: 2598 -> "2,598"."""
    whole, _, fraction = _plain(number).partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")


def _source_property(source: str) -> str:
    return "sourceUrl" if _is_url(source) else "publisher"


def _line(ftm_id: str, schema: str, properties: dict[str, list[str]]) -> str:
    """Clean the values through FtM and serialise one compact, key-sorted JSON line."""
    proxy = model.make_entity(schema)
    proxy.id = ftm_id
    for prop, values in properties.items():
        proxy.add(prop, values, quiet=True)
    data = {"id": proxy.id, "schema": proxy.schema.name, "properties": proxy.properties}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


class _Props:
    """An ordered property -> values builder that ignores properties the schema lacks."""

    def __init__(self, schema: FtmSchema) -> None:
        self.schema = schema
        self.values: dict[str, list[str]] = {}

    def put(self, prop: str, values: Iterable[str | None]) -> None:
        if prop not in self.schema.properties:
            return
        for value in values:
            if value:
                self.values.setdefault(prop, []).append(str(value))

    def put_extra(self, extra: Any, *, skip: Iterable[str] = ()) -> None:
        if not isinstance(extra, dict):
            return
        for prop, values in extra.items():
            if prop in skip:
                continue
            self.put(prop, values if isinstance(values, list) else [values])

    def result(self) -> dict[str, list[str]]:
        for prop in IDENTIFIER_PROPERTIES & self.values.keys():
            self.values[prop] = sorted(set(self.values[prop]))
        return self.values


# --- export: schemata -------------------------------------------------------------------------


def _needs(links: QuerySet[Link], ref: str) -> dict[str, Any]:
    """EXISTS flags: which FtM ranges the links of the export require of entity `ref`."""
    # One correlation per EXISTS, so each is an index probe on links.source_id / target_id.
    end = OuterRef(ref)
    return {
        "needs_asset": Exists(links.filter(kind=LinkKind.OWNERSHIP, target=end)),
        "needs_organization": Exists(
            links.filter(kind__in=[LinkKind.DIRECTORSHIP, LinkKind.EMPLOYMENT], target=end)
        ),
        "needs_person": Exists(
            links.filter(kind__in=[LinkKind.FAMILY, LinkKind.EMPLOYMENT], source=end)
        )
        | Exists(links.filter(kind=LinkKind.FAMILY, target=end)),
    }


def _prefixed(prefix: str, flags: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{name}": expr for name, expr in flags.items()}


_RANGES = (("needs_asset", "Asset"), ("needs_organization", "Organization"),
           ("needs_person", "Person"))  # fmt: skip


def _required(row: Any, prefix: str = "") -> tuple[str, ...]:
    """The FtM ranges an annotated row (or its `prefix` end) must fit."""
    return tuple(rng for flag, rng in _RANGES if getattr(row, f"{prefix}{flag}", False))


def export_schema(stored: str, required: Iterable[str]) -> str:
    """The schema to export an entity as: its own, specialised as little as its links need."""
    required = tuple(required)
    base = model.get(stored) or model.get("LegalEntity")
    candidates = [base, *(model.get(s) for s in SPECIALISATIONS if model.get(s).is_a(base))]
    best = max(
        enumerate(candidates),
        key=lambda item: (sum(item[1].is_a(r) for r in required), -item[0]),
    )
    return best[1].name


# --- export: rows -----------------------------------------------------------------------------


def entity_properties(entity: Entity, schema_name: str) -> dict[str, list[str]]:
    """FtM properties of an entity; identifiers must be prefetched (entity.identifiers.all())."""
    schema = model.get(schema_name)
    props = _Props(schema)
    person = schema.is_a("Person")
    props.put("name", [entity.name])
    props.put("alias", entity.aliases)
    if person:
        props.put("country", [c.lower() for c in entity.countries])
        props.put("nationality", [c.lower() for c in entity.nationality])
    else:
        props.put("country", [c.lower() for c in [*entity.countries, *entity.nationality]])
    start, end = ("birthDate", "deathDate") if person else ("incorporationDate", "dissolutionDate")
    props.put(start, [entity.start_date])
    props.put(end, [entity.end_date])
    props.put("address", entity.addresses)
    props.put("notes", [entity.notes])
    if entity.source:
        props.put(_source_property(entity.source), [entity.source])
    for ident in entity.identifiers.all():
        prop = FTM_PROPERTY.get(ident.scheme, "registrationNumber")
        props.put(prop if prop in schema.properties else "registrationNumber", [ident.value])
    props.put_extra(entity.extra)
    return props.result()


def link_line(link: Link, source_schema: str, target_schema: str) -> str:
    """One Link as an FtM interval line; endpoints' schemata decide whether FtM's ranges fit."""
    kind = link.kind
    source_prop, target_prop = LINK_ENDS[kind][:2]
    schema = model.get(kind)
    fits = model.get(source_schema).is_a(schema.properties[source_prop].range) and model.get(
        target_schema
    ).is_a(schema.properties[target_prop].range)
    details = []
    if link.percentage is not None:
        details.append(f"{_plain(link.percentage)}%")
    if link.shares is not None:
        details.append(f"{_plain(link.shares)} shares")
    if not fits:
        schema = model.get(LinkKind.UNKNOWN)
        source_prop, target_prop = "subject", "object"
    props = _Props(schema)
    props.put(source_prop, [ftm_id_of(link.source)])
    props.put(target_prop, [ftm_id_of(link.target)])
    if fits:
        if link.percentage is not None:
            props.put("percentage", [_plain(link.percentage)])
        if link.shares is not None:
            props.put("sharesCount", [_plain(link.shares)])
        props.put("relationship" if kind == LinkKind.FAMILY else "role", [link.role])
    else:
        props.put("role", [link.role or kind])
        props.put("description", [", ".join([kind, *details])])
    props.put("startDate", [link.start_date])
    props.put("endDate", [link.end_date])
    props.put("summary", [link.summary])
    if link.provenance:
        props.put(_source_property(link.provenance), [link.provenance])
    props.put_extra(link.extra)
    return _line(ftm_id_of(link), schema.name, props.result())


def shipment_summary(shipment: Shipment) -> str:
    """The structured summary that carries quantity, unit and currency through FtM."""
    parts = []
    if shipment.quantity is not None:
        parts.append(f"quantity={_plain(shipment.quantity)}")
    if shipment.unit:
        parts.append(f"unit={shipment.unit}")
    if shipment.currency:
        parts.append(f"currency={shipment.currency}")
    return "; ".join(parts)


def _goods_suffix(quantity: Decimal | None, unit: str) -> str:
    if quantity is None:
        return ""
    return f"{_grouped(quantity)} {unit}".strip()


def goods_description(description: str, quantity: Decimal | None, unit: str) -> str:
    """The description with the quantity appended for readers: "Microchips — 2,598 pcs"."""
    suffix = _goods_suffix(quantity, unit)
    if not suffix:
        return description
    return f"{description} — {suffix}" if description else suffix


def shipment_line(shipment: Shipment) -> str:
    """One Shipment as an FtM EconomicActivity line."""
    props = _Props(model.get(SHIPMENT_SCHEMA))
    extra = shipment.extra if isinstance(shipment.extra, dict) else {}
    props.put("ccdNumber", [shipment.declaration_number])
    props.put("vedCode", [shipment.hs_code])
    props.put(
        "goodsDescription",
        [goods_description(shipment.description, shipment.quantity, shipment.unit)],
    )
    if shipment.exporter_id:
        props.put("sender", [ftm_id_of(shipment.exporter)])
    if shipment.importer_id:
        props.put("receiver", [ftm_id_of(shipment.importer)])
    if shipment.value is not None:
        props.put("customsAmount", [_plain(shipment.value)])
    props.put("summary", [shipment_summary(shipment)])
    props.put("originCountry", [shipment.origin_country.lower()])
    props.put("destinationCountry", [shipment.destination_country.lower()])
    props.put("departureCountry", [shipment.dispatch_country.lower()])
    # The original partial date, kept by the import, stands in for its first day while the two
    # still agree (an edit of the date makes the kept one stale).
    dates = [d for d in extra.get("date") or [] if isinstance(d, str)]
    if dates and _first_day(dates[0]) == shipment.date:
        props.put("date", dates)
    else:
        props.put("date", [shipment.date.isoformat(), *dates])
    if shipment.source:
        props.put(_source_property(shipment.source), [shipment.source])
    props.put_extra(extra, skip={"date"})
    return _line(ftm_id_of(shipment), SHIPMENT_SCHEMA, props.result())


# --- export: streams --------------------------------------------------------------------------


def _export_lines(
    entities: QuerySet[Entity], links: QuerySet[Link], shipments: QuerySet[Shipment]
) -> Iterator[str]:
    # Query 1 (+1 per chunk of CHUNK_SIZE entities: their identifiers): entities, with the
    # ranges their links need.
    entities = (
        entities.annotate(**_needs(links, "pk")).prefetch_related("identifiers").order_by("pk")
    )
    for entity in entities.iterator(chunk_size=CHUNK_SIZE):
        schema = export_schema(entity.schema, _required(entity))
        yield _line(ftm_id_of(entity), schema, entity_properties(entity, schema))
    # Query 2: links with both ends and the ranges the ends' other links need.
    end_fields = ("ftm_id", "public_id", "schema")
    link_rows = (
        links.select_related("source", "target")
        .only(
            *(f for f in LINK_MODEL_FIELDS if f != "source_id" and f != "target_id"),
            "ftm_id", "public_id", "source", "target",
            *(f"source__{f}" for f in end_fields),
            *(f"target__{f}" for f in end_fields),
        )
        .annotate(
            **_prefixed("source", _needs(links, "source_id")),
            **_prefixed("target", _needs(links, "target_id")),
        )
        .order_by("pk")
    )  # fmt: skip
    for link in link_rows.iterator(chunk_size=CHUNK_SIZE):
        yield link_line(
            link,
            export_schema(link.source.schema, _required(link, "source_")),
            export_schema(link.target.schema, _required(link, "target_")),
        )
    # Query 3: shipments with both parties' ids.
    shipment_rows = (
        shipments.select_related("exporter", "importer")
        .only(
            *(f for f in SHIPMENT_MODEL_FIELDS if f not in ("exporter_id", "importer_id")),
            "ftm_id", "public_id", "exporter", "importer",
            "exporter__ftm_id", "exporter__public_id", "importer__ftm_id", "importer__public_id",
        )
        .order_by("pk")
    )  # fmt: skip
    for shipment in shipment_rows.iterator(chunk_size=CHUNK_SIZE):
        yield shipment_line(shipment)


# Other apps add lines to a case export (evidence: documents, snapshots, citations); a hook is
# hook(case) -> Iterable[str] and runs after the entities, links and shipments.
CASE_EXPORT_HOOKS: list[Callable[[Investigation], Iterable[str]]] = []


def make_line(ftm_id: str, schema: str, properties: dict[str, list[str]]) -> str:
    """One FtM JSON line (cleaned by FtM, keys sorted), for other apps' export hooks."""
    return _line(ftm_id, schema, properties)


def export_case_lines(case: Investigation) -> Iterator[str]:
    """A case file as FtM lines: its entities, the dataset entities it uses, links, shipments,
    then what other apps add (documents, snapshots, citations)."""
    yield from _case_core_lines(case)
    for hook in CASE_EXPORT_HOOKS:
        yield from hook(case)


def _case_core_lines(case: Investigation) -> Iterator[str]:
    links = Link.objects.filter(investigation=case)
    shipments = Shipment.objects.filter(investigation=case)
    # Pinned entities, plus any dataset entity a link or shipment names, so every end resolves.
    entities = Entity.objects.filter(
        Q(investigation=case)
        | Q(pk__in=Pin.objects.filter(investigation=case).values("entity_id"))
        | Q(pk__in=links.values("source_id"))
        | Q(pk__in=links.values("target_id"))
        | Q(pk__in=shipments.values("exporter_id"))
        | Q(pk__in=shipments.values("importer_id"))
    )
    return _export_lines(entities, links, shipments)


def export_dataset_lines(dataset: Dataset) -> Iterator[str]:
    """A dataset as FtM lines: entities, then links, then shipments."""
    return _export_lines(
        Entity.objects.filter(dataset=dataset),
        Link.objects.filter(dataset=dataset),
        Shipment.objects.filter(dataset=dataset),
    )


# --- validation -------------------------------------------------------------------------------


def _parse_line(line: str) -> tuple[dict[str, Any] | None, list[str]]:
    try:
        data = json.loads(line)
    except ValueError as exc:
        return None, [f"not JSON: {exc}"]
    if not isinstance(data, dict):
        return None, ["not a JSON object"]
    return data, []


def validate_line(line: str) -> list[str]:
    """Errors of one FtM JSON line against the followthemoney model (empty if valid)."""
    data, errors = _parse_line(line)
    if data is None:
        return errors
    ftm_id = data.get("id")
    if not isinstance(ftm_id, str) or not registry.entity.validate(ftm_id):
        errors.append(f"invalid id {ftm_id!r}")
    schema_name = data.get("schema")
    schema = model.get(schema_name) if isinstance(schema_name, str) else None
    if schema is None:
        return [*errors, f"unknown schema {schema_name!r}"]
    if schema.abstract:
        errors.append(f"schema {schema.name} is abstract")
    properties = data.get("properties", {})
    if not isinstance(properties, dict):
        return [*errors, "properties is not an object"]
    clean = {}
    for name, values in properties.items():
        prop = schema.get(name)
        if prop is None:
            errors.append(f"{schema.name} has no property {name!r}")
        elif not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            errors.append(f"{name}: values must be a list of strings")
        elif message := prop.validate(values):
            errors.append(f"{name}: {message}")
        else:
            clean[name] = values
    errors.extend(f"{name}: required" for name in schema.required if not properties.get(name))
    try:
        schema.validate({"properties": clean})
    except InvalidData as exc:
        errors.append(str(exc))
    # Values FtM itself would change or drop on cleaning are not in canonical form.
    proxy = model.get_proxy({"id": ftm_id, "schema": schema.name, "properties": clean},
                            cleaned=False)  # fmt: skip
    for name, values in clean.items():
        if proxy.get(name) != values:
            errors.append(f"{name}: not in canonical form: {values!r} -> {proxy.get(name)!r}")
    return errors


def validate_export(lines: Iterable[str]) -> list[str]:
    """Errors of a whole file: every line, plus references that do not resolve or fit a range."""
    errors: list[str] = []
    schemata: dict[str, FtmSchema] = {}
    references: list[tuple[int, str, FtmSchema, str]] = []
    for number, line in enumerate(lines, start=1):
        errors.extend(f"line {number}: {message}" for message in validate_line(line))
        data, _ = _parse_line(line)
        if data is None or not isinstance(data.get("id"), str):
            continue
        schema = model.get(data["schema"]) if isinstance(data.get("schema"), str) else None
        properties = data.get("properties")
        if schema is None or not isinstance(properties, dict):
            continue
        if data["id"] in schemata:
            errors.append(f"line {number}: duplicate id {data['id']!r}")
        schemata[data["id"]] = schema
        for name, values in properties.items():
            prop = schema.get(name)
            if prop is not None and prop.type == registry.entity and isinstance(values, list):
                references.extend((number, name, prop.range, v) for v in values)
    for number, name, rng, ref in references:
        target = schemata.get(ref)
        if target is None:
            errors.append(f"line {number}: {name} {ref!r} is not in the file")
        elif rng is not None and not target.is_a(rng):
            errors.append(f"line {number}: {name} {ref!r} is a {target.name}, not {rng.name}")
    return errors


# --- import: mapping --------------------------------------------------------------------------


class LineError(ValueError):
    """A line that cannot be imported, with the reason."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def summary(self, seconds: float) -> str:
        return (
            f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"skipped {self.skipped}, errors {len(self.errors)} in {seconds:.1f} s"
        )


@dataclass
class _Row:
    """One mapped line, waiting for its batch."""

    line: int
    ftm_id: str
    fields: dict[str, Any]
    identifiers: list[tuple[str, str]] = field(default_factory=list)
    ends: dict[str, str] = field(default_factory=dict)  # model field -> FtM id of an entity


class _Values:
    """The properties of one line; mapping takes values out, what is left becomes `extra`."""

    def __init__(self, schema: FtmSchema, properties: Any) -> None:
        properties = {} if properties is None else properties
        if not isinstance(properties, dict):
            raise LineError("properties is not an object")
        self.rest: dict[str, list[str]] = {}
        for name, values in properties.items():
            prop = schema.get(name)
            if prop is None or prop.stub:
                continue  # not an FtM property of this schema: it could not be exported again
            values = values if isinstance(values, list) else [values]
            kept = [v for v in values if isinstance(v, str) and v.strip()]
            if kept:
                self.rest[name] = kept

    def peek(self, prop: str) -> list[str]:
        return list(self.rest.get(prop, []))

    def take_all(self, prop: str) -> list[str]:
        return [v.strip() for v in self.rest.pop(prop, [])]

    def take_first(self, prop: str, accept: Any = None, max_length: int | None = None) -> str:
        """The first value of prop that fits (accept(value) and length); others stay."""
        values = self.rest.get(prop, [])
        for i, raw in enumerate(values):
            value = raw.strip()
            if max_length is not None and len(value) > max_length:
                continue
            if accept is None or accept(value):
                self.leave(prop, values[:i] + values[i + 1 :])
                return value
        return ""

    def leave(self, prop: str, values: list[str]) -> None:
        if values:
            self.rest[prop] = values
        else:
            self.rest.pop(prop, None)

    def extra(self) -> dict[str, list[str]]:
        return {prop: values for prop, values in self.rest.items() if values}


def _entity_date(value: str) -> bool:
    return bool(PARTIAL_DATE.match(value[:10]))


def _take_date(values: _Values, prop: str) -> str:
    """The first value that starts with a partial ISO date, cut to it (time is dropped)."""
    return values.take_first(prop, _entity_date)[:10]


def _take_countries(values: _Values, prop: str) -> list[str]:
    codes, other = [], []
    for raw in values.take_all(prop):
        code = raw.lower()
        if COUNTRY_CODE.match(code):
            if code.upper() not in codes:
                codes.append(code.upper())
        else:
            other.append(raw)
    values.leave(prop, other)
    return codes


def _fallback_countries(values: _Values, prop: str) -> list[str]:
    """Codes of a secondary country property; the values stay for export."""
    codes = [v.strip().upper() for v in values.peek(prop) if COUNTRY_CODE.match(v.strip().lower())]
    return list(dict.fromkeys(codes))


def _take_source(values: _Values) -> str:
    source = values.take_first("sourceUrl", _is_url, max_length=500)
    if not source:
        source = values.take_first("publisher", lambda v: not _is_url(v), max_length=500)
    return source


def _decimal(text: str, *, places: int, digits: int, maximum: Decimal | None = None) -> Any:
    """The decimal in text when the model field holds it exactly, else None."""
    try:
        number = Decimal(text.strip().removesuffix("%").replace(" ", ""))
    except InvalidOperation:
        return None
    if not number.is_finite() or number < 0 or (maximum is not None and number > maximum):
        return None
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > places:
        return None
    whole_digits = len(str(int(number))) if number >= 1 else 0
    if whole_digits > digits - places:
        return None
    return number


def _take_decimal(values: _Values, prop: str, **limits: Any) -> Decimal | None:
    found = values.take_first(prop, lambda v: _decimal(v, **limits) is not None)
    return _decimal(found, **limits) if found else None


def map_entity(data: dict[str, Any], schema: FtmSchema) -> _Row:
    """An FtM entity line as Entity fields, identifiers and extra."""
    values = _Values(schema, data.get("properties"))
    name = values.take_first("name", max_length=500)
    if not name:
        raise LineError(f"{schema.name} without a name")
    person = schema.is_a("Person")
    aliases: list[str] = []
    seen = {name.casefold()}
    left = []
    for raw in values.peek("alias"):
        alias = raw.strip()
        if alias.casefold() in seen or len(alias) > 500:
            left.append(raw)
        else:
            seen.add(alias.casefold())
            aliases.append(alias)
    values.leave("alias", left)
    countries = _take_countries(values, "country")
    nationality = _take_countries(values, "nationality") if person else []
    if not countries and not person:
        countries = _fallback_countries(values, "jurisdiction")
    if not nationality and person:
        nationality = _fallback_countries(values, "citizenship")
    start, end = ("birthDate", "deathDate") if person else ("incorporationDate", "dissolutionDate")
    start_date = _take_date(values, start)
    end_date = values.take_first(end, lambda v: _entity_date(v) and v[:10] >= start_date)[:10]
    every_country = {c.lower() for c in countries + nationality} | {
        c.strip().lower()
        for prop in ("country", "jurisdiction", "nationality", "citizenship")
        for c in values.peek(prop)
    }
    identifiers = _take_identifiers(values, schema, kazakh="kz" in every_country)
    fields = {
        "schema": schema.name,
        "name": name,
        "aliases": aliases,
        "countries": countries,
        "nationality": nationality,
        "start_date": start_date,
        "end_date": end_date,
        "addresses": values.take_all("address"),
        "notes": values.take_first("notes"),
        "source": _take_source(values),
    }
    fields["extra"] = values.extra()
    return _Row(line=0, ftm_id="", fields=fields, identifiers=identifiers)


# FtM property -> scheme, where one property means one scheme (see the module docstring).
IMPORT_SCHEMES: dict[str, str] = {
    "innCode": Scheme.RU_INN,
    "ogrnCode": Scheme.RU_OGRN,
    "kppCode": Scheme.RU_KPP,
    "leiCode": Scheme.LEI,
    "registrationNumber": Scheme.REGISTRATION,
}


def _take_identifiers(values: _Values, schema: FtmSchema, *, kazakh: bool) -> list[tuple[str, str]]:
    found: dict[tuple[str, str], None] = {}
    max_length = Identifier._meta.get_field("value").max_length
    for prop in ("innCode", "ogrnCode", "kppCode", "leiCode", "registrationNumber", "vatCode",
                 "idNumber"):  # fmt: skip
        left = []
        for raw in values.peek(prop):
            value = raw.strip()
            scheme = IMPORT_SCHEMES.get(prop)
            if prop == "vatCode":
                scheme = Scheme.DE_VAT if value.upper().startswith("DE") else Scheme.EU_VAT
            elif prop == "idNumber":
                twelve_digits = len(value) == 12 and value.isascii() and value.isdigit()
                scheme = Scheme.KZ_IIN if twelve_digits and kazakh else None
            # Exported again under the same property? Otherwise the value stays in extra.
            exported = FTM_PROPERTY.get(scheme or "", "")
            if exported not in schema.properties:
                exported = "registrationNumber"
            if scheme is None or exported != prop or len(value) > max_length:
                left.append(raw)
            else:
                found[(str(scheme), value)] = None
        values.leave(prop, left)
    return sorted(found)


def map_link(data: dict[str, Any], schema: FtmSchema) -> _Row:
    """An FtM interval line as Link fields and the FtM ids of its two ends."""
    kind = schema.name
    values = _Values(schema, data.get("properties"))
    source_prop, target_prop = LINK_ENDS[kind][:2]
    ends = {}
    for field_name, prop in (("source_id", source_prop), ("target_id", target_prop)):
        ends[field_name] = values.take_first(prop)
        if not ends[field_name]:
            raise LineError(f"{kind} without {prop}")
    if ends["source_id"] == ends["target_id"]:
        raise LineError(f"{kind} links {ends['source_id']!r} to itself")
    start_date = _take_date(values, "startDate")
    end_date = values.take_first("endDate", lambda v: _entity_date(v) and v[:10] >= start_date)
    fields = {
        "kind": kind,
        "percentage": (
            _take_decimal(values, "percentage", places=4, digits=7, maximum=Decimal(100))
            if kind == LinkKind.OWNERSHIP
            else None
        ),
        "shares": (
            _take_decimal(values, "sharesCount", places=2, digits=20)
            if kind == LinkKind.OWNERSHIP
            else None
        ),
        "role": values.take_first(
            "relationship" if kind == LinkKind.FAMILY else "role", max_length=200
        ),
        "start_date": start_date,
        "end_date": end_date[:10],
        "summary": values.take_first("summary"),
        "provenance": _take_source(values),
    }
    fields["extra"] = values.extra()
    return _Row(line=0, ftm_id="", fields=fields, ends=ends)


def _first_day(text: str) -> datetime.date | None:
    """The first day of a partial ISO date ("2022" -> 2022-01-01), None if not a date."""
    head = text.strip()[:10]
    if not PARTIAL_DATE.match(head):
        return None
    try:
        return datetime.date.fromisoformat((head + "-01-01"[len(head) - 4 :])[:10])
    except ValueError:
        return None


SUMMARY_PART = re.compile(r"^(quantity|unit|currency)=(.*)$")


def parse_shipment_summary(summary: str) -> dict[str, str] | None:
    """The parts of a summary written by shipment_summary(), None if it is not one."""
    if not summary:
        return None
    parts: dict[str, str] = {}
    for part in summary.split("; "):
        match = SUMMARY_PART.match(part)
        if match is None or match[1] in parts:
            return None
        parts[match[1]] = match[2]
    if list(parts) != [k for k in SUMMARY_KEYS if k in parts]:
        return None
    return parts


def map_shipment(data: dict[str, Any], schema: FtmSchema) -> _Row:
    """An FtM EconomicActivity line as Shipment fields and the FtM ids of its parties."""
    values = _Values(schema, data.get("properties"))
    raw_dates = values.peek("date")
    index = next((i for i, d in enumerate(raw_dates) if _first_day(d) is not None), None)
    if index is None:
        raise LineError("EconomicActivity without a date (a shipment needs one)")
    chosen, rest = raw_dates[index], raw_dates[:index] + raw_dates[index + 1 :]
    date = _first_day(chosen)
    # A partial date or a timestamp is kept to be exported instead of the first day; so is a
    # full date that the export could mistake for that case.
    if chosen.strip() != date.isoformat() or (rest and _first_day(rest[0]) == date):
        rest = [chosen, *rest]
    values.leave("date", rest)
    hs_code = values.take_first("vedCode", lambda v: HS_CODE.match(re.sub(r"[\s.]", "", v)))
    if not hs_code:
        raise LineError("EconomicActivity without an HS code (vedCode of 2-10 digits)")
    fields: dict[str, Any] = {
        "date": date,
        "hs_code": re.sub(r"[\s.]", "", hs_code),
        "declaration_number": values.take_first("ccdNumber", max_length=100),
        "origin_country": _take_country(values, "originCountry"),
        "destination_country": _take_country(values, "destinationCountry"),
        "dispatch_country": _take_country(values, "departureCountry"),
        "source": _take_source(values),
        "quantity": None,
        "unit": "",
        "value": None,
        "currency": "",
    }
    goods = values.take_first("goodsDescription")
    summary = values.peek("summary")
    parts = parse_shipment_summary(summary[0].strip()) if summary else None
    if parts is not None:
        quantity = _decimal(parts.get("quantity", ""), places=3, digits=20)
        unit = parts.get("unit", "")
        currency = parts.get("currency", "")
        suffix = _goods_suffix(quantity, unit)
        fits = (
            ("quantity" in parts) == (quantity is not None)
            and len(unit) <= 30
            and (not currency or CURRENCY.match(currency))
            and (not suffix or goods == suffix or goods.endswith(f" — {suffix}"))
        )
        if fits:
            fields.update(quantity=quantity, unit=unit, currency=currency)
            values.leave("summary", summary[1:])
            goods = "" if suffix and goods == suffix else goods.removesuffix(f" — {suffix}")
    if fields["currency"]:  # a value without its currency stays in extra
        fields["value"] = _take_decimal(values, "customsAmount", places=2, digits=20)
    fields["description"] = goods
    ends = {}
    for field_name, prop in (("exporter_id", "sender"), ("importer_id", "receiver")):
        ends[field_name] = values.take_first(prop)
    if ends["exporter_id"] and ends["exporter_id"] == ends["importer_id"]:
        raise LineError("sender and receiver are the same entity")
    fields["extra"] = values.extra()
    return _Row(line=0, ftm_id="", fields=fields, ends={k: v for k, v in ends.items() if v})


def _take_country(values: _Values, prop: str) -> str:
    return values.take_first(prop, lambda v: COUNTRY_CODE.match(v.lower())).upper()


# --- import: writing --------------------------------------------------------------------------


# The condition of the unique (dataset, ftm_id) indexes: with it in the query, Postgres can use
# them (it cannot prove ftm_id <> '' from a long IN list).
_BY_FTM_ID = ~Q(ftm_id="")


def _search_rows(rows: list[tuple[int, "_Row"]], dataset: Dataset) -> tuple[list, list]:
    """The search rows services.entity_reindex_names would build, without the queries."""
    names: list[dict] = []
    keys: list[dict] = []
    for entity_id, row in rows:
        name_rows, key_rows = search_rows(
            entity_id=entity_id,
            investigation_id=None,
            dataset_id=dataset.pk,
            names=[row.fields["name"], *row.fields["aliases"]],
            person=row.fields["schema"] == "Person",
        )
        names += name_rows
        keys += key_rows
    return names, keys


def _copy_rows(model_class: type[Any], rows: list[dict[str, Any]]) -> None:
    """INSERT rows (field attname -> value, the same keys in each) with COPY.

    Fields a row leaves out get the model's default, as with Model.objects.create.
    """
    if not rows:
        return
    meta = model_class._meta
    given = list(rows[0])
    defaulted = [f for f in meta.concrete_fields if f.attname not in given and not f.primary_key]
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(f.column) for f in [*(meta.get_field(name) for name in given), *defaulted]
    )
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN"
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        for row in rows:
            values = [*row.values(), *(f.get_default() for f in defaulted)]
            copy.write_row([Jsonb(v) if isinstance(v, dict) else v for v in values])


def _allocate_ids(model_class: type[Entity], count: int) -> list[int]:
    """Primary keys from the table's sequence, so rows written by COPY can be referenced."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [model_class._meta.db_table, model_class._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def _new_row(row: _Row, values: dict[str, Any], dataset: Dataset, actor: Any) -> dict[str, Any]:
    """The columns of a new entity, link or shipment in a dataset; the rest take defaults."""
    now = timezone.now()
    return {
        "dataset_id": dataset.pk,
        "ftm_id": row.ftm_id,
        "created_by_id": getattr(actor, "pk", None),
        "created_at": now,
        "updated_at": now,
        **values,
    }


def _write_entities(rows: list[_Row], *, dataset: Dataset, actor: Any) -> tuple[int, int, int]:
    """Create or update one batch of entities by FtM id; returns (created, updated, unchanged)."""
    existing = {
        values["ftm_id"]: values
        for values in Entity.objects.filter(
            _BY_FTM_ID, dataset=dataset, ftm_id__in=[r.ftm_id for r in rows]
        ).values("pk", "ftm_id", *ENTITY_MODEL_FIELDS)
    }
    identifiers: dict[int, list[tuple[str, str]]] = {}
    if existing:
        for entity_id, scheme, value in Identifier.objects.filter(
            entity_id__in=[values["pk"] for values in existing.values()]
        ).values_list("entity_id", "scheme", "value"):
            identifiers.setdefault(entity_id, []).append((scheme, value))
    now = timezone.now()
    new: list[_Row] = []
    changed: list[Entity] = []
    renamed: list[tuple[int, _Row]] = []
    reidentified: list[tuple[int, _Row]] = []
    unchanged = 0
    for row in rows:
        current = existing.get(row.ftm_id)
        if current is None:
            new.append(row)
            continue
        idents = sorted(identifiers.get(current["pk"], []))
        if idents == row.identifiers and all(current[f] == v for f, v in row.fields.items()):
            unchanged += 1
            continue
        if (current["name"], current["aliases"]) != (row.fields["name"], row.fields["aliases"]):
            renamed.append((current["pk"], row))
        if idents != row.identifiers:
            reidentified.append((current["pk"], row))
        changed.append(Entity(pk=current["pk"], updated_at=now, **row.fields))
    created = list(zip(_allocate_ids(Entity, len(new)), new, strict=True))
    _copy_rows(Entity, [{"id": pk, **_new_row(row, row.fields, dataset, actor)}
                        for pk, row in created])  # fmt: skip
    if changed:
        Entity.objects.bulk_update(changed, [*ENTITY_MODEL_FIELDS, "updated_at"])
    Identifier.objects.filter(entity_id__in=[pk for pk, _ in reidentified]).delete()
    _copy_rows(
        Identifier,
        [
            {"entity_id": pk, "scheme": scheme, "value": value}
            for pk, row in [*created, *reidentified]
            for scheme, value in row.identifiers
        ],
    )
    EntityName.objects.filter(entity_id__in=[pk for pk, _ in renamed]).delete()
    NameKey.objects.filter(entity_id__in=[pk for pk, _ in renamed]).delete()
    name_rows, key_rows = _search_rows([*created, *renamed], dataset)
    _copy_rows(EntityName, name_rows)
    _copy_rows(NameKey, key_rows)
    return len(new), len(changed), unchanged


def _resolve(rows: list[_Row], dataset: Dataset) -> dict[str, int]:
    ids = {ftm_id for row in rows for ftm_id in row.ends.values()}
    found = Entity.objects.filter(_BY_FTM_ID, dataset=dataset, ftm_id__in=ids)
    return dict(found.values_list("ftm_id", "pk"))


def _write_scoped(
    model_class: type[Link] | type[Shipment],
    fields: tuple[str, ...],
    rows: list[_Row],
    *,
    dataset: Dataset,
    actor: Any,
    pks: dict[str, int],
) -> tuple[int, int, int]:
    """Create or update one batch of links or shipments (ends resolved in `pks`)."""
    existing = {
        current["ftm_id"]: current
        for current in model_class.objects.filter(
            _BY_FTM_ID, dataset=dataset, ftm_id__in=[r.ftm_id for r in rows]
        ).values("pk", "ftm_id", *fields)
    }
    now = timezone.now()
    new, changed, unchanged = [], [], 0
    for row in rows:
        values = dict.fromkeys(f for f in fields if f.endswith("_id"))  # ends not given: NULL
        values.update(row.fields)
        values.update((f, pks[ftm_id]) for f, ftm_id in row.ends.items())
        current = existing.get(row.ftm_id)
        if current is None:
            new.append(_new_row(row, values, dataset, actor))
        elif all(current[f] == v for f, v in values.items()):
            unchanged += 1
        else:
            changed.append(model_class(pk=current["pk"], updated_at=now, **values))
    _copy_rows(model_class, new)
    if changed:
        model_class.objects.bulk_update(changed, [*fields, "updated_at"])
    return len(new), len(changed), unchanged


class _Importer:
    """Import state: batches waiting to be written and the result so far."""

    def __init__(self, dataset: Dataset, actor: Any) -> None:
        self.dataset = dataset
        self.actor = actor
        self.result = ImportResult()
        self.entities: list[_Row] = []
        self.links: list[_Row] = []
        self.shipments: list[_Row] = []
        self.skipped_ids: set[str] = set()
        self.batch_ids: set[str] = set()

    def add_line(self, number: int, line: str) -> None:
        if not line.strip():
            return
        data, errors = _parse_line(line)
        if data is None:
            self.result.errors.append((number, errors[0]))
            return
        ftm_id = data.get("id")
        schema = model.get(data.get("schema")) if isinstance(data.get("schema"), str) else None
        if schema is None or not (
            schema.name in ENTITY_SCHEMATA
            or schema.name in LINK_SCHEMATA
            or schema.name == SHIPMENT_SCHEMA
        ):
            self.result.skipped += 1
            if isinstance(ftm_id, str):
                self.skipped_ids.add(ftm_id)
            return
        if not isinstance(ftm_id, str) or not registry.entity.validate(ftm_id):
            self.result.errors.append((number, f"invalid or missing id {ftm_id!r}"))
            return
        try:
            if schema.name in ENTITY_SCHEMATA:
                row, queue = map_entity(data, schema), self.entities
            elif schema.name in LINK_SCHEMATA:
                row, queue = map_link(data, schema), self.links
            else:
                row, queue = map_shipment(data, schema), self.shipments
        except LineError as exc:
            self.result.errors.append((number, str(exc)))
            return
        row.line, row.ftm_id = number, ftm_id
        if queue is self.entities:
            if ftm_id in self.batch_ids:
                self.flush_entities()  # the repeat then updates the row written just now
            queue.append(row)
            self.batch_ids.add(ftm_id)
            if len(queue) >= BATCH_SIZE:
                self.flush_entities()
        else:
            queue.append(row)  # written at the end, when every entity of the file is in

    def _commit(self, rows: list[_Row], write: Any) -> None:
        """Write a batch in one transaction; if it fails, row by row to find the bad lines."""
        try:
            with transaction.atomic():
                counts = write(rows)
        except DatabaseError:
            if len(rows) == 1:
                raise
            for row in rows:
                try:
                    self._commit([row], write)
                except DatabaseError as exc:
                    self.result.errors.append((row.line, f"database refused it: {exc}"))
            return
        self.result.created += counts[0]
        self.result.updated += counts[1]
        self.result.unchanged += counts[2]

    def flush_entities(self) -> None:
        rows, self.entities = self.entities, []
        self.batch_ids = set()
        if rows:
            self._commit(rows, partial(_write_entities, dataset=self.dataset, actor=self.actor))

    def flush_scoped(self, rows: list[_Row], model_class: Any, fields: tuple[str, ...]) -> None:
        for start in range(0, len(rows), BATCH_SIZE):
            batch = self._deduplicated(rows[start : start + BATCH_SIZE])
            pks = _resolve(batch, self.dataset)
            ready = []
            for row in batch:
                missing = [i for i in row.ends.values() if i not in pks]
                if not missing:
                    ready.append(row)
                elif all(i in self.skipped_ids for i in missing):
                    self.result.skipped += 1  # an end of a schema we do not import
                else:
                    what = row.fields.get("kind", SHIPMENT_SCHEMA)
                    message = f"{what} {row.ftm_id}: entity {missing[0]!r} is not in the dataset"
                    self.result.errors.append((row.line, message))
            if ready:
                write = partial(
                    _write_scoped,
                    model_class,
                    fields,
                    dataset=self.dataset,
                    actor=self.actor,
                    pks=pks,
                )
                self._commit(ready, write)

    @staticmethod
    def _deduplicated(rows: list[_Row]) -> list[_Row]:
        last: dict[str, _Row] = {}
        for row in rows:
            last[row.ftm_id] = row  # a repeated id in one file: the last line wins
        return list(last.values())

    def finish(self) -> ImportResult:
        self.flush_entities()
        self.flush_scoped(self.links, Link, LINK_MODEL_FIELDS)
        self.flush_scoped(self.shipments, Shipment, SHIPMENT_MODEL_FIELDS)
        self.links, self.shipments = [], []
        return self.result


def import_lines(lines: Iterable[str], *, dataset: Dataset, actor: Any = None) -> ImportResult:
    """Load FtM JSON lines into a dataset, idempotent by FtM id; bad lines become errors.

    Entities are written in batches as they come; links and shipments wait for the end of the
    file, so their ends may come later in it.
    """
    importer = _Importer(dataset, actor)
    for number, line in enumerate(lines, start=1):
        importer.add_line(number, line)
    return importer.finish()
