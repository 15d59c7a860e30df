"""Load parsed rows into a dataset: COPY into a staging table, then set-based SQL merges.

The rows arrive in batches (batch_size rows): each batch is COPYed into a TEMPORARY staging
table and merged into the dataset with a handful of INSERT ... SELECT / UPDATE ... FROM
statements. While the database merges one batch, the caller's iterator parses the next (the
merge runs in a helper thread on the same connection, which releases the GIL while it waits),
so the two CPU cores are both busy. Python holds one batch of rows at a time, whatever the
file size.

Everything runs in ONE transaction (a savepoint when the caller has one, and the caller wraps
the import, its rejected-rows report and the job's counts in transaction.atomic): a crash or a
killed worker leaves nothing of the file behind, and the import is simply run again. Running it
again is harmless: shipments are keyed by (dataset, import_key), and parties resolve to the
entities the first run made. Imports into one dataset are serialised by a transaction-level
advisory lock, so two files cannot both create the same party or shipment.

Parties (shipment exporters and importers, registry companies) resolve to entities of this
dataset only, never of another dataset or of a case file:
1. by identifier: an Identifier with the same value (any scheme) on an entity of the dataset;
2. else by name: the ORDERED match key of the spelling (entities.names.match_key: the words'
   transliteration skeletons in order; legal forms, quotes, script and transliteration
   scheme do not count) equal to the ORDERED key of a name or alias of an entity of the
   dataset (entities_namekey). Only that exact key merges parties automatically: a false
   merge in evidence is worse than a duplicate, so names in another order, that sound alike
   or differ by a typo are left to the possible-duplicates list. Of several namesakes, the
   one whose key was recorded first, so that a re-import resolves every party as the first
   import did. A party that comes with an identifier only matches entities without any
   identifier: namesakes with different registration numbers stay apart;
3. else a new Company entity, with EntityName and NameKey rows and an Identifier. Shipment
   parties' numbers get the scheme "registration": telling a BIN from an INN needs a country
   and a checksum per value, which is too costly here; a registry import (load_companies)
   upgrades the scheme.
Within a file, a party is one identifier or, without one, one ORDERED key: "ТОО «Казах Чип
Трейд»", "TOO Kazakh Chip Treyd", "Kazakh Chip Treyd LLP" and "«Kazakh Chip Treyd» ЖШС" become
one entity, named by the spelling most frequent in the batch where it first appears; the other
spellings become aliases (with EntityName and NameKey rows), also of existing entities.

Foreign keys are checked per batch, not per row, when the database role may set
session_replication_role (settings.IMPORT_BATCH_FOREIGN_KEYS): the shipment merge runs with
the session's row triggers off (replica), after one statement has locked the batch's party
entities FOR KEY SHARE, as PostgreSQL's own checks would have, row by row (a million rows queue
five million trigger events, three of them index probes: about 20 s). The dataset is locked the
same way once. The trade flows of the rows it inserts are summed per batch and added to the
summary once (SUM_FLOWS, APPLY_FLOWS); the rows it updates move them through the trigger, which
fires in every mode (migration 0006). The setting is back to origin before anything else runs.

Shipment public ids are time-ordered UUIDs (version 7, RFC 9562: 48 bits of milliseconds, then
74 random bits, still unguessable; uuid7_hex), so the unique index on public_id grows at its
right edge instead of at a random leaf per row: the INSERT of a million rows measured 20%
faster.
"""

import hashlib
import itertools
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from operator import attrgetter
from typing import Any

import psycopg
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from ..models import Dataset
from ..names import name_forms
from .types import CompanyRow, ShipmentRow

# Below this many rows the planner's statistics are left to autovacuum.
ANALYZE_AFTER_ROWS = 100_000
# Transaction-level advisory lock class: (this, dataset id) serialises imports into a dataset.
LOCK_CLASS = 0x1A7
SOURCE = "import"

ProgressCallback = Callable[[int], None]
Values = tuple[Any, ...]


@dataclass(frozen=True)
class LoadResult:
    read: int  # rows received from the parser
    imported: int  # new shipments (companies: new entities)
    updated: int  # existing key, changed values
    unchanged: int
    entities_created: int
    duplicates_in_file: int  # rows whose key an earlier line of the file already had


# --- Staging -----------------------------------------------------------------------------

# Party key: "i:<identifier>" when the row gives one, else "n:<ORDERED match key>" (the first
# of the name's keys, entities.names.name_forms, sent alone as "*_match": a name's other keys
# go once per batch into import_keys, not with every row); computed by Postgres while the rows
# are copied in (generated columns), not in Python.
_IDENT = "left(btrim({p}), 64)"
_PARTY_KEY = (
    "CASE WHEN btrim({p}) <> '' THEN 'i:' || left(btrim({p}), 64)"
    " WHEN {norm} <> '' THEN 'n:' || coalesce(nullif(substr({match}, 2), ''), {norm}) END"
)

SHIPMENT_COLUMNS = (
    "line",
    "import_key",
    "date",
    "hs_code",
    "declaration_number",
    "exporter",
    "exporter_norm",
    "exporter_match",
    "exporter_country",
    "exporter_id",
    "importer",
    "importer_norm",
    "importer_match",
    "importer_country",
    "importer_id",
    "origin_country",
    "destination_country",
    "dispatch_country",
    "description",
    "quantity",
    "unit",
    "value",
    "currency",
    "public_id",
)
# Keys are compared byte by byte (COLLATE "C"): the same equality, without the cost of the
# locale's collation in every sort, hash table and index of the merge.
KEY = 'text COLLATE "C"'
_SHIPMENT_TYPES = {
    "line": "integer",
    "import_key": KEY,
    "date": "date",
    "quantity": "numeric",
    "value": "numeric",
    "public_id": "uuid",
}
SHIPMENT_TABLES = f"""
CREATE TEMPORARY TABLE import_staging (
    {", ".join(f"{c} {_SHIPMENT_TYPES.get(c, 'text')}" for c in SHIPMENT_COLUMNS)},
    exporter_ident text GENERATED ALWAYS AS ({_IDENT.format(p="exporter_id")}) STORED,
    importer_ident text GENERATED ALWAYS AS ({_IDENT.format(p="importer_id")}) STORED,
    exporter_key {KEY} GENERATED ALWAYS AS
        ({_PARTY_KEY.format(p="exporter_id", norm="exporter_norm", match="exporter_match")})
        STORED,
    importer_key {KEY} GENERATED ALWAYS AS
        ({_PARTY_KEY.format(p="importer_id", norm="importer_norm", match="importer_match")})
        STORED
) ON COMMIT DROP;
-- The import_keys of earlier batches: a later line with one of them is a duplicate.
CREATE TEMPORARY TABLE import_seen (import_key {KEY} PRIMARY KEY) ON COMMIT DROP;
-- Trade flows of the shipments inserted so far, per batch (see SUM_FLOWS).
CREATE TEMPORARY TABLE import_flows (
    year smallint, hs_code text, origin_country text, destination_country text, currency text,
    total numeric, quantity numeric, shipments bigint, valued bigint, quantified bigint
) ON COMMIT DROP;
"""

