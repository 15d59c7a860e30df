"""Batch screening: a CSV of names (optional countries, dates of birth) against the datasets and
the case files the person is a member of; each row's best matches, as a page or a CSV.

Bounded: SCREENING_MAX_BYTES per file, SCREENING_MAX_ROWS rows. A row with an empty name, an
unknown country or an impossible date is reported with its line and column and not screened;
the others are. Matching goes through entities.analysis.matching.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

from investigations import access

from ..importing.parse import _Bad, parse_country, parse_partial_date
from ..importing.readers import UnreadableFile, open_table
from ..models import Entity
from . import matching

MATCHES_PER_ROW = 3
MIN_SCORE = 0.5
# Header names (lower case) for each column; the first column is the name when none matches.
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "full name",
        "full_name",
        "entity",
        "company",
        "person",
        "имя",
        "фио",
        "наименование",
        "название",
    ),
    "country": (
        "country",
        "countries",
        "nationality",
        "jurisdiction",
        "citizenship",
        "страна",
        "гражданство",
    ),
    "date_of_birth": (
        "date_of_birth",
        "date of birth",
        "dob",
        "birth date",
        "birthdate",
        "born",
        "дата рождения",
    ),
}


class ScreeningError(Exception):
    """The file as a whole cannot be screened; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Query:
    line: int
    name: str
    countries: list[str]
    date_of_birth: str  # ISO, possibly partial ("1975", "1975-04"), or ""


@dataclass
class BadRow:
    line: int
    column: str
    value: str
    reason: str


@dataclass
class Match:
    entity: Entity
    matched_name: str
    score: float
    reasons: list[str]
    sanctioned: bool
    topics: str
    url: str = ""  # set by the view


@dataclass
class Screened:
    query: Query
    matches: list[Match] = field(default_factory=list)


@dataclass
class ScreeningResult:
    rows: list[Screened]
    bad: list[BadRow]


