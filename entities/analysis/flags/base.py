"""What every detector shares: the settings of a run, a hit, and the rows a run looks at.

A run first copies the rows of its scope into temporary tables (flag_entities,
flag_shipments, flag_links; indexed and analysed), so every detector is plain set-based SQL
over one snapshot, the same for a case file and for a dataset of a million shipments:
- a dataset: its own entities, shipments and links;
- a case file: its own entities, the dataset entities pinned into it, its shipments and the
  dataset shipments of its pinned entities, and every entity those shipments name; its links
  and the dataset links of those entities, plus the family links one step further (so that
  "the owners are related" can be seen).
The tables live in the run's database session and are dropped when it ends.
"""

import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from investigations.models import Investigation

from ...models import Dataset

TEMP_TABLES = ("flag_entities", "flag_shipments", "flag_links")


@dataclass(frozen=True)
class FlagConfig:
    """The settings a run uses (FLAG_* in newsroom/settings.py, README "Red flags")."""

    founded_after: str
    intermediary_countries: list[str]
    owner_nationalities: list[str]
    sensitive_hs: list[str]
    round_trip_days: int
    pass_through_days: int
    pass_through_tolerance: float
    surge_factor: float
    surge_min_value: float
    sanctions_name_similarity: float
    max_hits: int

    @classmethod
    def from_settings(cls, **overrides: Any) -> "FlagConfig":
        values = {
            "founded_after": settings.FLAG_FOUNDED_AFTER,
            "intermediary_countries": list(settings.FLAG_INTERMEDIARY_COUNTRIES),
            "owner_nationalities": list(settings.FLAG_OWNER_NATIONALITIES),
            "sensitive_hs": list(settings.FLAG_SENSITIVE_HS),
            "round_trip_days": settings.FLAG_ROUND_TRIP_DAYS,
            "pass_through_days": settings.FLAG_PASS_THROUGH_DAYS,
            "pass_through_tolerance": settings.FLAG_PASS_THROUGH_TOLERANCE,
            "surge_factor": settings.FLAG_SURGE_FACTOR,
            "surge_min_value": settings.FLAG_SURGE_MIN_VALUE,
            "sanctions_name_similarity": settings.FLAG_SANCTIONS_NAME_SIMILARITY,
            "max_hits": settings.FLAG_MAX_HITS,
        }
        return cls(**{**values, **overrides})

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def hs_patterns(self) -> list[str]:
        """LIKE patterns of the sensitive HS codes ("85%", "8542%")."""
        return [f"{code}%" for code in self.sensitive_hs]

    @property
    def sensitive_chapters(self) -> list[str]:
        return sorted({code[:2] for code in self.sensitive_hs})


@dataclass
class Hit:
    """One finding: what, how sure (0-1], why in words, and the ids that raised it."""

    detector: str
    score: float
    explanation: str
    entity_ids: list[int]
    shipment_ids: list[int] = field(default_factory=list)
    link_ids: list[int] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlagScope:
    """A case file or a dataset (exactly one)."""

    investigation: Investigation | None = None
    dataset: Dataset | None = None

    def __post_init__(self) -> None:
        if (self.investigation is None) == (self.dataset is None):
            raise ValueError("red flags run over one case file or one dataset")

    @property
    def is_case(self) -> bool:
        return self.investigation is not None

    @property
    def label(self) -> str:
        return str(self.investigation or self.dataset)


_SHIPMENT_COLUMNS = """
    s.id, s.date, s.exporter_id, s.importer_id, s.hs_code, LEFT(s.hs_code, 4) AS heading,
    s.quantity, LOWER(s.unit) AS unit, s.value, s.currency, s.origin_country,
    s.destination_country, s.dispatch_country"""