COMPANY_COLUMNS = (
    "line",
    "import_key",
    "name",
    "norm",
    "match",
    "country",
    "registration_number",
    "scheme",
    "incorporation_date",
    "address",
)
_COMPANY_TYPES = {"line": "integer", "import_key": KEY}
COMPANY_TABLES = f"""
CREATE TEMPORARY TABLE import_staging (
    {", ".join(f"{c} {_COMPANY_TYPES.get(c, 'text')}" for c in COMPANY_COLUMNS)},
    ident text GENERATED ALWAYS AS ({_IDENT.format(p="registration_number")}) STORED,
    pkey {KEY} GENERATED ALWAYS AS
        ({_PARTY_KEY.format(p="registration_number", norm="norm", match="match")}) STORED
) ON COMMIT DROP;
"""

# Parties. Lookups in the shared tables are driven from the (small) batch tables, one index
# probe per batch row, whatever the statistics say: inside the import's transaction autovacuum
# cannot analyze the rows it adds, and a fresh database's statistics say "empty". Hence the
# OFFSET 0 in LATERAL and NOT EXISTS subqueries: without it the planner may turn the probes into
# a hash join over the whole table, once per batch. (Not LIMIT 1: with it, the planner bets on
# finding a row early and walks a whole dataset's index when there is none.)
PARTY_TABLES = f"""
-- Every party of the file so far and the entity it resolved to.
CREATE TEMPORARY TABLE import_party (
    pkey {KEY} PRIMARY KEY, entity_id bigint NOT NULL, created boolean NOT NULL
) ON COMMIT DROP;
-- The parties new in this batch, with what a new entity is made of.
CREATE TEMPORARY TABLE import_new (
    pkey {KEY} PRIMARY KEY,
    ident text NOT NULL,
    scheme text NOT NULL,
    name text NOT NULL,
    norm text NOT NULL,
    keys text[] NOT NULL,
    countries varchar(2)[] NOT NULL DEFAULT '{{}}',
    start_date text NOT NULL DEFAULT '',
    addresses text[] NOT NULL DEFAULT '{{}}',
    first_line integer NOT NULL,
    entity_id bigint,
    created boolean NOT NULL DEFAULT false
) ON COMMIT DROP;
-- Every spelling in this batch: party, name (and country), how often, and its first line.
CREATE TEMPORARY TABLE import_mention (
    pkey {KEY} NOT NULL,
    ident text NOT NULL,
    name text NOT NULL,
    norm text NOT NULL,
    keys text[] NOT NULL,
    country text NOT NULL,
    n bigint NOT NULL,
    first_line integer NOT NULL
) ON COMMIT DROP;
CREATE INDEX ON import_mention (pkey);
-- The spellings of the file so far: a spelling is checked against its entity's names once.
CREATE TEMPORARY TABLE import_spelling (
    pkey {KEY} NOT NULL, name {KEY} NOT NULL, PRIMARY KEY (pkey, name)
) ON COMMIT DROP;
-- Entities a company batch changed.
CREATE TEMPORARY TABLE import_touched (entity_id bigint NOT NULL) ON COMMIT DROP;
-- The match keys of the batch's names (entities.names.name_forms), once per name.
CREATE TEMPORARY TABLE import_keys (name text PRIMARY KEY, keys text[] NOT NULL) ON COMMIT DROP;
"""
TEMP_TABLES = (
    "import_staging",
    "import_seen",
    "import_flows",
    "import_existing",
    "import_party",
    "import_new",
    "import_mention",
    "import_spelling",
    "import_touched",
    "import_keys",
)

# The identifier schemes in use, by a loose index scan of identifier_lookup_idx (scheme, value):
# with them, "value = x" becomes "scheme = ANY(...) AND value = x", which that index serves.
SCHEMES = """
WITH RECURSIVE scheme AS (
    (SELECT scheme FROM entities_identifier ORDER BY scheme LIMIT 1)
    UNION ALL
    SELECT (SELECT i.scheme FROM entities_identifier AS i WHERE i.scheme > s.scheme
            ORDER BY i.scheme LIMIT 1)
    FROM scheme AS s WHERE s.scheme IS NOT NULL
)
SELECT coalesce(array_agg(scheme), '{}') FROM scheme WHERE scheme IS NOT NULL
"""


def _norm_of(name: str) -> tuple[str, str]:
    """Normalized form and match keys of a name the parser did not normalize."""
    norm, keys = name_forms(name)
    return norm or " ".join(name.casefold().split()), keys


def _row_key(values: Sequence[Any]) -> str:
    """A natural key for a row the parser gave none: a hash of its values."""
    text = "\x1f".join("" if v is None else str(v) for v in values)
    return "sha:" + hashlib.sha256(text.encode()).hexdigest()


def _completed_shipment(row: ShipmentRow) -> ShipmentRow:
    changes: dict[str, Any] = {}
    for party in ("exporter", "importer"):
        name = getattr(row, party)
        if name and not getattr(row, f"{party}_norm"):
            changes[f"{party}_norm"], changes[f"{party}_keys"] = _norm_of(name)
    if not row.import_key:
        changes["import_key"] = _row_key(attrgetter(*_SHIPMENT_FIELDS[2:])(row))
    return replace(row, **changes)


def _completed_company(row: CompanyRow) -> CompanyRow:
    changes: dict[str, Any] = {}
    if row.name and not row.norm:
        changes["norm"], changes["keys"] = _norm_of(row.name)
    if not row.import_key:
        changes["import_key"] = _row_key(
            attrgetter(*(c.replace("match", "keys") for c in COMPANY_COLUMNS[2:]))(row)
        )
    if not row.scheme:
        changes["scheme"] = "registration"
    return replace(row, **changes)


