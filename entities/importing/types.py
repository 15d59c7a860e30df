"""The shapes passed between the import stages: reader -> parser -> loader."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

# Canonical field names of each kind of import, in the order the README and the mapping screen
# show them. A file whose header row uses these names maps without a saved mapping.
SHIPMENT_FIELDS = (
    "date",
    "declaration_number",
    "line",
    "exporter",
    "exporter_country",
    "exporter_id",
    "importer",
    "importer_country",
    "importer_id",
    "origin_country",
    "destination_country",
    "dispatch_country",
    "hs_code",
    "description",
    "quantity",
    "unit",
    "value",
    "currency",
)
COMPANY_FIELDS = (
    "name",
    "country",
    "registration_number",
    "scheme",
    "incorporation_date",
    "address",
)
# How the mapping screen names each field (one place: add a field above, label it here).
FIELD_LABELS = {
    "date": "Date",
    "declaration_number": "Declaration number",
    "line": "Line of the declaration",
    "exporter": "Exporter",
    "exporter_country": "Exporter country",
    "exporter_id": "Exporter identifier",
    "importer": "Importer",
    "importer_country": "Importer country",
    "importer_id": "Importer identifier",
    "origin_country": "Country of origin",
    "destination_country": "Destination country",
    "dispatch_country": "Dispatch country",
    "hs_code": "HS code",
    "description": "Goods description",
    "quantity": "Quantity",
    "unit": "Unit",
    "value": "Value",
    "currency": "Currency",
    "name": "Company name",
    "country": "Country",
    "registration_number": "Registration number",
    "scheme": "Identifier scheme",
    "incorporation_date": "Incorporation date",
    "address": "Address",
}
REQUIRED = {
    "shipments": ("date", "hs_code"),
    "companies": ("name",),
}


@dataclass(frozen=True)
class Reject:
    """One rejected value: file line (1 = the header line), column name as in the file, the
    raw value, and why. A row with any reject is not imported."""

    line: int
    column: str
    value: str
    reason: str


@dataclass
class ShipmentRow:
    line: int  # physical line number of the row's first line in the file
    date: datetime.date
    hs_code: str
    declaration_number: str = ""
    line_no: str = ""  # the declaration's own line number ("line" field), part of the key
    exporter: str = ""
    exporter_norm: str = ""
    exporter_keys: str = "{}"  # text[] literal of entities.names.name_forms
    exporter_country: str = ""
    exporter_id: str = ""  # identifier value as given (scheme guessed by the loader)
    importer: str = ""
    importer_norm: str = ""
    importer_keys: str = "{}"
    importer_country: str = ""
    importer_id: str = ""
    origin_country: str = ""
    destination_country: str = ""
    dispatch_country: str = ""
    description: str = ""
    quantity: Decimal | None = None
    unit: str = ""
    value: Decimal | None = None
    currency: str = ""
    # Natural key: "decl:<declaration>:<line>" when the file has declaration numbers, else
    # "sha:<sha256 of the mapped values>" (so re-importing the same file changes nothing).
    import_key: str = ""


@dataclass
class CompanyRow:
    line: int
    name: str
    norm: str = ""
    keys: str = "{}"  # text[] literal of entities.names.name_forms
    country: str = ""
    registration_number: str = ""
    scheme: str = "registration"
    incorporation_date: str = ""  # partial ISO date
    address: str = ""
    import_key: str = ""


@dataclass
class Mapping:
    """Which file column feeds which field; how dates are written; defaults."""

    columns: dict[str, str]  # field -> column header as in the file
    date_format: str = "auto"  # "auto", "iso", "dmy" (DD.MM.YYYY / DD/MM/YYYY), "mdy"
    decimal_comma: bool | None = None  # None: detect per value
    defaults: dict[str, str] = field(default_factory=dict)  # field -> constant value
