"""Trade-flow charts: SVG strings rendered on the server (no JavaScript library), so the flows
page works without scripts and under the strict CSP (no inline styles: colours and sizes are
SVG presentation attributes, not style attributes)."""

import hashlib
import math
import re
from collections import defaultdict
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .flows import FlowTable

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