# The 4 bits after the version digit's 12 random bits: the variant (10xx) and 2 random bits.
_VARIANT = {f"{n:x}": f"{8 | n & 3:x}" for n in range(16)}


def uuid7_hex() -> Iterator[str]:
    """Version 7 UUIDs (RFC 9562) as 32 hex digits, time-ordered: the Unix time in milliseconds
    (48 bits), the version, then 74 random bits from os.urandom. Made here, not by the
    database: there the random part costs gen_random_uuid() per row (~2.5 s per million), and
    this thread has time to spare while the database merges."""
    while True:
        prefix = f"{time.time_ns() // 1_000_000:012x}7"
        rand = os.urandom(10 * 1024).hex()  # 20 hex digits per id, 19 used
        for i in range(0, len(rand), 20):
            yield prefix + rand[i : i + 3] + _VARIANT[rand[i + 3]] + rand[i + 4 : i + 19]


def _first_key(keys: str) -> str:
    """The first element of a name_forms keys literal ('{"6aspan arba",...}'): its ORDERED key
    (keys are ASCII words, spaces and "|": never a quote)."""
    return keys[2 : keys.find('"', 2)] if len(keys) > 2 else ""


# The rows' fields sent to staging, in its column order: a "*_match" column gets the first of
# the row's "*_keys".
_SHIPMENT_FIELDS = tuple(c.replace("_match", "_keys") for c in SHIPMENT_COLUMNS[:-1])
_EXPORTER_MATCH = SHIPMENT_COLUMNS.index("exporter_match")
_IMPORTER_MATCH = SHIPMENT_COLUMNS.index("importer_match")
_COMPANY_MATCH = COMPANY_COLUMNS.index("match")


def _shipment_values(rows: Iterable[ShipmentRow], book: dict[str, str]) -> Iterator[Values]:
    """Staging rows; each party name's keys go into `book` (name -> keys literal) instead."""
    get = attrgetter(*_SHIPMENT_FIELDS)
    for row, public_id in zip(rows, uuid7_hex(), strict=False):  # the ids never end
        if (
            not row.import_key
            or (row.exporter and not row.exporter_norm)
            or (row.importer and not row.importer_norm)
        ):
            row = _completed_shipment(row)
        values = [*get(row), public_id]
        if row.exporter:
            book[row.exporter[:500]] = row.exporter_keys
            values[_EXPORTER_MATCH] = _first_key(row.exporter_keys)
        if row.importer:
            book[row.importer[:500]] = row.importer_keys
            values[_IMPORTER_MATCH] = _first_key(row.importer_keys)
        yield tuple(values)


def _company_values(rows: Iterable[CompanyRow], book: dict[str, str]) -> Iterator[Values]:
    get = attrgetter(*(c.replace("match", "keys") for c in COMPANY_COLUMNS))
    for row in rows:
        if not row.import_key or not row.scheme or (row.name and not row.norm):
            row = _completed_company(row)
        values = list(get(row))
        if row.name:
            book[row.name[:500]] = row.keys
        values[_COMPANY_MATCH] = _first_key(row.keys)
        yield tuple(values)


def _batches(values: Iterable[Values], size: int) -> Iterator[list[Values]]:
    iterator = iter(values)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


Merge = Callable[[psycopg.Cursor], Counter[str]]


def _pipeline(
    batches: Iterator[list[Values]],
    *,
    columns: Sequence[str],
    merge: Merge,
    on_progress: ProgressCallback | None,
    book: dict[str, str],
) -> tuple[int, Counter[str]]:
    """COPY each batch into import_staging and merge it; returns rows read and merge counts.

    The merge of batch n runs in a helper thread while this thread pulls batch n + 1 from the
    parser; the connection is only ever used by one of the two at a time. on_progress runs
    here, between COPY and merge, so it may use the connection.
    """
    conn: psycopg.Connection = connection.connection
    copy_sql = f"COPY pg_temp.import_staging ({', '.join(columns)}) FROM STDIN"
    read = 0
    totals: Counter[str] = Counter()
    pending: Future[Counter[str]] | None = None
    # The merge thread is the critical path, and each of its statements takes the GIL back from
    # the parser several times (send, wait, read): hand it over in 0.5 ms, not the default 5.
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(min(switch_interval, 0.0005))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-merge") as pool:
        try:
            for batch in batches:
                if pending is not None:
                    with connection.wrap_database_errors:
                        totals += pending.result()
                    pending = None
                with connection.wrap_database_errors, conn.cursor() as cursor:
                    cursor.execute("TRUNCATE pg_temp.import_staging")
                    with cursor.copy(copy_sql) as copy:
                        for row in batch:
                            copy.write_row(row)
                read += len(batch)
                batch.clear()  # the next batch is parsed while this one merges
                if on_progress is not None:
                    on_progress(read)
                names = dict(book)  # the keys of this batch's names (the parser filled them)
                book.clear()
                pending = pool.submit(_merge_batch, conn, merge, names)
            if pending is not None:
                with connection.wrap_database_errors:
                    totals += pending.result()
                pending = None
        finally:
            if pending is not None:  # the parser failed: let the merge finish before rollback
                wait([pending])
            sys.setswitchinterval(switch_interval)
    return read, totals


# Whether this load may check the shipments' foreign keys per batch (see the module docstring).
BATCH_FOREIGN_KEYS = """
SELECT current_setting('session_replication_role') = 'origin'
       AND has_parameter_privilege('session_replication_role', 'SET')
"""

# What the per-row checks of the shipments' dataset_id would lock, once.
LOCK_DATASET = "SELECT 1 FROM entities_dataset WHERE id = %(dataset)s FOR KEY SHARE"

# What the per-row checks of exporter_id and importer_id would lock: the existing entities the
# batch's new parties resolved to (the other parties' entities were locked by an earlier batch,
# or made by this load). In id order, as every batch of every load takes them. An entity
# deleted since it was resolved is not locked, and fails the load.
LOCK_PARTIES = """
SELECT (SELECT count(DISTINCT entity_id) FROM pg_temp.import_new WHERE NOT created),
       (SELECT count(*) FROM (
           SELECT 1 FROM entities_entity
           WHERE id = ANY (ARRAY(SELECT entity_id FROM pg_temp.import_new WHERE NOT created))
           ORDER BY id FOR KEY SHARE
       ) AS locked)
"""


