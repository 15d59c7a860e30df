"""Trade flows: shipment value by year x HS chapter or heading x country, as a table.

One aggregate query per page (flow_table), read from a dataset's flow summary or a case file's
shipments. Values in different currencies are never added together: a table holds one
currency. The page's charts are in entities.analysis.charts, its filter form in
entities.analysis.forms, HS names in entities.analysis.hs.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, NamedTuple, TypedDict

from django.db import connection

from investigations.models import Investigation

from ..codes import country_name
from ..models import Dataset
from .hs import hs_label

Level = Literal["chapter", "heading"]
By = Literal["origin", "destination"]

LEVEL_DIGITS: dict[str, int] = {"chapter": 2, "heading": 4}
BY_COLUMN: dict[str, str] = {"origin": "origin_country", "destination": "destination_country"}
# A 1M-shipment dataset at heading level has tens of thousands of rows; the table shows the
# largest, the totals and the chart's "Other" still count every row.
TABLE_ROW_LIMIT = 200


# --- The table ------------------------------------------------------------------------------


class FlowKey(NamedTuple):
    """A row of the table: an HS chapter or heading and a country (origin or destination)."""

    code: str
    country: str


def _growth(previous: Decimal | None, current: Decimal | None) -> Decimal | None:
    """Percent change from one year to the next; None without a base to compare with."""
    if not previous:
        return None
    return ((current or Decimal(0)) - previous) * 100 / previous


@dataclass(frozen=True)
class FlowCell:
    """One year of one row: its value and the change from the calendar year before."""

    year: int
    value: Decimal | None
    growth: Decimal | None
    # False in the first year of the table: no data at all the year before, so "new" would lie.
    comparable: bool

    @property
    def trend(self) -> str:
        """up, down, flat, new (nothing the year before) or "" (nothing to compare)."""
        if not self.comparable:
            return ""
        if self.growth is None:
            return "new" if self.value else ""
        if self.growth > 0:
            return "up"
        return "down" if self.growth < 0 else "flat"

    @property
    def growth_label(self) -> str:
        """+117%, −12% (a real minus sign), 0%, new."""
        trend = self.trend
        if trend == "new":
            return "new"
        if not trend or self.growth is None:
            return ""
        sign = "+" if self.growth > 0 else "−" if self.growth < 0 else ""
        size = abs(self.growth)
        # A change under 1% keeps one decimal, so a rise never reads "+0%".
        return f"{sign}{size:,.1f}%" if 0 < size < 1 else f"{sign}{size:,.0f}%"


@dataclass
class FlowLine:
    """A row of the table with its cells, for templates (which cannot index dicts by year)."""

    key: FlowKey
    cells: list[FlowCell]
    total: Decimal
    quantity: Decimal | None  # summed across units (pcs, kg): for exports, not for display
    count: int

    @property
    def code(self) -> str:
        return self.key.code

    @property
    def country(self) -> str:
        return self.key.country

    @property
    def country_label(self) -> str:
        return country_name(self.key.country) if self.key.country else "Unknown country"

    @property
    def hs_label(self) -> str:
        return hs_label(self.key.code)

    @property
    def label(self) -> str:
        """Chart legend label: "Kazakhstan · 8542"."""
        return f"{self.country_label} · {self.key.code}"


@dataclass
class FlowTable:
    """One currency's flows: the largest rows by year, and totals over every row."""

    level: str
    by: str
    currency: str  # "" when no shipment in the selection has a value
    currencies: list[str]  # every currency with a value in the selection, alphabetical
    years: list[int]
    rows: dict[FlowKey, dict[int, Decimal]]  # the `limit` largest rows, largest total first
    totals: dict[int, Decimal]  # every row, not only those in `rows`
    growth: dict[FlowKey, dict[int, Decimal | None]]
    lines: list[FlowLine] = field(repr=False)
    total_cells: list[FlowCell] = field(repr=False)
    row_count: int = 0  # groups in this currency, shown or not
    count: int = 0  # shipments with a value in this currency
    unvalued: int = 0  # shipments in the selection without a value (in no currency)
    other_currencies: int = 0  # shipments with a value in another currency

    @property
    def grand_total(self) -> Decimal:
        return sum(self.totals.values(), Decimal(0))

    @property
    def hidden_lines(self) -> int:
        return self.row_count - len(self.lines)

    @property
    def level_label(self) -> str:
        return "HS chapter" if self.level == "chapter" else "HS heading"

    @property
    def by_label(self) -> str:
        return "Origin" if self.by == "origin" else "Destination"

    def series(self, top: int) -> tuple[dict[str, dict[int, Decimal]], dict[int, Decimal], int]:
        """The `top` largest rows as chart series ("Kazakhstan · 8542" -> {year: value}), and
        the rest folded per year (totals minus those rows, so rows beyond the table count
        too) with the number of rows folded."""
        shown = self.lines[:top]
        other = dict(self.totals)
        for line in shown:
            for year, value in self.rows[line.key].items():
                other[year] -= value
        return (
            {line.label: self.rows[line.key] for line in shown},
            {year: value for year, value in other.items() if value},
            self.row_count - len(shown),
        )