def _columns(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = header.strip().casefold()
        for column, names in COLUMNS.items():
            if key in names and column not in found:
                found[column] = index
    if "name" not in found:
        if "country" in found or "date_of_birth" in found or not headers:
            raise ScreeningError("The file needs a “name” column.")
        found["name"] = 0
    return found


def _parse_row(line: int, values: list[str], columns: dict[str, int]) -> Query | BadRow:
    def cell(column: str) -> str:
        index = columns.get(column)
        return values[index].strip() if index is not None and index < len(values) else ""

    name = cell("name")
    if not name:
        return BadRow(line, "name", "", "a name is required")
    countries = []
    for raw in re.split(r"[;,/]", cell("country")):
        if raw.strip():
            code = parse_country(raw.strip())
            if isinstance(code, _Bad):
                return BadRow(line, "country", raw.strip(), str(code))
            if code:
                countries.append(code)
    dob = cell("date_of_birth")
    if dob:
        parsed = parse_partial_date(dob)
        if isinstance(parsed, _Bad):
            return BadRow(line, "date_of_birth", dob, str(parsed))
        dob = parsed
    return Query(line, name[:500], list(dict.fromkeys(countries)), dob)


def read_queries(path: Path, *, filename: str = "") -> tuple[list[Query], list[BadRow]]:
    """The rows of an uploaded file, good and bad; ScreeningError for the file as a whole."""
    try:
        table = open_table(path, filename=filename)
        columns = _columns(table.headers)
        queries, bad = [], []
        rows = table.rows()
        try:
            for count, (line, values) in enumerate(rows, start=1):
                if count > settings.SCREENING_MAX_ROWS:
                    raise ScreeningError(
                        f"The file has more than {settings.SCREENING_MAX_ROWS:,} rows; "
                        "split it into smaller files."
                    )
                parsed = _parse_row(line, values, columns)
                (queries if isinstance(parsed, Query) else bad).append(parsed)
        finally:
            rows.close()
    except UnreadableFile as exc:
        raise ScreeningError(f"The file cannot be read: {exc.reason}") from exc
    return queries, bad


# Candidates per row: equal normalized names, similar ones (trigram index), equal NAME keys
# (the same words in any order or transliteration: entities_namekey, as search reads it); only
# names of datasets and of %(cases)s (the person's case files), in the WHERE clause itself.
# Then the best per entity, with the entity's countries and dates.
_MATCH_SQL = """
WITH q AS (
    SELECT * FROM UNNEST(%(n)s::int[], %(norms)s::text[]) AS q(n, norm)
), qk AS (
    SELECT * FROM UNNEST(%(key_n)s::int[], %(keys)s::text[]) AS qk(n, key)
), candidates AS (
    SELECT q.n, c.entity_id, c.name, c.score FROM q CROSS JOIN LATERAL (
        (SELECT e.entity_id, e.name, 1.0::float AS score FROM entities_entityname e
          WHERE e.norm = q.norm AND q.norm <> ''
            AND (e.dataset_id IS NOT NULL OR e.investigation_id = ANY(%(cases)s)) LIMIT 50)
        UNION ALL
        (SELECT e.entity_id, e.name, SIMILARITY(e.norm, q.norm)::float FROM entities_entityname e
          WHERE e.norm %% q.norm AND q.norm <> ''
            AND (e.dataset_id IS NOT NULL OR e.investigation_id = ANY(%(cases)s))
          ORDER BY SIMILARITY(e.norm, q.norm) DESC LIMIT 20)
    ) c
    UNION ALL
    SELECT qk.n, c.entity_id, c.name, c.score FROM qk CROSS JOIN LATERAL (
        SELECT k.entity_id, e.name, %(key_score)s::float AS score
          FROM entities_namekey k JOIN entities_entity e ON e.id = k.entity_id
         WHERE k.kind = %(name_kind)s AND k.key = qk.key
           AND (k.dataset_id IS NOT NULL OR k.investigation_id = ANY(%(cases)s)) LIMIT 20
    ) c
)
SELECT DISTINCT ON (n, entity_id) n, entity_id, name, score FROM candidates
 ORDER BY n, entity_id, score DESC
"""
# Same words, another order or transliteration: below an equal normalized name.
KEY_SCORE = 0.9


Candidate = tuple[int, str, float]  # entity id, the name that matched, name score


def _candidates(queries: list[Query], case_ids: list[int]) -> dict[int, list[Candidate]]:
    forms = [matching.query_forms(q.name) for q in queries]
    keyed = [(n, key) for n, (_, keys) in enumerate(forms) for key in keys]
    with connection.cursor() as cursor:
        cursor.execute(
            _MATCH_SQL,
            {
                "n": list(range(len(queries))),
                "norms": [norm for norm, _ in forms],
                "key_n": [n for n, _ in keyed],
                "keys": [key for _, key in keyed],
                "cases": case_ids,
                "key_score": KEY_SCORE,
                "name_kind": int(matching.NameKind.NAME),
            },
        )
        rows = cursor.fetchall()
    out: dict[int, list[Candidate]] = {}
    for n, entity_id, name, score in rows:
        out.setdefault(n, []).append((entity_id, name, float(score)))
    return out


def _adjust(query: Query, entity: Entity, score: float) -> tuple[float, list[str]]:
    """Country and date of birth raise or lower a name's score, and say so. Another date of
    birth weighs most: a namesake born years apart is another person."""
    reasons = ["same name" if score >= 1 else f"similar name ({score:.2f})"]
    theirs = set(entity.countries) | set(entity.nationality)
    if query.countries and theirs:
        if theirs & set(query.countries):
            score, _ = min(1.0, score + 0.05), reasons.append("same country")
        else:
            score, _ = score - 0.15, reasons.append("other country")
    if query.date_of_birth and entity.is_person and entity.start_date:
        a, b = query.date_of_birth, entity.start_date
        if a.startswith(b) or b.startswith(a):
            score, _ = min(1.0, score + 0.05), reasons.append("same date of birth")
        else:
            score, _ = score - 0.6, reasons.append(f"born {b}")
    return round(score, 3), reasons


def _sanction_topics(entity: Entity) -> list[str]:
    topics = (entity.extra or {}).get("topics") or []
    return [t for t in topics if isinstance(t, str) and t in matching.SANCTION_TOPICS]


def screen(*, user, queries: list[Query]) -> list[Screened]:
    """Each query's best matches (at most MATCHES_PER_ROW, score >= MIN_SCORE): 3 queries."""
    if not queries:
        return []
    case_ids = list(access.visible_investigations(user).values_list("pk", flat=True))
    found = _candidates(queries, case_ids)
    entities = (
        Entity.objects.select_related("dataset", "investigation")
        .prefetch_related("identifiers")
        .in_bulk({e for rows in found.values() for e, _, _ in rows})
    )
    results = []
    for n, query in enumerate(queries):
        matches = []
        for entity_id, name, score in found.get(n, []):
            entity = entities.get(entity_id)
            # Belt and braces: the SQL already kept only datasets and the person's case files.
            if entity is None or (
                entity.dataset_id is None and entity.investigation_id not in case_ids
            ):
                continue
            adjusted, reasons = _adjust(query, entity, score)
            if adjusted < MIN_SCORE:
                continue
            topics = _sanction_topics(entity)
            listed = bool(entity.dataset_id and entity.dataset.is_sanctions_list)
            matches.append(
                Match(entity, name, adjusted, reasons, listed or bool(topics), ", ".join(topics))
            )
        matches.sort(key=lambda m: (-m.score, not m.sanctioned, m.entity.name, m.entity.pk))
        results.append(Screened(query=query, matches=matches[:MATCHES_PER_ROW]))
    return results


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_lines(results: list[Screened], bad: list[BadRow], *, url_of) -> Iterator[str]:
    """The results as CSV (one line per match; a row without a match once), bad rows last."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "line",
            "name",
            "country",
            "date_of_birth",
            "rank",
            "score",
            "match",
            "matched_name",
            "kind",
            "countries",
            "born_or_incorporated",
            "identifiers",
            "where",
            "sanctioned",
            "topics",
            "url",
            "reasons",
        ]
    )
    for row in results:
        q = row.query
        head = [q.line, q.name, ";".join(q.countries), q.date_of_birth]
        if not row.matches:
            writer.writerow([_cell(v) for v in [*head, "", "", "no match"]])
        for rank, m in enumerate(row.matches, start=1):
            e = m.entity
            where = f"dataset {e.dataset.name}" if e.dataset_id else f"case {e.investigation.title}"
            writer.writerow(
                _cell(v)
                for v in [
                    *head,
                    rank,
                    f"{m.score:.2f}",
                    e.name,
                    m.matched_name,
                    e.schema,
                    ";".join(e.countries),
                    e.start_date,
                    ";".join(f"{i.scheme}:{i.value}" for i in e.identifiers.all()),
                    where,
                    "yes" if m.sanctioned else "no",
                    m.topics,
                    url_of(e),
                    "; ".join(m.reasons),
                ]
            )
    for b in bad:
        writer.writerow(
            _cell(v) for v in [b.line, b.value, "", "", "", "", f"bad row: {b.column}: {b.reason}"]
        )
    yield out.getvalue()