_CASE_TABLES = f"""
CREATE TEMPORARY TABLE flag_shipments AS
SELECT {_SHIPMENT_COLUMNS} FROM entities_shipment s WHERE s.investigation_id = %(case)s
UNION
SELECT {_SHIPMENT_COLUMNS} FROM entities_pin p
  JOIN entities_shipment s ON s.exporter_id = p.entity_id AND s.dataset_id IS NOT NULL
 WHERE p.investigation_id = %(case)s
UNION
SELECT {_SHIPMENT_COLUMNS} FROM entities_pin p
  JOIN entities_shipment s ON s.importer_id = p.entity_id AND s.dataset_id IS NOT NULL
 WHERE p.investigation_id = %(case)s;
CREATE TEMPORARY TABLE flag_entities AS
SELECT id FROM entities_entity WHERE investigation_id = %(case)s
UNION SELECT entity_id FROM entities_pin WHERE investigation_id = %(case)s
UNION SELECT exporter_id FROM flag_shipments WHERE exporter_id IS NOT NULL
UNION SELECT importer_id FROM flag_shipments WHERE importer_id IS NOT NULL;
CREATE TEMPORARY TABLE flag_links AS
WITH near AS (
    SELECT l.id, l.kind, l.source_id, l.target_id FROM entities_link l
     WHERE l.investigation_id = %(case)s
    UNION
    SELECT l.id, l.kind, l.source_id, l.target_id FROM flag_entities f
      JOIN entities_link l ON l.source_id = f.id AND l.dataset_id IS NOT NULL
    UNION
    SELECT l.id, l.kind, l.source_id, l.target_id FROM flag_entities f
      JOIN entities_link l ON l.target_id = f.id AND l.dataset_id IS NOT NULL
), ends AS (
    SELECT source_id AS id FROM near UNION SELECT target_id FROM near
)
SELECT * FROM near
UNION
SELECT l.id, l.kind, l.source_id, l.target_id FROM ends
  JOIN entities_link l ON l.source_id = ends.id AND l.dataset_id IS NOT NULL
 WHERE l.kind = 'Family'
UNION
SELECT l.id, l.kind, l.source_id, l.target_id FROM ends
  JOIN entities_link l ON l.target_id = ends.id AND l.dataset_id IS NOT NULL
 WHERE l.kind = 'Family';
"""  # noqa: S608 (constant SQL; every value is a parameter)

_DATASET_TABLES = f"""
CREATE TEMPORARY TABLE flag_shipments AS
SELECT {_SHIPMENT_COLUMNS} FROM entities_shipment s WHERE s.dataset_id = %(dataset)s;
CREATE TEMPORARY TABLE flag_entities AS
SELECT id FROM entities_entity WHERE dataset_id = %(dataset)s;
CREATE TEMPORARY TABLE flag_links AS
SELECT l.id, l.kind, l.source_id, l.target_id FROM entities_link l
 WHERE l.dataset_id = %(dataset)s;
"""  # noqa: S608 (constant SQL; every value is a parameter)

# Indexes for the detectors' joins, then statistics (autovacuum never analyses temp tables).
_INDEXES = """
CREATE INDEX ON flag_shipments (importer_id, heading, date);
CREATE INDEX ON flag_shipments (exporter_id, heading, date);
CREATE UNIQUE INDEX ON flag_entities (id);
CREATE INDEX ON flag_links (target_id, kind);
CREATE INDEX ON flag_links (source_id, kind);
ANALYZE flag_shipments;
ANALYZE flag_entities;
ANALYZE flag_links;
"""


# The detectors' hash joins hold up to a few hundred thousand rows each; with the default 4 MB
# they spill to disk in batches. For the run's session only, reset afterwards.
WORK_MEM = "128MB"


def _drop(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(TEMP_TABLES)}")


@contextmanager
def scope_tables(scope: FlagScope) -> Iterator[None]:
    """The scope's rows as temporary tables for the detectors, dropped afterwards."""
    with connection.cursor() as cursor:
        _drop(cursor)  # a run killed before its finally: the session may still hold them
        cursor.execute("SELECT set_config('work_mem', %s, false)", [WORK_MEM])
        if scope.is_case:
            cursor.execute(_CASE_TABLES, {"case": scope.investigation.pk})
        else:
            cursor.execute(_DATASET_TABLES, {"dataset": scope.dataset.pk})
        cursor.execute(_INDEXES)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            _drop(cursor)
            cursor.execute("RESET work_mem")


def fetch(sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a detector's query as dicts."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def json_rows(values: list[Any] | str | None) -> list[dict[str, Any]]:
    """A jsonb array (or an array of jsonb) as Python dicts: Django reads jsonb as text."""
    if values is None:
        return []
    if isinstance(values, str):
        return json.loads(values)
    return [json.loads(v) if isinstance(v, str) else v for v in values]


def entity_names(ids: set[int] | list[int]) -> dict[int, str]:
    """{entity id: name} for the ids of hits (one query)."""
    rows = fetch("SELECT id, name FROM entities_entity WHERE id = ANY(%(ids)s)", {"ids": list(ids)})
    return {row["id"]: row["name"] for row in rows}


def day(value: datetime.date | str | None) -> str:
    """A date for explanations: 2022-05-01."""
    return value.isoformat() if isinstance(value, datetime.date) else str(value or "")


def amount(value: Any) -> str:
    """2598 -> "2,598"; 2598.5 -> "2,598.5"."""
    if value is None:
        return "?"
    text = f"{value:,.3f}".rstrip("0").rstrip(".")
    return text
