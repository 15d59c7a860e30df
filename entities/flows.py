"""Trade flows: shipment value by year x HS chapter or heading x country, as a table and charts.

One aggregate query per page (flow_table); the charts are SVG strings rendered on the server
(no JavaScript library), so the page works without scripts and under the strict CSP (no inline
styles: colours and sizes are SVG presentation attributes, not style attributes).
Values in different currencies are never added together: a table holds one currency.
"""

import hashlib
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, NamedTuple, TypedDict

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from investigations.models import Investigation

from .codes import country_name, country_names
from .models import Dataset

Level = Literal["chapter", "heading"]
By = Literal["origin", "destination"]

LEVEL_DIGITS: dict[str, int] = {"chapter": 2, "heading": 4}
BY_COLUMN: dict[str, str] = {"origin": "origin_country", "destination": "destination_country"}
# A 1M-shipment dataset at heading level has tens of thousands of rows; the table shows the
# largest, the totals and the chart's "Other" still count every row.
TABLE_ROW_LIMIT = 200

# HS 2022 chapter titles, shortened for table rows and legends.
HS_CHAPTERS: dict[str, str] = {
    "01": "Live animals",
    "02": "Meat",
    "03": "Fish and seafood",
    "04": "Dairy, eggs, honey",
    "05": "Other animal products",
    "06": "Live plants, flowers",
    "07": "Vegetables",
    "08": "Fruit and nuts",
    "09": "Coffee, tea, spices",
    "10": "Cereals",
    "11": "Milling products, malt, starch",
    "12": "Oil seeds, industrial plants",
    "13": "Lacs, gums, resins",
    "14": "Vegetable plaiting materials",
    "15": "Fats and oils",
    "16": "Meat and fish preparations",
    "17": "Sugar",
    "18": "Cocoa",
    "19": "Cereal and flour preparations",
    "20": "Vegetable and fruit preparations",
    "21": "Miscellaneous food preparations",
    "22": "Beverages, spirits",
    "23": "Food residues, animal feed",
    "24": "Tobacco",
    "25": "Salt, sulphur, stone, cement",
    "26": "Ores, slag, ash",
    "27": "Mineral fuels, oil",
    "28": "Inorganic chemicals",
    "29": "Organic chemicals",
    "30": "Pharmaceuticals",
    "31": "Fertilisers",
    "32": "Tanning, dyes, paints",
    "33": "Essential oils, cosmetics",
    "34": "Soap, waxes",
    "35": "Glues, enzymes",
    "36": "Explosives, pyrotechnics",
    "37": "Photographic goods",
    "38": "Miscellaneous chemical products",
    "39": "Plastics",
    "40": "Rubber",
    "41": "Raw hides and leather",
    "42": "Leather articles, bags",
    "43": "Furskins",
    "44": "Wood",
    "45": "Cork",
    "46": "Basketware",
    "47": "Wood pulp",
    "48": "Paper and paperboard",
    "49": "Printed matter",
    "50": "Silk",
    "51": "Wool",
    "52": "Cotton",
    "53": "Other vegetable textile fibres",
    "54": "Man-made filaments",
    "55": "Man-made staple fibres",
    "56": "Wadding, felt, cordage",
    "57": "Carpets",
    "58": "Special woven fabrics",
    "59": "Technical textiles",
    "60": "Knitted fabrics",
    "61": "Knitted apparel",
    "62": "Apparel, not knitted",
    "63": "Other made-up textiles",
    "64": "Footwear",
    "65": "Headgear",
    "66": "Umbrellas, walking sticks",
    "67": "Feathers, artificial flowers",
    "68": "Stone, plaster, cement articles",
    "69": "Ceramics",
    "70": "Glass",
    "71": "Precious stones and metals",
    "72": "Iron and steel",
    "73": "Iron and steel articles",
    "74": "Copper",
    "75": "Nickel",
    "76": "Aluminium",
    "78": "Lead",
    "79": "Zinc",
    "80": "Tin",
    "81": "Other base metals",
    "82": "Tools, cutlery",
    "83": "Base-metal articles",
    "84": "Machinery, computers",
    "85": "Electrical machinery, electronics",
    "86": "Railway vehicles",
    "87": "Vehicles",
    "88": "Aircraft, drones",
    "89": "Ships and boats",
    "90": "Optical, measuring instruments",
    "91": "Clocks and watches",
    "92": "Musical instruments",
    "93": "Arms and ammunition",
    "94": "Furniture, lighting",
    "95": "Toys, games, sports goods",
    "96": "Miscellaneous manufactures",
    "97": "Works of art, antiques",
    "98": "Special (national use)",
    "99": "Special (national use)",
}

