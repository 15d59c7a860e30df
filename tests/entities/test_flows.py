"""Trade flows: value by year x HS code x country, one currency at a time, and its SVG charts."""

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory

from entities.analysis.charts import bar_chart_svg, compact_number, flow_charts, line_chart_svg
from entities.analysis.flows import FlowCell, FlowKey, _growth, flow_table
from entities.analysis.forms import FlowFilterForm
from entities.models import Dataset, FlowSummary, Shipment
from entities.services import Scope, shipment_create
from tests.factories import UserFactory, make_case

SVG = "{http://www.w3.org/2000/svg}"
M = Decimal(1_000_000)


def _rows(dataset, rows):
    Shipment.objects.bulk_create(
        Shipment(dataset=dataset, declaration_number=f"D{i}", **row) for i, row in enumerate(rows)
    )


@pytest.fixture
def kz(db):
    """The story in DESIGN.md: Kazakh microchip imports, about $35M in 2021, $76M in 2022."""
    ds = Dataset.objects.create(name="KZ customs 2021-2022")
    usd = {"currency": "USD", "destination_country": "KZ"}
    _rows(
        ds,
        [
            # 8542 into KZ, 2021: 35M over three declarations, from two origins.
            {**usd, "date": date(2021, 2, 1), "hs_code": "854231", "origin_country": "CN",
             "value": 20 * M, "quantity": Decimal(1000)},
            {**usd, "date": date(2021, 6, 1), "hs_code": "854232", "origin_country": "CN",
             "value": 10 * M},
            {**usd, "date": date(2021, 11, 30), "hs_code": "854239", "origin_country": "DE",
             "value": 5 * M},
            # 2022: 76M over four declarations.
            {**usd, "date": date(2022, 1, 10), "hs_code": "854231", "origin_country": "CN",
             "value": 30 * M},
            {**usd, "date": date(2022, 4, 5), "hs_code": "854231", "origin_country": "DE",
             "value": 26 * M},
            {**usd, "date": date(2022, 8, 1), "hs_code": "854233", "origin_country": "DE",
             "value": 15 * M},
            {**usd, "date": date(2022, 12, 31), "hs_code": "854290", "origin_country": "US",
             "value": 5 * M},
            # Drones, chapter 88: 1M in 2021, 3M in 2022.
            {**usd, "date": date(2021, 3, 1), "hs_code": "880621", "origin_country": "CN",
             "value": 1 * M},
            {**usd, "date": date(2022, 3, 1), "hs_code": "880622", "origin_country": "CN",
             "value": 3 * M},
            # Euros: never added to dollars, whatever the goods.
            {"date": date(2022, 5, 1), "hs_code": "854231", "origin_country": "DE",
             "destination_country": "KZ", "value": 50 * M, "currency": "EUR"},
            {"date": date(2022, 6, 1), "hs_code": "854231", "origin_country": "KZ",
             "destination_country": "RU", "value": 7 * M, "currency": "EUR"},
            # No value at all: counted, never summed.
            {"date": date(2022, 7, 1), "hs_code": "854231", "origin_country": "CN",
             "destination_country": "KZ"},
        ],
    )  # fmt: skip
    # One made through the service too, as an import or a reporter would.
    shipment_create(
        scope=Scope(dataset=ds),
        date="2021-09-01",
        hs_code="85423100",
        origin_country="DE",
        destination_country="RU",
        value=Decimal(2_000_000),
        currency="USD",
    )
    return ds