def _batch_foreign_keys(cursor: Any) -> bool:
    if not settings.IMPORT_BATCH_FOREIGN_KEYS:
        return False
    cursor.execute(BATCH_FOREIGN_KEYS)
    return bool(cursor.fetchone()[0])


class PartiesChanged(IntegrityError):
    """An entity a party resolved to was deleted before the batch locked it: a rare race with
    an entity merge or delete, which running the import again resolves."""


def _lock_parties(cursor: psycopg.Cursor) -> None:
    cursor.execute(LOCK_PARTIES)
    wanted, locked = cursor.fetchone() or (0, 0)
    if locked != wanted:
        raise PartiesChanged(
            f"{wanted - locked} of the entities this import links shipments to were deleted"
            " while it ran; nothing was imported"
        )


def _merge_batch(conn: psycopg.Connection, merge: Merge, names: dict[str, str]) -> Counter[str]:
    with conn.cursor() as cursor:
        cursor.execute("TRUNCATE pg_temp.import_keys")
        with cursor.copy("COPY pg_temp.import_keys (name, keys) FROM STDIN") as copy:
            for row in names.items():
                copy.write_row(row)
        counts = merge(cursor)
        # Check this batch's foreign keys now, while the parser works, not all at commit.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return counts


def _begin(cursor: Any, dataset: Dataset, tables_sql: str) -> list[str]:
    """Lock the dataset, make the temporary tables; returns the identifier schemes in use."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, dataset.pk])
    # Lasts until the end of the outer transaction: the merge's sorts and hashes stay in memory.
    # (No synchronous_commit = off: it only shortens commits, and there is one.)
    cursor.execute("SET LOCAL work_mem = '256MB'")
    _drop_temp_tables(cursor)  # left by an earlier load in the same outer transaction
    cursor.execute(tables_sql)
    cursor.execute(PARTY_TABLES)
    cursor.execute(SCHEMES)
    return list(cursor.fetchone()[0])


def _end(cursor: Any, *, read: int, tables: Sequence[str]) -> None:
    if read > ANALYZE_AFTER_ROWS:
        cursor.execute(f"ANALYZE {', '.join(tables)}")
    _drop_temp_tables(cursor)


def _drop_temp_tables(cursor: Any) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(f'pg_temp.{t}' for t in TEMP_TABLES)}")


def _count(cursor: psycopg.Cursor, sql: str, params: dict[str, Any] | None = None) -> int:
    cursor.execute(sql, params)
    row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


# --- Parties -----------------------------------------------------------------------------

SHIPMENT_MENTIONS = """
INSERT INTO pg_temp.import_mention
SELECT m.pkey, m.ident, m.name, m.norm, coalesce(k.keys, '{}'), m.country, m.n, m.first_line
FROM (
    SELECT pkey, ident, left(name, 500) AS name, left(norm, 500) AS norm,
           left(country, 2) AS country, count(*) AS n, min(line) AS first_line
    FROM (
        SELECT exporter_key AS pkey, exporter_ident AS ident, exporter AS name,
               exporter_norm AS norm, exporter_country AS country, line
        FROM pg_temp.import_staging WHERE exporter_key IS NOT NULL
        UNION ALL
        SELECT importer_key, importer_ident, importer, importer_norm, importer_country, line
        FROM pg_temp.import_staging WHERE importer_key IS NOT NULL
    ) AS s
    GROUP BY 1, 2, 3, 4, 5
) AS m
LEFT JOIN pg_temp.import_keys AS k ON k.name = m.name
"""

# Parties new in this batch, named by their most frequent spelling (the first on a tie), with
# the countries the rows give them.
SHIPMENT_NEW_PARTIES = """
INSERT INTO pg_temp.import_new (pkey, ident, scheme, name, norm, keys, countries, first_line)
SELECT DISTINCT ON (s.pkey) s.pkey, s.ident, 'registration', s.name, s.norm, s.keys,
       coalesce(c.countries, '{}'), s.first_line
FROM (
    SELECT pkey, ident, name, norm, keys, sum(n) AS n, min(first_line) AS first_line
    FROM pg_temp.import_mention GROUP BY pkey, ident, name, norm, keys
) AS s
LEFT JOIN (
    SELECT pkey, array_agg(DISTINCT country COLLATE "C" ORDER BY country COLLATE "C")
           AS countries
    FROM pg_temp.import_mention WHERE country <> '' GROUP BY pkey
) AS c USING (pkey)
WHERE NOT EXISTS (SELECT 1 FROM pg_temp.import_party AS p WHERE p.pkey = s.pkey)
ORDER BY s.pkey, s.name = '', s.n DESC, s.first_line
"""

COMPANY_MENTIONS = """
INSERT INTO pg_temp.import_mention
SELECT m.pkey, m.ident, m.name, m.norm, coalesce(k.keys, '{}'), '', m.n, m.first_line
FROM (
    SELECT pkey, ident, left(name, 500) AS name, left(norm, 500) AS norm, count(*) AS n,
           min(line) AS first_line
    FROM pg_temp.import_staging WHERE pkey IS NOT NULL
    GROUP BY 1, 2, 3, 4
) AS m
LEFT JOIN pg_temp.import_keys AS k ON k.name = m.name
"""

# Companies: the first row of a key wins; later rows with the key are duplicates.
COMPANY_NEW_PARTIES = """
INSERT INTO pg_temp.import_new
    (pkey, ident, scheme, name, norm, keys, countries, start_date, addresses, first_line)
SELECT DISTINCT ON (pkey) pkey, ident, CASE WHEN ident <> '' THEN left(scheme, 20) ELSE '' END,
       left(name, 500), left(norm, 500),
       coalesce((SELECT k.keys FROM pg_temp.import_keys AS k WHERE k.name = left(s.name, 500)),
                '{}'),
       CASE WHEN country <> '' THEN ARRAY[left(country, 2)] ELSE '{}' END,
       incorporation_date,
       CASE WHEN btrim(address) <> '' THEN ARRAY[btrim(address)] ELSE '{}' END,
       line