# One statement: the GROUP BY below over the scope's shipments (a scan of the dataset's rows;
# an HS prefix can use shipment_hs_prefix_idx), then CTEs over its groups. The currency is
# chosen and the rows ranked in SQL so that Python receives at most `limit` rows x years, not
# every group: a generated 1M-row dataset has 440k year x heading x country x currency groups,
# and turning those into Python objects took 13 s (the whole statement takes 1-2 s).
# The groups, from a case file's shipments...
_FROM_SHIPMENTS = """
    SELECT s.currency,
           EXTRACT(year FROM s.date)::int AS year,
           LEFT(s.hs_code, %(digits)s) AS code,
           s.{column} AS place,
           SUM(s.value) AS total,
           SUM(s.quantity) AS quantity,
           COUNT(*) AS shipments,
           COUNT(s.value) AS valued
      FROM entities_shipment s
     WHERE s.{scope} = %(scope_id)s {filters}
     GROUP BY 1, 2, 3, 4
"""
# ... or from a dataset's summary (FlowSummary, kept by triggers): the same sums, read from a
# few thousand rows instead of every shipment. A sum over no known value stays NULL.
_FROM_SUMMARY = """
    SELECT s.currency,
           s.year::int AS year,
           LEFT(s.hs_code, %(digits)s) AS code,
           s.{column} AS place,
           SUM(s.total) FILTER (WHERE s.valued > 0) AS total,
           SUM(s.quantity) FILTER (WHERE s.quantified > 0) AS quantity,
           SUM(s.shipments)::bigint AS shipments,
           SUM(s.valued)::bigint AS valued
      FROM entities_flowsummary s
     WHERE s.{scope} = %(scope_id)s AND s.shipments > 0 {filters}
     GROUP BY 1, 2, 3, 4
"""
_FLOWS_SQL = """
WITH g AS ({groups}), currencies AS (
    SELECT currency, SUM(total) AS total, SUM(valued) AS valued
      FROM g WHERE total IS NOT NULL GROUP BY currency
), chosen AS (
    SELECT currency FROM currencies
     ORDER BY currency = %(currency)s DESC, total DESC, currency LIMIT 1
), picked AS (
    SELECT g.* FROM g JOIN chosen USING (currency) WHERE g.total IS NOT NULL
), ranked AS (
    SELECT code, place, ROW_NUMBER() OVER (ORDER BY SUM(total) DESC, code, place) AS rank
      FROM picked GROUP BY code, place
)
SELECT 'row', m.year, m.code, m.place, m.total, m.quantity, m.valued, r.rank
  FROM picked m JOIN ranked r USING (code, place)
 WHERE r.rank <= %(limit)s
UNION ALL
SELECT 'year', year, NULL, NULL, SUM(total), NULL, SUM(valued), NULL FROM picked GROUP BY year
UNION ALL
SELECT 'currency', NULL, currency, NULL, total, NULL, valued, NULL FROM currencies
UNION ALL
SELECT 'chosen', NULL, currency, NULL, NULL, NULL, NULL, NULL FROM chosen
UNION ALL
SELECT 'count', NULL, NULL, NULL, NULL, NULL, SUM(shipments - valued), (SELECT COUNT(*) FROM ranked)
  FROM g
"""