def test_flow_table_totals_and_growth_by_heading(kz):
    flows = flow_table(dataset=kz, level="heading", by="destination", hs_prefix="8542")

    assert flows.currency == "USD"
    assert flows.currencies == ["EUR", "USD"]
    assert flows.years == [2021, 2022]
    assert flows.rows[FlowKey("8542", "KZ")] == {2021: 35 * M, 2022: 76 * M}
    assert flows.rows[FlowKey("8542", "RU")] == {2021: 2 * M}
    assert flows.totals == {2021: 37 * M, 2022: 76 * M}
    # 76 / 35 - 1: Kazakhstan's microchip imports more than doubled.
    growth = flows.growth[FlowKey("8542", "KZ")][2022]
    assert growth == pytest.approx(Decimal("117.142857"), abs=Decimal("0.001"))
    kz_line = flows.lines[0]
    assert kz_line.key == ("8542", "KZ")
    assert kz_line.country_label == "Kazakhstan"
    assert kz_line.hs_label == "Integrated circuits (microchips)"
    assert kz_line.count == 7
    assert [c.growth_label for c in kz_line.cells] == ["", "+117%"]
    assert [c.trend for c in kz_line.cells] == ["", "up"]
    ru_line = flows.lines[1]
    assert [c.growth_label for c in ru_line.cells] == ["", "−100%"]
    assert flows.unvalued == 1
    assert flows.other_currencies == 2


def test_currencies_are_never_added_together(kz):
    usd = flow_table(dataset=kz, level="chapter", by="destination", country="KZ")
    eur = flow_table(dataset=kz, level="chapter", by="destination", country="KZ", currency="eur")

    assert usd.currency == "USD"  # the largest total: 114M USD against 50M EUR
    assert usd.rows == {
        FlowKey("85", "KZ"): {2021: 35 * M, 2022: 76 * M},
        FlowKey("88", "KZ"): {2021: 1 * M, 2022: 3 * M},
    }
    assert eur.currency == "EUR"
    assert eur.rows == {FlowKey("85", "KZ"): {2022: 50 * M}}
    assert eur.totals == {2022: 50 * M}
    # A currency that is not there falls back to the default rather than an empty table.
    assert flow_table(dataset=kz, level="chapter", by="origin", currency="GBP").currency == "USD"


def test_chapter_and_heading_group_differently(kz):
    chapters = flow_table(dataset=kz, level="chapter", by="destination")
    headings = flow_table(dataset=kz, level="heading", by="destination")

    assert set(chapters.rows) == {FlowKey("85", "KZ"), FlowKey("85", "RU"), FlowKey("88", "KZ")}
    assert set(headings.rows) == {
        FlowKey("8542", "KZ"),
        FlowKey("8542", "RU"),
        FlowKey("8806", "KZ"),
    }
    assert chapters.totals == headings.totals == {2021: 38 * M, 2022: 79 * M}
    assert [line.key for line in headings.lines] == [  # largest total first
        ("8542", "KZ"),
        ("8806", "KZ"),
        ("8542", "RU"),
    ]
    assert headings.lines[1].hs_label == "Unmanned aircraft (drones)"
    assert chapters.lines[1].hs_label == "Aircraft, drones"


def test_origin_and_destination(kz):
    origin = flow_table(dataset=kz, level="chapter", by="origin", hs_prefix="85")

    assert origin.rows == {
        FlowKey("85", "CN"): {2021: 30 * M, 2022: 30 * M},
        FlowKey("85", "DE"): {2021: 7 * M, 2022: 41 * M},
        FlowKey("85", "US"): {2022: 5 * M},
    }
    cn, _de, us = origin.lines
    assert [c.trend for c in cn.cells] == ["", "flat"]
    assert cn.cells[1].growth_label == "0%"
    assert [c.trend for c in us.cells] == ["", "new"]
    assert us.cells[1].growth_label == "new"
    assert origin.growth[FlowKey("85", "US")] == {2021: None, 2022: None}
    # The country filter applies to the grouping column: German-origin goods only.
    assert set(flow_table(dataset=kz, level="chapter", by="origin", country="de").rows) == {
        FlowKey("85", "DE")
    }


def test_limit_keeps_the_largest_rows_and_totals_count_all(kz):
    flows = flow_table(dataset=kz, level="heading", by="destination", limit=1)

    assert list(flows.rows) == [FlowKey("8542", "KZ")]
    assert (flows.row_count, flows.hidden_lines) == (3, 2)
    assert flows.totals == {2021: 38 * M, 2022: 79 * M}
    assert flows.count == 10  # USD shipments of every row, shown or not
    series, other, other_count = flows.series(8)
    assert series == {"Kazakhstan · 8542": {2021: 35 * M, 2022: 76 * M}}
    # Rows beyond the limit still reach the chart, folded per year.
    assert (other, other_count) == ({2021: 3 * M, 2022: 3 * M}, 2)
    root = _parse(flow_charts(flows)["bar_chart"])
    assert [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")] == [
        "Kazakhstan · 8542",
        "Other (2)",
    ]
    with pytest.raises(ValueError, match="digits only"):
        flow_table(dataset=kz, hs_prefix="85%")