FROM pg_temp.import_staging AS s
WHERE pkey IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM pg_temp.import_party AS p WHERE p.pkey = s.pkey)
ORDER BY pkey, line
"""

# "+ 0" keeps the planner off the dataset_id indexes (a whole dataset per probe): the name or
# identifier index finds the few candidates, the dataset filters them.
RESOLVE_BY_IDENTIFIER = """
UPDATE pg_temp.import_new AS p SET entity_id = (
    SELECT min(i.entity_id)
    FROM entities_identifier AS i JOIN entities_entity AS e ON e.id = i.entity_id
    WHERE i.scheme = ANY(%(schemes)s) AND i.value = p.ident AND e.dataset_id + 0 = %(dataset)s
)
WHERE p.ident <> ''
"""

# By name: the entity whose ORDERED key (entities_namekey, kind 6) equal to the party's was
# recorded first. Not the lowest entity id: an import adds aliases to older entities, and a
# re-import would then pick an older namesake; keys added later never come first, so a
# re-import decides as before. ("c.id + 0" keeps min() off the primary key index: walking it
# in order, filtering by key, looks cheap to the planner and reads the whole table.)
# Any spelling of an identified party may match, but only entities without identifiers.
RESOLVE_IDENTIFIED_BY_NAME = """
UPDATE pg_temp.import_new AS p SET entity_id = (
    SELECT k.entity_id FROM entities_namekey AS k WHERE k.id = (
        SELECT min(c.id + 0)
        FROM pg_temp.import_mention AS mn
        JOIN entities_namekey AS c
          ON c.kind = 6 AND c.key = substr(mn.keys[1], 2) AND c.investigation_id IS NULL
        WHERE mn.pkey = p.pkey AND mn.keys[1] LIKE '6%%' AND c.dataset_id + 0 = %(dataset)s
          AND NOT EXISTS (
              SELECT 1 FROM entities_identifier AS i WHERE i.entity_id = c.entity_id OFFSET 0
          )
    )
)
WHERE p.ident <> '' AND p.entity_id IS NULL
"""

RESOLVE_BY_NAME = """
UPDATE pg_temp.import_new AS p SET entity_id = (
    SELECT k.entity_id FROM entities_namekey AS k WHERE k.id = (
        SELECT min(c.id + 0) FROM entities_namekey AS c
        -- The party key is COLLATE "C"; the index has the database's collation.
        WHERE c.kind = 6 AND c.key = substr(p.pkey, 3) COLLATE "default"
          AND c.investigation_id IS NULL
          AND c.dataset_id + 0 = %(dataset)s
    )
)
WHERE p.ident = '' AND p.entity_id IS NULL
"""

# Ids from the table's sequence first, so the party table knows them before the INSERT.
CLAIM_IDS = """
UPDATE pg_temp.import_new
SET entity_id = nextval(pg_get_serial_sequence('entities_entity', 'id')), created = true
WHERE entity_id IS NULL AND (ident <> '') = %(identified)s
"""

# Every NOT NULL column of Entity with the model's defaults (Django sets no database defaults).
CREATE_ENTITIES = """
INSERT INTO entities_entity (
    id, public_id, schema, name, aliases, countries, nationality, start_date, end_date,
    addresses, notes, source, created_by_id, created_at, updated_at, ftm_id, extra,
    dataset_id, investigation_id
)
SELECT entity_id, gen_random_uuid(), 'Company', CASE WHEN name <> '' THEN name ELSE ident END,
       '{}', countries, '{}', start_date, '', addresses, '', %(source)s, NULL, now(), now(),
       '', '{}', %(dataset)s, NULL
FROM pg_temp.import_new
WHERE created AND (ident <> '') = %(identified)s
"""

CREATE_NAMES = """
INSERT INTO entities_entityname (entity_id, investigation_id, dataset_id, name, norm)
SELECT entity_id, NULL, %(dataset)s, CASE WHEN name <> '' THEN name ELSE ident END,
       CASE WHEN name <> '' THEN norm ELSE lower(ident) END
FROM pg_temp.import_new
WHERE created AND (ident <> '') = %(identified)s
"""

# The keys the parser computed (entities.names.name_forms: kind digit, then key).
CREATE_KEYS = """
INSERT INTO entities_namekey (entity_id, investigation_id, dataset_id, kind, key)
SELECT DISTINCT p.entity_id, NULL::bigint, %(dataset)s::bigint, substr(k, 1, 1)::smallint,
       substr(k, 2)