# Headings that trade investigations keep asking about (the EU's Common High Priority list of
# battlefield goods, and neighbours); other headings are labelled with their chapter.
HS_HEADINGS: dict[str, str] = {
    "8411": "Turbojets, gas turbines",
    "8471": "Computers",
    "8473": "Computer parts",
    "8482": "Ball and roller bearings",
    "8486": "Semiconductor manufacturing machines",
    "8504": "Transformers, power supplies",
    "8507": "Batteries",
    "8517": "Telephones, network equipment",
    "8525": "Cameras, transmitters",
    "8526": "Radar, radio navigation",
    "8529": "Radio and TV parts",
    "8532": "Capacitors",
    "8533": "Resistors",
    "8536": "Switches, connectors",
    "8541": "Semiconductors, diodes, transistors",
    "8542": "Integrated circuits (microchips)",
    "8548": "Electrical parts n.e.s.",
    "8802": "Aircraft, helicopters",
    "8806": "Unmanned aircraft (drones)",
    "8807": "Aircraft and drone parts",
    "9013": "Lasers, optical devices",
    "9014": "Navigation instruments",
    "9027": "Analysis instruments",
    "9030": "Electrical measuring instruments",
    "9305": "Parts of arms",
    "9306": "Bombs, grenades, ammunition",
}


def hs_label(code: str) -> str:
    """A short English name for an HS chapter or heading ("" when unknown)."""
    if len(code) >= 4 and code[:4] in HS_HEADINGS:
        return HS_HEADINGS[code[:4]]
    return HS_CHAPTERS.get(code[:2], "")


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


class FlowFilterForm(forms.Form):
    """The flows page's query string; invalid fields fall back to their defaults."""

    level = forms.ChoiceField(
        required=False,
        initial="chapter",
        choices=[("chapter", "HS chapter (2 digits)"), ("heading", "HS heading (4 digits)")],
        widget=forms.Select(attrs={"id": "flows-level"}),
    )
    by = forms.ChoiceField(
        required=False,
        initial="destination",
        choices=[("destination", "Destination country"), ("origin", "Origin country")],
        widget=forms.Select(attrs={"id": "flows-by"}),
    )
    hs = forms.CharField(
        required=False,
        max_length=10,
        label="HS prefix",
        widget=forms.TextInput(
            attrs={
                "id": "flows-hs",
                "inputmode": "numeric",
                "placeholder": "HS prefix: 8542",
                "class": "short",
            }
        ),
    )
    country = forms.ChoiceField(required=False, widget=forms.Select(attrs={"id": "flows-country"}))
    currency = forms.CharField(required=False, max_length=3)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = [("", "Any country"), *country_names().items()]

    def clean_hs(self) -> str:
        value = re.sub(r"[\s.]", "", self.cleaned_data["hs"])
        if value and not value.isdigit():
            raise ValidationError("An HS prefix is digits only.")
        return value

    def clean_currency(self) -> str:
        value = self.cleaned_data["currency"].strip().upper()
        return value if re.fullmatch(r"[A-Z]{3}", value) else ""

    def selector_kwargs(self) -> FlowFilters:
        """Keyword arguments for flow_table from the valid fields; defaults for the rest."""
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data  # holds the valid fields even when another one is not
        return {
            "level": data.get("level") or "chapter",
            "by": data.get("by") or "destination",
            "hs_prefix": data.get("hs") or "",
            "country": data.get("country") or "",
            "currency": data.get("currency") or "",
        }