def flow_table(
    *,
    case: Investigation | None = None,
    dataset: Dataset | None = None,
    level: Level = "chapter",
    by: By = "destination",
    hs_prefix: str = "",
    country: str = "",
    currency: str | None = None,
    limit: int = TABLE_ROW_LIMIT,
    from_summary: bool | None = None,
) -> FlowTable:
    """Value of a case file's or dataset's shipments by year, HS code and country (one query).

    `country` keeps the rows of that country in the `by` column: by="destination",
    country="KZ" is Kazakhstan's imports. One currency per table: `currency`, or else the one
    with the largest total; every currency present is listed so the page can offer them.
    `rows` holds the `limit` largest rows; totals, counts and the chart's "Other" cover all.
    A dataset's flows come from its FlowSummary rows (`from_summary=False`: from the shipments,
    which gives the same table, slower); a case file's from its shipments.
    """
    if case is not None and dataset is None:
        scope, scope_id = "investigation_id", case.pk
    elif dataset is not None and case is None:
        scope, scope_id = "dataset_id", dataset.pk
    else:
        raise ValueError("flows are of one case file or one dataset")
    if level not in LEVEL_DIGITS or by not in BY_COLUMN:
        raise ValueError(f"unknown level {level!r} or by {by!r}")
    if hs_prefix and not hs_prefix.isdigit():
        raise ValueError(f"an HS prefix is digits only, not {hs_prefix!r}")
    column = BY_COLUMN[by]
    filters = ""
    if hs_prefix:
        filters += " AND s.hs_code LIKE %(prefix)s"
    if country:
        filters += f" AND s.{column} = %(country)s"
    # Only fixed column names are formatted in; every value is a parameter.
    if from_summary is None:
        from_summary = dataset is not None
    if from_summary and dataset is None:
        raise ValueError("only datasets have a flow summary")
    groups = (_FROM_SUMMARY if from_summary else _FROM_SHIPMENTS).format(
        column=column, scope=scope, filters=filters
    )
    sql = _FLOWS_SQL.format(groups=groups)
    params = {
        "digits": LEVEL_DIGITS[level],
        "scope_id": scope_id,
        "prefix": f"{hs_prefix}%",
        "country": country.upper(),
        "currency": (currency or "").upper(),
        "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        records = cursor.fetchall()
    return _build(level, by, records)


def _build(level: str, by: str, records: list[tuple[Any, ...]]) -> FlowTable:
    rows: dict[FlowKey, dict[int, Decimal]] = defaultdict(dict)
    ranks: dict[FlowKey, int] = {}
    quantity: dict[FlowKey, Decimal] = defaultdict(Decimal)
    count: dict[FlowKey, int] = defaultdict(int)
    totals: dict[int, Decimal] = {}
    valued: dict[str, int] = {}
    chosen, shipments, unvalued, row_count = "", 0, 0, 0
    for kind, year, code, place, total, qty, n, rank in records:
        if kind == "row":
            key = FlowKey(code, place or "")
            rows[key][year] = total
            ranks[key] = rank
            count[key] += n
            if qty is not None:
                quantity[key] += qty
        elif kind == "year":
            totals[year] = total
            shipments += n
        elif kind == "currency":
            valued[code] = n
        elif kind == "chosen":
            chosen = code
        else:
            unvalued, row_count = n or 0, rank or 0
    years = sorted(totals)
    present = set(years)
    order = sorted(rows, key=ranks.__getitem__)

    def cells(values: dict[int, Decimal]) -> list[FlowCell]:
        return [
            FlowCell(
                year=y,
                value=values.get(y),
                growth=_growth(values.get(y - 1), values.get(y)),
                comparable=(y - 1) in present,
            )
            for y in years
        ]

    lines = [
        FlowLine(
            key=key,
            cells=cells(rows[key]),
            total=sum(rows[key].values(), Decimal(0)),
            quantity=quantity.get(key),
            count=count[key],
        )
        for key in order
    ]
    return FlowTable(
        level=level,
        by=by,
        currency=chosen,
        currencies=sorted(valued),
        years=years,
        rows={key: dict(sorted(rows[key].items())) for key in order},
        totals={y: totals[y] for y in years},
        growth={line.key: {c.year: c.growth for c in line.cells} for line in lines},
        lines=lines,
        total_cells=cells(totals),
        row_count=row_count,
        count=shipments,
        unvalued=unvalued,
        other_currencies=sum(n for c, n in valued.items() if c != chosen),
    )


class FlowFilters(TypedDict):
    level: Level
    by: By
    hs_prefix: str
    country: str
    currency: str