FROM pg_temp.import_new AS p CROSS JOIN unnest(p.keys) AS k
WHERE p.created AND (p.ident <> '') = %(identified)s
"""

# A registry knows the scheme a shipment file could not tell: "registration" becomes "kz_bin".
UPGRADE_SCHEMES = """
WITH upgraded AS (
    UPDATE entities_identifier AS i SET scheme = p.scheme
    FROM pg_temp.import_new AS p
    WHERE i.entity_id = p.entity_id AND i.value = p.ident AND i.scheme = 'registration'
      AND p.ident <> '' AND p.scheme NOT IN ('', 'registration')
      AND NOT EXISTS (
          SELECT 1 FROM entities_identifier AS o
          WHERE o.entity_id = i.entity_id AND o.scheme = p.scheme AND o.value = p.ident
      )
    RETURNING i.entity_id
)
INSERT INTO pg_temp.import_touched SELECT entity_id FROM upgraded
"""

ADD_IDENTIFIERS = """
WITH added AS (
    INSERT INTO entities_identifier (entity_id, scheme, value)
    SELECT p.entity_id, p.scheme, p.ident FROM pg_temp.import_new AS p
    WHERE p.ident <> '' AND NOT EXISTS (
        SELECT 1 FROM entities_identifier AS i
        WHERE i.entity_id = p.entity_id AND i.value = p.ident OFFSET 0
    )
    RETURNING entity_id
)
INSERT INTO pg_temp.import_touched SELECT entity_id FROM added
"""

REMEMBER_PARTIES = """
INSERT INTO pg_temp.import_party SELECT pkey, entity_id, created FROM pg_temp.import_new
"""

# Spellings new to the file that their entity does not have yet (case-insensitively) become
# aliases and search names.
ADD_ALIASES = """
WITH new_spelling AS (
    INSERT INTO pg_temp.import_spelling
    SELECT DISTINCT pkey, name COLLATE "C" FROM pg_temp.import_mention WHERE name <> ''
    ON CONFLICT DO NOTHING
    RETURNING pkey, name
), spelling AS (
    SELECT DISTINCT ON (p.entity_id, lower(m.name)) p.entity_id, m.name, m.norm, m.keys,
           m.first_line
    FROM new_spelling AS ns
    JOIN pg_temp.import_mention AS m ON m.pkey = ns.pkey AND m.name COLLATE "C" = ns.name
    JOIN pg_temp.import_party AS p ON p.pkey = ns.pkey
    ORDER BY p.entity_id, lower(m.name), m.first_line
), fresh AS (
    SELECT s.* FROM spelling AS s
    CROSS JOIN LATERAL (
        SELECT name, aliases FROM entities_entity WHERE id = s.entity_id OFFSET 0
    ) AS e
    WHERE lower(s.name) <> lower(e.name)
      AND NOT EXISTS (SELECT 1 FROM unnest(e.aliases) AS a WHERE lower(a) = lower(s.name))
), named AS (
    INSERT INTO entities_entityname (entity_id, investigation_id, dataset_id, name, norm)
    SELECT f.entity_id, NULL, %(dataset)s, f.name, f.norm FROM fresh AS f
    WHERE NOT EXISTS (
        SELECT 1 FROM entities_entityname AS en
        WHERE en.entity_id = f.entity_id AND lower(en.name) = lower(f.name) OFFSET 0
    )
), keyed AS (
    -- The new spellings' keys the entity does not have yet (an index probe each).
    INSERT INTO entities_namekey (entity_id, investigation_id, dataset_id, kind, key)
    SELECT DISTINCT f.entity_id, NULL::bigint, %(dataset)s::bigint, substr(k, 1, 1)::smallint,
           substr(k, 2)
    FROM fresh AS f CROSS JOIN unnest(f.keys) AS k
    WHERE NOT EXISTS (
        SELECT 1 FROM entities_namekey AS nk
        WHERE nk.kind = substr(k, 1, 1)::smallint AND nk.key = substr(k, 2)
          AND nk.investigation_id IS NULL AND nk.entity_id = f.entity_id OFFSET 0
    )
), aliased AS (
    UPDATE entities_entity AS e
    SET aliases = e.aliases || a.names, updated_at = now()
    FROM (
        SELECT entity_id, array_agg(name ORDER BY first_line)::varchar(500)[] AS names
        FROM fresh GROUP BY entity_id
    ) AS a
    WHERE e.id = ANY (ARRAY(SELECT entity_id FROM fresh)) AND e.id = a.entity_id
    RETURNING e.id
)
INSERT INTO pg_temp.import_touched SELECT id FROM aliased
"""


def _resolve_parties(cursor: psycopg.Cursor, params: dict[str, Any], *, new: int) -> int:
    """Point the batch's `new` parties at entities of the dataset; returns how many it made.

    Identified parties are created before the others, so a name given once with an identifier
    and once without resolves to the one entity. Spellings new to the file become aliases.
    """
    created = 0
    if new:
        cursor.execute(RESOLVE_BY_IDENTIFIER, params)
        cursor.execute(RESOLVE_IDENTIFIED_BY_NAME, params)
        for identified in (True, False):
            step = {**params, "identified": identified}
            if not identified:
                cursor.execute(RESOLVE_BY_NAME, step)
            cursor.execute(CLAIM_IDS, step)
            if cursor.rowcount:
                created += cursor.rowcount
                cursor.execute(CREATE_ENTITIES, step)
                cursor.execute(CREATE_NAMES, step)
                cursor.execute(CREATE_KEYS, step)
        cursor.execute(UPGRADE_SCHEMES, params)
        cursor.execute(ADD_IDENTIFIERS, params)
        cursor.execute(REMEMBER_PARTIES, params)
    cursor.execute(ADD_ALIASES, params)
    return created


# --- Shipments ---------------------------------------------------------------------------

# Later lines of the batch with the import_key of an earlier line are dropped.
DROP_DUPLICATES = """
WITH duplicate AS (
    SELECT ctid FROM (
        SELECT ctid, row_number() OVER (PARTITION BY import_key ORDER BY line, ctid) AS nth
        FROM pg_temp.import_staging
        WHERE import_key IN (
            SELECT import_key FROM pg_temp.import_staging
            GROUP BY import_key HAVING count(*) > 1
        )
    ) AS numbered
    WHERE nth > 1
), dropped AS (
    DELETE FROM pg_temp.import_staging AS s USING duplicate AS d WHERE s.ctid = d.ctid
    RETURNING 1
)
SELECT count(*) FROM dropped
"""

# So are lines with the import_key of an earlier batch (rows arrive in file order); the keys
# left are new to the file. (A probe and a plain INSERT: 30% faster than INSERT ... ON CONFLICT
# DO NOTHING RETURNING and a NOT IN of what it returned.)
DROP_SEEN = """
WITH dropped AS (
    DELETE FROM pg_temp.import_staging AS s
    WHERE EXISTS (
        SELECT 1 FROM pg_temp.import_seen AS x WHERE x.import_key = s.import_key OFFSET 0
    )
    RETURNING 1
)
SELECT count(*) FROM dropped
"""
REMEMBER_SEEN = "INSERT INTO pg_temp.import_seen SELECT import_key FROM pg_temp.import_staging"

# The values a re-import compares, as stored: numbers with the columns' scale (120000 and
# 120000.00 are the same value), NULL and '' told apart by the row's text form.
STORED_VALUES = (
    "date, exporter_id, importer_id, origin_country, destination_country, dispatch_country,"
    " hs_code, description, quantity, unit, value, currency, declaration_number"
)
NEW_VALUES = (
    "s.date, pe.entity_id, pi.entity_id, s.origin_country, s.destination_country,"
    " s.dispatch_country, s.hs_code, s.description, s.quantity::numeric(20, 3), s.unit,"
    " s.value::numeric(20, 2), s.currency, s.declaration_number"
)

# The dataset's shipments before this load, by import_key, with a digest of their values:
# taken once, so that no batch probes entities_shipment. (Probing it by (dataset, import_key)
# looks cheap to the planner when the statistics predate the dataset, and it then walks the
# dataset_id index: every row of the dataset, for every row of the batch.)
EXISTING = f"""
CREATE TEMPORARY TABLE import_existing ON COMMIT DROP AS
SELECT import_key COLLATE "C" AS import_key, id, md5(row({STORED_VALUES})::text)::uuid AS digest
FROM entities_shipment WHERE dataset_id = %(dataset)s AND import_key <> '';
ALTER TABLE import_existing ADD PRIMARY KEY (import_key);
ANALYZE import_existing;
"""  # noqa: S608  (built from the constants above, never from input)

# The batch's rows with their parties' entities and, in `old_id`, the shipment they update.
# A dataset without shipments before this load (a first import) has nothing to update: the rows
# go straight to the INSERT, without the snapshot probe and a materialized copy of the batch.
SRC_FIRST_LOAD = """
src AS (
    SELECT s.*, pe.entity_id AS exporter_entity, pi.entity_id AS importer_entity,
           NULL::bigint AS old_id
    FROM pg_temp.import_staging AS s
    LEFT JOIN pg_temp.import_party AS pe ON pe.pkey = s.exporter_key
    LEFT JOIN pg_temp.import_party AS pi ON pi.pkey = s.importer_key
)"""
SRC_RELOAD = f"""
src AS MATERIALIZED (
    SELECT s.*, pe.entity_id AS exporter_entity, pi.entity_id AS importer_entity, x.id AS old_id,
           x.id IS NOT NULL AND x.digest <> md5(row({NEW_VALUES})::text)::uuid AS changed
    FROM pg_temp.import_staging AS s
    LEFT JOIN pg_temp.import_party AS pe ON pe.pkey = s.exporter_key
    LEFT JOIN pg_temp.import_party AS pi ON pi.pkey = s.importer_key
    -- One probe of the snapshot's primary key per row, not a hash of the whole snapshot per
    -- batch (which a re-import of a million rows would build twenty times).
    LEFT JOIN LATERAL (
        SELECT id, digest FROM pg_temp.import_existing AS e
        WHERE e.import_key = s.import_key OFFSET 0
    ) AS x ON true
), updated AS (
    UPDATE entities_shipment AS t SET
        date = s.date, exporter_id = s.exporter_entity, importer_id = s.importer_entity,
        origin_country = s.origin_country, destination_country = s.destination_country,
        dispatch_country = s.dispatch_country, hs_code = s.hs_code, description = s.description,
        quantity = s.quantity, unit = s.unit, value = s.value, currency = s.currency,
        declaration_number = s.declaration_number, updated_at = now()
    FROM src AS s
    WHERE t.id = ANY (ARRAY(SELECT old_id FROM src WHERE old_id IS NOT NULL AND changed))
      AND t.id = s.old_id
    RETURNING 1
)"""  # noqa: S608  (built from the constants above, never from input)

# The trade flows of the rows inserted, summed per batch into import_flows and added to the
# summary once, by APPLY_FLOWS, when the INSERT runs without row triggers and so without
# shipment_flows_insert (each batch touches ~16,000 of a million-row dataset's ~25,000 sums:
# 8 s of upserts). The same sums as that trigger's (migration 0005); the flow tests compare
# the summary with the shipments.
SUM_FLOWS = """, flows AS (
    INSERT INTO pg_temp.import_flows
    SELECT extract(year FROM date)::smallint, hs_code, origin_country, destination_country,
           currency, coalesce(sum(value), 0), coalesce(sum(quantity), 0), count(*),
           count(value), count(quantity)
    FROM inserted GROUP BY 1, 2, 3, 4, 5
)"""
# In the trigger's key order, as every writer takes the summary's rows.
APPLY_FLOWS = """
INSERT INTO entities_flowsummary AS f (
    dataset_id, year, hs_code, origin_country, destination_country, currency,
    total, quantity, shipments, valued, quantified
)
SELECT %(dataset)s, year, hs_code, origin_country, destination_country, currency,
       sum(total), sum(quantity), sum(shipments), sum(valued), sum(quantified)