VIEWS = [
    {},
    {"level": "heading"},
    {"by": "origin"},
    {"hs_prefix": "8542"},
    {"country": "KZ"},
    {"currency": "EUR"},
    {"level": "heading", "by": "origin", "country": "DE"},
]


def _summary_matches_shipments(dataset):
    for view in VIEWS:
        summary = flow_table(dataset=dataset, **view)
        assert summary == flow_table(dataset=dataset, from_summary=False, **view), view


def test_dataset_summary_follows_every_write(kz, django_assert_num_queries):
    _summary_matches_shipments(kz)
    with django_assert_num_queries(1):
        flow_table(dataset=kz)
    assert FlowSummary.objects.filter(dataset=kz).exists()

    # Updates of values, codes, years, currencies and countries; a value and a quantity unset.
    first = Shipment.objects.filter(dataset=kz, quantity__isnull=False).get()
    first.value = first.quantity = None
    first.save()
    Shipment.objects.filter(dataset=kz, hs_code="854232").update(
        hs_code="880622", date=date(2023, 1, 1)
    )
    Shipment.objects.filter(dataset=kz, origin_country="US").update(currency="EUR")
    Shipment.objects.filter(dataset=kz, origin_country="KZ").update(destination_country="UZ")
    _summary_matches_shipments(kz)

    # A party changed (an entity merge): no flow column moved, no summary row is rewritten
    # (an UPDATE would give the row a new version, at a new ctid).
    def versions():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, ctid::text FROM entities_flowsummary WHERE dataset_id = %s", [kz.pk]
            )
            return sorted(cursor.fetchall())

    before = versions()
    Shipment.objects.filter(dataset=kz).update(description="merged")
    assert versions() == before

    # Deletes, and a row moved to another dataset.
    Shipment.objects.filter(dataset=kz, origin_country="DE").first().delete()
    other = Dataset.objects.create(name="other")
    Shipment.objects.filter(pk=Shipment.objects.filter(dataset=kz).first().pk).update(dataset=other)
    _summary_matches_shipments(kz)
    _summary_matches_shipments(other)

    # Case files' shipments never enter a summary.
    case = make_case(owner=UserFactory())
    shipment_create(
        scope=Scope(investigation=case), date="2022-01-01", hs_code="8542", value=1, currency="USD"
    )
    assert not FlowSummary.objects.filter(dataset__isnull=True).exists()

    # Deleting the dataset leaves no summary row behind and no foreign key broken.
    kz_id = kz.pk
    kz.delete()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert not FlowSummary.objects.filter(dataset_id=kz_id).exists()
    _summary_matches_shipments(other)


def test_growth_labels():
    def label(previous, current):
        return FlowCell(
            year=2022,
            value=current,
            growth=_growth(previous, current),
            comparable=True,
        ).growth_label

    assert label(Decimal(35), Decimal(76)) == "+117%"
    assert label(Decimal(1000), Decimal(1003)) == "+0.3%"
    assert label(Decimal(100), Decimal(88)) == "−12%"
    assert label(Decimal(100), Decimal(100)) == "0%"
    assert label(Decimal(100), None) == "−100%"
    assert label(None, Decimal(5)) == "new"
    assert label(Decimal(0), Decimal(5)) == "new"
    assert label(Decimal(1), Decimal(30_000)) == "+2,999,900%"