# --- Charts ---------------------------------------------------------------------------------

# Okabe & Ito (2008), "Color Universal Design": distinguishable with the common colour-vision
# deficiencies. Blue first (strongest against the paper background), yellow late (weakest).
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)
OTHER_COLOUR = "#B4B4B4"
TOP_SERIES = len(PALETTE)
INK = "#1b1f24"
INK_2 = "#4a525c"
GRID = "#e3e0d8"
LEGEND_LABEL_CHARS = 30

# Characters XML 1.0 forbids even escaped; a label from a customs file may contain them.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: object) -> str:
    """Escaped for SVG text and attribute values (", ', <, >, & included)."""
    return str(escape(_XML_INVALID.sub("", str(value))))


def compact_number(value: Decimal | float | int) -> str:
    """75200000 -> "75.2M", 1500 -> "1.5K", 950 -> "950", 2.5e12 -> "2,500B"."""
    number = float(value)
    units = ((1e9, "B"), (1e6, "M"), (1e3, "K"))
    for i, (size, suffix) in enumerate(units):
        if abs(number) >= size * 0.99995:
            scaled = round(number / size, 1)
            # 999,960 rounds to "1,000.0K": say 1M instead.
            if abs(scaled) >= 1000 and i > 0:
                size, suffix = units[i - 1]
                scaled = round(number / size, 1)
            return f"{scaled:,.1f}".removesuffix(".0") + suffix
    return f"{number:,.0f}"


def _nice_scale(maximum: float, ticks: int = 5) -> tuple[float, float]:
    """(top, step): a round axis top at or above maximum, split into about `ticks` steps."""
    if maximum <= 0:
        return 1.0, 0.2
    raw = maximum / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)
    return step * math.ceil(maximum / step - 1e-9), step


def _chart_id(kind: str, title: str, data: object) -> str:
    # Stable for the same data (cache-friendly, testable), distinct for two charts on a page.
    digest = hashlib.blake2s(f"{kind}|{title}|{data!r}".encode(), digest_size=5).hexdigest()
    return f"chart-{kind}-{digest}"


def _top_series(
    series: dict[str, dict[int, Decimal]], other: dict[int, Decimal] | None, other_count: int
) -> list[tuple[str, dict[int, Decimal], str]]:
    """(label, values, colour): the TOP_SERIES largest, then the rest summed as "Other"."""
    ranked = sorted(series.items(), key=lambda kv: (-sum(kv[1].values(), Decimal(0)), kv[0]))
    # Nine series fit the palette plus grey: only fold when "Other" would hold two or more.
    fits = len(ranked) <= TOP_SERIES + 1 and not other
    keep = ranked if fits else ranked[:TOP_SERIES]
    out = [
        (label, values, PALETTE[i] if i < TOP_SERIES else OTHER_COLOUR)
        for i, (label, values) in enumerate(keep)
    ]
    rest = ranked[len(keep) :]
    folded: dict[int, Decimal] = defaultdict(Decimal, other or {})
    for _, values in rest:
        for year, value in values.items():
            folded[year] += value
    if any(folded.values()):
        count = len(rest) + other_count
        out.append((f"Other ({count})" if count else "Other", dict(folded), OTHER_COLOUR))
    return out


def _empty_svg(chart_id: str, title: str, width: int, message: str) -> SafeString:
    return mark_safe(  # noqa: S308 (every interpolated value is escaped by _text)
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} 80" '
        f'width="{width}" height="80" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{_text(title)}</title>'
        f'<desc id="{chart_id}-desc">{_text(message)}</desc>'
        f'<text x="{width / 2}" y="45" text-anchor="middle" font-size="14" fill="{INK_2}">'
        f"{_text(message)}</text></svg>"
    )