FROM pg_temp.import_flows
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1, 2, 3, 4, 5, 6
ON CONFLICT (dataset_id, year, hs_code, origin_country, destination_country, currency)
DO UPDATE SET
    total = f.total + excluded.total, quantity = f.quantity + excluded.quantity,
    shipments = f.shipments + excluded.shipments, valued = f.valued + excluded.valued,
    quantified = f.quantified + excluded.quantified
"""

# An UPDATE of the existing rows whose values differ, an INSERT of the new ones. Not INSERT ...
# ON CONFLICT DO UPDATE: its speculative insertion measured 15% slower for a million new rows,
# and the advisory lock already rules out a concurrent import of the same keys (the unique
# index still guards against one). Public ids come from uuid7_hex().
_MERGE_SHIPMENTS = """
WITH {src}, inserted AS (
    INSERT INTO entities_shipment (
        public_id, date, exporter_id, importer_id, origin_country, destination_country,
        dispatch_country, hs_code, description, quantity, unit, value, currency,
        declaration_number, source, created_by_id, created_at, updated_at, import_key, ftm_id,
        extra, dataset_id, investigation_id
    )
    SELECT public_id, date, exporter_entity, importer_entity, origin_country,
           destination_country, dispatch_country, hs_code, description, quantity, unit, value,
           currency, declaration_number, %(source)s, NULL, now(), now(), import_key, '',
           jsonb_build_object(), %(dataset)s, NULL
    FROM src WHERE old_id IS NULL
    RETURNING date, hs_code, origin_country, destination_country, currency, value, quantity
){flows}
SELECT (SELECT count(*) FROM inserted), {updated}
"""


def merge_shipments_sql(*, first_load: bool, sum_flows: bool) -> str:
    return _MERGE_SHIPMENTS.format(
        src=SRC_FIRST_LOAD if first_load else SRC_RELOAD,
        flows=SUM_FLOWS if sum_flows else "",
        updated="0" if first_load else "(SELECT count(*) FROM updated)",
    )


def _merge_shipments(
    cursor: psycopg.Cursor, params: dict[str, Any], *, merge_sql: str, batch_foreign_keys: bool
) -> Counter[str]:
    counts: Counter[str] = Counter()
    cursor.execute("TRUNCATE pg_temp.import_mention, pg_temp.import_new")
    cursor.execute(SHIPMENT_MENTIONS, params)
    cursor.execute(SHIPMENT_NEW_PARTIES, params)
    counts["entities_created"] = _resolve_parties(cursor, params, new=cursor.rowcount)
    counts["duplicates"] = _count(cursor, DROP_DUPLICATES) + _count(cursor, DROP_SEEN)
    cursor.execute(REMEMBER_SEEN)
    # Needed with per-batch checks; with per-row checks it turns the race into PartiesChanged,
    # which the task retries, instead of a foreign-key violation.
    _lock_parties(cursor)
    if batch_foreign_keys:
        # For this statement only; an error rolls it back with the savepoint.
        cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute(merge_sql, params)
    counts["imported"], counts["updated"] = cursor.fetchone() or (0, 0)
    if batch_foreign_keys:
        cursor.execute("SET LOCAL session_replication_role = origin")
    return counts


def load_shipments(
    rows: Iterable[ShipmentRow],
    *,
    dataset: Dataset,
    on_progress: ProgressCallback | None = None,
    batch_size: int = 50_000,
) -> LoadResult:
    """Insert or update shipments by (dataset, import_key), resolving parties to entities.

    One transaction (a savepoint when the caller has one): all of the file or nothing.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        schemes = _begin(cursor, dataset, SHIPMENT_TABLES)
        params = {"dataset": dataset.pk, "source": SOURCE, "schemes": schemes}
        batch_foreign_keys = _batch_foreign_keys(cursor)
        cursor.execute(LOCK_DATASET, params)
        cursor.execute(EXISTING, params)
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_temp.import_existing)")
        merge_sql = merge_shipments_sql(
            first_load=not cursor.fetchone()[0], sum_flows=batch_foreign_keys
        )
        read, counts = _pipeline(
            _batches(_shipment_values(rows, book := {}), batch_size),
            columns=SHIPMENT_COLUMNS,
            merge=lambda c: _merge_shipments(
                c, params, merge_sql=merge_sql, batch_foreign_keys=batch_foreign_keys
            ),
            on_progress=on_progress,
            book=book,
        )
        if batch_foreign_keys:
            cursor.execute(APPLY_FLOWS, params)
        _end(
            cursor,
            read=read,
            tables=(
                "entities_shipment",
                "entities_entity",
                "entities_entityname",
                "entities_namekey",
                "entities_identifier",
            ),
        )
    return LoadResult(
        read=read,
        imported=counts["imported"],
        updated=counts["updated"],
        unchanged=read - counts["duplicates"] - counts["imported"] - counts["updated"],
        entities_created=counts["entities_created"],
        duplicates_in_file=counts["duplicates"],
    )


