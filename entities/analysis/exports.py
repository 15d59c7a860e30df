"""A case's network as GEXF 1.2 and GraphML files (they open in Gephi, yEd, Cytoscape, networkx).

Streamed line by line from a graph.Graph (the page's graph: the case's entities and pins, the
links and the shipments summed per exporter -> importer pair). Node ids are entity public ids;
link edges keep the link's public id, trade edges are "t:<exporter>:<importer>".
"""

import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from investigations.models import Investigation

from .graph import Graph

# Characters XML 1.0 forbids even escaped; names from imported files may hold them.
_XML_INVALID = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# (attribute, type) of nodes and edges, in the order written. Types are GEXF's; GraphML's
# follow from them.
NODE_ATTRIBUTES = (
    ("schema", "string"),
    ("countries", "string"),
    ("scope", "string"),
    ("dataset", "string"),
)
EDGE_ATTRIBUTES = (
    ("kind", "string"),
    ("role", "string"),
    ("percentage", "double"),
    ("start", "string"),
    ("end", "string"),
    ("shipments", "integer"),
    ("value", "string"),
    ("years", "string"),
)
GRAPHML_TYPES = {"string": "string", "double": "double", "integer": "long"}


def _attr(value: object) -> str:
    return quoteattr(_XML_INVALID.sub("", str(value)))


def _text(value: object) -> str:
    return escape(_XML_INVALID.sub("", str(value)))


def _node_values(node: dict[str, Any]) -> dict[str, object]:
    return {
        "schema": node["schema"],
        "countries": ";".join(node.get("countries") or []),
        "scope": node["scope"],
        "dataset": node.get("dataset") or "",
    }


def _plain(number: object) -> str:
    """240000.0 -> "240000", 1234.50 -> "1234.5" (no exponent)."""
    return format(Decimal(str(number)).normalize(), "f")


def _trade_values(years: dict[str, Any]) -> tuple[str, str]:
    """("EUR 240000; USD 300000", "2022 EUR 240000; ...") from {"2022 EUR": total}."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for key, total in sorted(years.items()):
        if total is not None:
            totals[key.split(" ", 1)[1]] += Decimal(str(total))
    value = "; ".join(f"{currency} {_plain(total)}" for currency, total in sorted(totals.items()))
    by_year = "; ".join(f"{k} {_plain(v)}" for k, v in sorted(years.items()) if v is not None)
    return value, by_year


def _edge_values(edge: dict[str, Any]) -> dict[str, object]:
    values: dict[str, object] = {"kind": edge["kind"]}
    if edge["kind"] == "Trade":
        values["shipments"] = edge["shipments"]
        values["value"], values["years"] = _trade_values(edge.get("years") or {})
    else:
        values.update(
            role=edge.get("role") or "",
            start=edge.get("start") or "",
            end=edge.get("end") or "",
        )
        if edge.get("percentage") is not None:
            values["percentage"] = edge["percentage"]
    return {k: v for k, v in values.items() if v != ""}


def _gexf_values(values: dict[str, object]) -> str:
    cells = "".join(f'<attvalue for="{k}" value={_attr(v)}/>' for k, v in values.items())
    return f"<attvalues>{cells}</attvalues>"


def _graphml_data(cls: str, values: dict[str, object]) -> str:
    return "".join(f'<data key="{cls}_{k}">{_text(v)}</data>' for k, v in values.items())


def gexf_lines(*, case: Investigation, graph: Graph) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<gexf xmlns="http://www.gexf.net/1.2draft" version="1.2">\n'
    today = datetime.now(UTC).date().isoformat()
    yield (
        f'  <meta lastmodifieddate="{today}"><creator>Casefile</creator>'
        f"<description>{_text(case.title)}</description></meta>\n"
    )
    yield '  <graph mode="static" defaultedgetype="directed">\n'
    for cls, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        yield f'    <attributes class="{cls}">\n'
        for name, kind in attributes:
            yield f'      <attribute id="{name}" title="{name}" type="{kind}"/>\n'
        yield "    </attributes>\n"
    yield "    <nodes>\n"
    for node in graph.nodes:
        yield (
            f"      <node id={_attr(node['id'])} label={_attr(node['name'])}>"
            f"{_gexf_values(_node_values(node))}</node>\n"
        )
    yield "    </nodes>\n    <edges>\n"
    for edge in graph.edges:
        yield (
            f"      <edge id={_attr(edge['id'])} source={_attr(edge['source'])} "
            f"target={_attr(edge['target'])} label={_attr(edge['kind'])} "
            f'weight="{edge.get("shipments") or 1}">{_gexf_values(_edge_values(edge))}</edge>\n'
        )
    yield "    </edges>\n  </graph>\n</gexf>\n"


def graphml_lines(*, case: Investigation, graph: Graph) -> Iterator[str]:
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield (
        '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
        'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
    )
    yield '  <key id="label" for="node" attr.name="label" attr.type="string"/>\n'
    for cls, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name, kind in attributes:
            yield (
                f'  <key id="{cls}_{name}" for="{cls}" attr.name="{name}" '
                f'attr.type="{GRAPHML_TYPES[kind]}"/>\n'
            )
    yield f'  <graph id={_attr(case.slug)} edgedefault="directed">\n'
    for node in graph.nodes:
        yield (
            f"    <node id={_attr(node['id'])}>"
            f'<data key="label">{_text(node["name"])}</data>'
            f"{_graphml_data('node', _node_values(node))}</node>\n"
        )
    for edge in graph.edges:
        yield (
            f"    <edge id={_attr(edge['id'])} source={_attr(edge['source'])} "
            f"target={_attr(edge['target'])}>{_graphml_data('edge', _edge_values(edge))}</edge>\n"
        )
    yield "  </graph>\n</graphml>\n"