def test_a_case_sees_only_its_own_shipments(kz, alice, bob):
    case = make_case(owner=alice)
    other = make_case(owner=bob, title="Someone else's case")
    shipment_create(
        scope=Scope(investigation=case),
        date="2022-05-01",
        hs_code="854231",
        destination_country="KZ",
        value=Decimal(120_000),
        currency="EUR",
    )
    shipment_create(
        scope=Scope(investigation=other),
        date="2022-05-01",
        hs_code="854231",
        destination_country="KZ",
        value=Decimal(999_000),
        currency="EUR",
    )

    flows = flow_table(case=case, level="heading", by="destination")

    assert flows.rows == {FlowKey("8542", "KZ"): {2022: Decimal(120_000)}}
    assert flows.currencies == ["EUR"]
    with pytest.raises(ValueError, match="one case file or one dataset"):
        flow_table(case=case, dataset=kz)


def test_empty_selection(kz):
    flows = flow_table(dataset=kz, level="chapter", by="destination", hs_prefix="01")

    assert (flows.rows, flows.years, flows.currency, flows.currencies) == ({}, [], "", [])
    assert flow_charts(flows) == {"bar_chart": "", "line_chart": ""}


def test_flow_table_is_one_query_and_charts_none(kz, alice, django_assert_num_queries):
    with django_assert_num_queries(1):
        # The GROUP BY year, HS prefix, country, currency over the dataset's shipments.
        flows = flow_table(dataset=kz, level="heading", by="destination")
    with django_assert_num_queries(0):
        charts = flow_charts(flows)
        form = FlowFilterForm({"level": "heading"})
        html = _render(kz, flows, charts, form, user=alice)
    assert "Kazakhstan" in html
    assert "+117%" in html  # 8542 into KZ: 35M -> 76M
    assert "+108%" in html  # all rows: 38M -> 79M


def _render(dataset, flows, charts, form, template="entities/flows.html", *, user):
    request = RequestFactory().get(f"/datasets/{dataset.public_id}/flows/")
    request.user = user
    return render_to_string(
        template, {"dataset": dataset, "flows": flows, "form": form, **charts}, request=request
    )


def test_page_and_partial_render(kz, alice):
    flows = flow_table(dataset=kz, level="heading", by="destination", hs_prefix="8542")
    charts = flow_charts(flows)
    form = FlowFilterForm({"level": "heading", "hs": "8542"})
    form.is_valid()

    page = _render(kz, flows, charts, form, user=alice)
    body = _render(kz, flows, charts, form, "entities/flows.html#flows-body", user=alice)

    assert 'id="flows-filters"' in page
    assert 'hx-target="#flows-body"' in page
    assert page.count('id="flows-body"') == 1
    assert body.lstrip().startswith('<div id="flows-body"')
    assert '<form id="flows-filters"' not in body
    assert 'form="flows-filters"' in body  # the currency picker joins the form outside
    for html in (page, body):
        assert "35,000,000" in html
        assert "76,000,000" in html
        assert 'class="growth growth-up">+117%' in html
        assert 'class="growth growth-down">−100%' in html
        assert '<option value="EUR">EUR</option>' in html
        assert '<option value="USD" selected>USD</option>' in html
        assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == 2


def test_page_empty_state(kz, alice):
    form = FlowFilterForm({"hs": "01"})
    form.is_valid()
    flows = flow_table(dataset=kz, **form.selector_kwargs())

    html = _render(kz, flows, flow_charts(flows), form, user=alice)

    assert "No shipments match these filters." in html
    assert 'class="chart' not in html


def test_filter_form_defaults_and_bad_input():
    assert FlowFilterForm().selector_kwargs() == {
        "level": "chapter",
        "by": "destination",
        "hs_prefix": "",
        "country": "",
        "currency": "",
    }
    form = FlowFilterForm(
        {"level": "heading", "by": "sideways", "hs": "85.42", "country": "KZ", "currency": "usd"}
    )
    assert form.selector_kwargs() == {
        "level": "heading",
        "by": "destination",  # invalid: the default, with an error for the page
        "hs_prefix": "8542",
        "country": "KZ",
        "currency": "USD",
    }
    assert "by" in form.errors
    assert FlowFilterForm({"hs": "85a"}).selector_kwargs()["hs_prefix"] == ""