# --- Companies ---------------------------------------------------------------------------

# Existing entities gain the batch's countries / addresses they do not have yet (unions).
_ADD_TO_ARRAY = """
WITH changed AS (
    UPDATE entities_entity AS e SET {column} = e.{column} || n.{column}, updated_at = now()
    FROM (
        SELECT p.entity_id, array_agg(DISTINCT v ORDER BY v){cast} AS {column}
        FROM pg_temp.import_new AS p
        CROSS JOIN LATERAL (
            SELECT {column} FROM entities_entity WHERE id = p.entity_id OFFSET 0
        ) AS x
        CROSS JOIN unnest(p.{column}) AS v
        WHERE NOT p.created AND v <> ALL (x.{column})
        GROUP BY p.entity_id
    ) AS n
    WHERE e.id = ANY (ARRAY(SELECT entity_id FROM pg_temp.import_new WHERE NOT created))
      AND e.id = n.entity_id
    RETURNING e.id
)
INSERT INTO pg_temp.import_touched SELECT id FROM changed
"""
ADD_COUNTRIES = _ADD_TO_ARRAY.format(column="countries", cast="::varchar(2)[]")
ADD_ADDRESSES = _ADD_TO_ARRAY.format(column="addresses", cast="")

# The registry's incorporation date replaces ours, unless it would end before it starts.
SET_START_DATES = """
WITH changed AS (
    UPDATE entities_entity AS e SET start_date = n.start_date, updated_at = now()
    FROM (
        SELECT DISTINCT ON (entity_id) entity_id, start_date FROM pg_temp.import_new
        WHERE NOT created AND start_date <> ''
        ORDER BY entity_id, first_line
    ) AS n
    WHERE e.id = ANY (ARRAY(SELECT entity_id FROM pg_temp.import_new WHERE NOT created))
      AND e.id = n.entity_id AND e.start_date <> n.start_date
      AND (e.end_date = '' OR e.end_date >= n.start_date)
    RETURNING e.id
)
INSERT INTO pg_temp.import_touched SELECT id FROM changed
"""

# New keys that made an entity, new keys whose entity changed, and rows whose key an earlier
# row (of this batch or an earlier one) had.
COMPANY_COUNTS = """
SELECT count(*) FILTER (WHERE created),
       count(*) FILTER (
           WHERE NOT created AND entity_id IN (SELECT entity_id FROM pg_temp.import_touched)
       ),
       (SELECT count(*) FROM pg_temp.import_staging WHERE pkey IS NOT NULL) - count(*)
FROM pg_temp.import_new
"""


def _merge_companies(cursor: psycopg.Cursor, params: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    cursor.execute("TRUNCATE pg_temp.import_mention, pg_temp.import_new, pg_temp.import_touched")
    cursor.execute(COMPANY_MENTIONS, params)
    cursor.execute(COMPANY_NEW_PARTIES, params)
    counts["entities_created"] = _resolve_parties(cursor, params, new=cursor.rowcount)
    for sql in (ADD_COUNTRIES, ADD_ADDRESSES, SET_START_DATES):
        cursor.execute(sql, params)
    cursor.execute(COMPANY_COUNTS, params)
    counts["imported"], counts["updated"], counts["duplicates"] = cursor.fetchone() or (0, 0, 0)
    return counts


def load_companies(
    rows: Iterable[CompanyRow],
    *,
    dataset: Dataset,
    on_progress: ProgressCallback | None = None,
    batch_size: int = 50_000,
) -> LoadResult:
    """Create or update company entities of a registry extract (by identifier, else name).

    Existing entities gain the row's country, address and identifier (unions: nothing is
    dropped) and its incorporation date; other spellings become aliases. One transaction.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        schemes = _begin(cursor, dataset, COMPANY_TABLES)
        params = {"dataset": dataset.pk, "source": SOURCE, "schemes": schemes}
        read, counts = _pipeline(
            _batches(_company_values(rows, book := {}), batch_size),
            columns=COMPANY_COLUMNS,
            merge=lambda c: _merge_companies(c, params),
            on_progress=on_progress,
            book=book,
        )
        _end(
            cursor,
            read=read,
            tables=(
                "entities_entity",
                "entities_entityname",
                "entities_namekey",
                "entities_identifier",
            ),
        )
    return LoadResult(
        read=read,
        imported=counts["imported"],
        updated=counts["updated"],
        # Rows with neither a name nor a number (the parser rejects them) count as unchanged.
        unchanged=read - counts["duplicates"] - counts["imported"] - counts["updated"],
        entities_created=counts["entities_created"],
        duplicates_in_file=counts["duplicates"],
    )