def _y_axis(
    parts: list[str], *, top: float, step: float, left: int, right: int, y0: int, height: int
) -> None:
    """Horizontal grid lines with compact tick labels, bottom to top."""
    ticks = round(top / step)
    for i in range(ticks + 1):
        value = step * i
        y = y0 + height - height * value / top
        colour = INK_2 if i == 0 else GRID
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
            f'stroke-width="1"/>'
        )
        parts.append(
            f'<text class="chart-tick" x="{left - 8}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="12" fill="{INK_2}">{_text(compact_number(value))}</text>'
        )


def bar_chart_svg(
    series: dict[str, dict[int, Decimal]],
    *,
    title: str,
    currency: str,
    other: dict[int, Decimal] | None = None,
    other_count: int = 0,
) -> SafeString:
    """Grouped bars per year for the largest series (plus "Other"), as inline SVG markup.

    Series beyond the TOP_SERIES largest are summed into "Other", with `other` (values per
    year already folded by the caller, of `other_count` series). Accessible: role="img"
    labelled by its <title> and a <desc> that reads out every value; Okabe-Ito colours; every
    label escaped (they come from imported files).
    """
    width, left, right_pad, top_pad, plot_h = 760, 72, 16, 44, 240
    shown = _top_series(series, other, other_count)
    chart_id = _chart_id("bars", title, [(label, sorted(v.items())) for label, v, _ in shown])
    years = sorted({year for _, values, _ in shown for year in values})
    maximum = max((float(v) for _, values, _ in shown for v in values.values()), default=0.0)
    if not years or maximum <= 0:
        return _empty_svg(chart_id, title, width, "No values to chart.")
    top, step = _nice_scale(maximum)
    plot_w = width - left - right_pad
    legend_cols = 3
    legend_rows = math.ceil(len(shown) / legend_cols)
    legend_y = top_pad + plot_h + 44
    height = legend_y + legend_rows * 22 + 8

    desc_parts = [
        f"Grouped bar chart of value in {currency} per year, {years[0]}–{years[-1]}, "
        f"{len(shown)} series."
    ]
    for label, values, _ in shown:
        readings = ", ".join(f"{y} {compact_number(values[y])}" for y in years if y in values)
        desc_parts.append(f"{label}: {readings}.")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-bars" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="system-ui, sans-serif">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">{_text(" ".join(desc_parts))}</desc>',
        f'<text class="chart-title" x="{left}" y="22" font-size="15" font-weight="600" '
        f'fill="{INK}">{_text(title)}</text>',
    ]
    _y_axis(
        parts, top=top, step=step, left=left, right=width - right_pad, y0=top_pad, height=plot_h
    )
    group_w = plot_w / len(years)
    bar_w = min(32.0, group_w * 0.8 / len(shown))
    labelled = len(shown) <= 3  # values above bars only while they cannot collide
    baseline = top_pad + plot_h
    for gi, year in enumerate(years):
        x0 = left + gi * group_w + (group_w - bar_w * len(shown)) / 2
        for si, (label, values, colour) in enumerate(shown):
            value = values.get(year)
            if not value:
                continue
            h = plot_h * float(value) / top
            x = x0 + si * bar_w
            parts.append(
                f'<rect x="{x:.1f}" y="{baseline - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}" stroke="#ffffff" stroke-width="0.5">'
                f"<title>{_text(label)}, {year}: {value:,.0f} {_text(currency)}</title></rect>"
            )
            if labelled:
                parts.append(
                    f'<text class="chart-value" x="{x + bar_w / 2 - 1:.1f}" '
                    f'y="{baseline - h - 5:.1f}" text-anchor="middle" font-size="12" '
                    f'fill="{INK}">{_text(compact_number(value))}</text>'
                )
        parts.append(
            f'<text class="chart-tick" x="{left + gi * group_w + group_w / 2:.1f}" '
            f'y="{baseline + 20}" text-anchor="middle" font-size="13" fill="{INK}">{year}</text>'
        )
    col_w = plot_w / legend_cols
    for i, (label, _, colour) in enumerate(shown):
        x = left + (i % legend_cols) * col_w
        y = legend_y + (i // legend_cols) * 22
        short = label if len(label) <= LEGEND_LABEL_CHARS else label[: LEGEND_LABEL_CHARS - 1]
        short += "" if short == label else "…"
        parts.append(
            f'<g class="chart-legend"><title>{_text(label)}</title>'
            f'<rect x="{x:.1f}" y="{y - 11}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 20:.1f}" y="{y}" font-size="12" fill="{INK}">{_text(short)}</text></g>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every interpolated label is escaped by _text)


def line_chart_svg(totals: dict[int, Decimal], *, title: str, currency: str) -> SafeString:
    """Total value per year as a line with labelled points, as inline SVG markup."""
    width, left, right_pad, top_pad, plot_h = 400, 64, 24, 44, 180
    chart_id = _chart_id("line", title, sorted(totals.items()))
    years = sorted(totals)
    maximum = max((float(v) for v in totals.values()), default=0.0)
    if not years or maximum <= 0:
        return _empty_svg(chart_id, title, width, "No values to chart.")
    top, step = _nice_scale(maximum, ticks=4)
    plot_w = width - left - right_pad
    height = top_pad + plot_h + 36
    baseline = top_pad + plot_h
    # One year sits in the middle; several spread edge to edge with a half-step inset.
    slot = plot_w / len(years)
    points = [
        (left + slot * (i + 0.5), baseline - plot_h * float(totals[y]) / top)
        for i, y in enumerate(years)
    ]
    readings = ", ".join(f"{y} {compact_number(totals[y])}" for y in years)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-line" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="system-ui, sans-serif">',
        f'<title id="{chart_id}-title">{_text(title)}</title>',
        f'<desc id="{chart_id}-desc">'
        f"{_text(f'Line chart of total value in {currency} per year: {readings}.')}</desc>",
        f'<text class="chart-title" x="{left}" y="22" font-size="15" font-weight="600" '
        f'fill="{INK}">{_text(title)}</text>',
    ]
    _y_axis(
        parts, top=top, step=step, left=left, right=width - right_pad, y0=top_pad, height=plot_h
    )
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>'
        )
    for (x, y), year in zip(points, years, strict=True):
        value = totals[year]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{PALETTE[0]}" stroke="#ffffff" '
            f'stroke-width="1.5"><title>{year}: {value:,.0f} {_text(currency)}</title></circle>'
        )
        parts.append(
            f'<text class="chart-value" x="{x:.1f}" y="{y - 10:.1f}" text-anchor="middle" '
            f'font-size="12" fill="{INK}">{_text(compact_number(value))}</text>'
        )
        parts.append(
            f'<text class="chart-tick" x="{x:.1f}" y="{baseline + 20}" text-anchor="middle" '
            f'font-size="13" fill="{INK}">{year}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every interpolated label is escaped by _text)


def flow_charts(table: FlowTable) -> dict[str, SafeString]:
    """The page's two charts for a flow table (no queries): bars per group, line of totals."""
    if not table.lines:
        return {"bar_chart": SafeString(""), "line_chart": SafeString("")}
    level = "chapter" if table.level == "chapter" else "heading"
    # Nine rows fit the palette plus grey; from ten on, the ninth and later become "Other".
    top = TOP_SERIES + 1 if table.row_count == TOP_SERIES + 1 else TOP_SERIES
    series, other, other_count = table.series(top)
    return {
        "bar_chart": bar_chart_svg(
            series,
            title=f"Value per year in {table.currency}, by HS {level} and "
            f"{table.by_label.lower()} country",
            currency=table.currency,
            other=other,
            other_count=other_count,
        ),
        "line_chart": line_chart_svg(
            table.totals, title=f"Total per year in {table.currency}", currency=table.currency
        ),
    }