# --- Charts ---------------------------------------------------------------------------------


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 (our own output, not untrusted input)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find(f"{SVG}title").get("id") == title_id
    assert root.find(f"{SVG}desc").get("id") == desc_id
    return root


def test_bar_chart_is_well_formed_and_accessible(kz):
    flows = flow_table(dataset=kz, level="heading", by="destination")
    series, other, other_count = flows.series(8)
    assert (other, other_count) == ({}, 0)
    svg = bar_chart_svg(series, title="Value per year in USD", currency="USD")

    root = _parse(svg)
    assert root.find(f"{SVG}title").text == "Value per year in USD"
    desc = root.find(f"{SVG}desc").text
    assert "Kazakhstan · 8542: 2021 35M, 2022 76M." in desc
    bars = root.findall(f"{SVG}rect")
    # 8542 KZ two years, 8542 RU one, 8806 KZ two; plus three legend swatches.
    assert len([b for b in bars if b.find(f"{SVG}title") is not None]) == 5
    ticks = [t.text for t in root.iter(f"{SVG}text")]
    assert "80M" in ticks  # the axis top above 76M
    assert "76M" in ticks  # few series: values printed above the bars
    assert {"2021", "2022"} <= set(ticks)


def test_bar_chart_escapes_hostile_and_cyrillic_labels():
    series = {
        '<script>alert("x")</script>': {2021: Decimal(10)},
        "ТОО «Аспан Арба» & Co": {2021: Decimal(5), 2022: Decimal(8)},
        "bad\x00control\x1fchars": {2022: Decimal(1)},
    }
    svg = bar_chart_svg(series, title="<b>Flows</b>", currency='US"D')

    assert "<script>" not in svg
    assert "&lt;script&gt;" in svg
    assert "<b>" not in svg
    root = _parse(svg)  # well-formed: escaped, control characters dropped
    texts = {t.text for t in root.iter(f"{SVG}text")}
    assert '<script>alert("x")</script>' in texts  # the reader sees the label as text
    assert "ТОО «Аспан Арба» & Co" in texts
    assert "badcontrolchars" in texts


def test_bar_chart_folds_the_rest_into_other():
    series = {f"Country {i:02d}": {2022: Decimal(100 - i)} for i in range(12)}

    root = _parse(bar_chart_svg(series, title="t", currency="USD"))

    legend = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")]
    assert legend == [f"Country {i:02d}" for i in range(8)] + ["Other (4)"]
    other = [r for r in root.iter(f"{SVG}rect") if r.get("fill") == "#B4B4B4"]
    assert other  # grey, not a palette colour
    # Nine series fit without an "Other" of one.
    nine = {f"C{i}": {2022: Decimal(10 + i)} for i in range(9)}
    root = _parse(bar_chart_svg(nine, title="t", currency="USD"))
    legend = [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")]
    assert "Other (1)" not in legend
    assert len(legend) == 9


def test_line_chart_and_empty_charts():
    root = _parse(line_chart_svg({2021: 35 * M, 2022: 76 * M}, title="Totals", currency="USD"))
    assert root.find(f"{SVG}polyline") is not None
    assert "2021 35M, 2022 76M" in root.find(f"{SVG}desc").text
    for svg in (
        line_chart_svg({}, title="Nothing", currency="USD"),
        bar_chart_svg({"A": {2022: Decimal(0)}}, title="Nothing", currency="USD"),
    ):
        assert _parse(svg).find(f"{SVG}text").text == "No values to chart."
    # Two charts of different data never share an id on one page.
    a = _parse(line_chart_svg({2021: M}, title="T", currency="USD")).get("aria-labelledby")
    b = _parse(line_chart_svg({2021: 2 * M}, title="T", currency="USD")).get("aria-labelledby")
    assert a != b


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (950, "950"),
        (1500, "1.5K"),
        (75_200_000, "75.2M"),
        (76_000_000, "76M"),
        (999_960, "1M"),
        (2_500_000_000_000, "2,500B"),
    ],
)
def test_compact_number(value, text):
    assert compact_number(value) == text
