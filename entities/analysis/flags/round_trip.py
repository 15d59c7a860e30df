"""Round trip through common control: goods go A -> B, then the same HS heading goes B -> C
within FLAG_ROUND_TRIP_DAYS, where B and C (or A and B, as in the story's family chain: a German
firm owned by a couple ships to a Kazakh firm owned by their son) share an owner or director,
or their owners and directors are joined by family links within 2 hops.

"The same owner" means the same entity, or two entities that share an identifier. Namesakes
are not the same person: two "Ivan Petrov" with different INNs control nothing in common.
"""

from .base import FlagConfig, FlagScope, Hit, amount, day, entity_names, fetch

NAME = "round_trip"
LABEL = "Round trip through common control"
SHIPMENTS_CITED = 20

# Driven by who trades with whom: for each exporter -> importer pair, what their control
# reaches is compared. reach(company, node, hops): its owners and directors (hops 0, as one
# node per person: the smallest id among entities sharing an identifier) and their relatives
# one family link away (hops 1). Two companies are under common control when their reaches
# share a node: hops 0 + 0 is a shared owner or director, 0 + 1 a family link between their
# controllers, 1 + 1 family through one relative.
_SQL = """
WITH control AS MATERIALIZED (
    SELECT l.source_id AS controller, l.target_id AS company, l.id AS link_id
      FROM flag_links l WHERE l.kind IN ('Ownership', 'Directorship')
), canon AS MATERIALIZED (
    SELECT c.id, LEAST(c.id, MIN(o.entity_id)) AS key
      FROM (SELECT DISTINCT controller AS id FROM control) c
      LEFT JOIN entities_identifier i ON i.entity_id = c.id
      -- only controllers in the scope: an entity of another case file sharing both numbers
      -- must not make two of them one person here
      LEFT JOIN entities_identifier o ON o.scheme = i.scheme AND o.value = i.value
       AND o.entity_id IN (SELECT controller FROM control)
     GROUP BY c.id
), fam AS (
    SELECT source_id AS a, target_id AS b, id FROM flag_links WHERE kind = 'Family'
    UNION ALL
    SELECT target_id, source_id, id FROM flag_links WHERE kind = 'Family'
), reach AS MATERIALIZED (
    SELECT c.company, k.key AS node, 0 AS hops, c.controller, c.link_id, NULL::bigint AS fam_id
      FROM control c JOIN canon k ON k.id = c.controller
    UNION ALL
    SELECT c.company, f.b, 1, c.controller, c.link_id, f.id
      FROM control c JOIN fam f ON f.a = c.controller
), nodes AS MATERIALIZED (
    SELECT company, ARRAY_AGG(DISTINCT node) AS nodes FROM reach GROUP BY company
), pairs AS MATERIALIZED (
    -- Trading pairs whose reaches overlap: an array overlap per shipment, on hash joins; the
    -- few pairs left are then explained row by row. (Joining every pair's reach on nodes
    -- instead made 17 million rows to sort: bench/analysis.py.)
    SELECT DISTINCT s.exporter_id AS x, s.importer_id AS y
      FROM flag_shipments s
      JOIN nodes nx ON nx.company = s.exporter_id
      JOIN nodes ny ON ny.company = s.importer_id
     WHERE s.exporter_id <> s.importer_id AND nx.nodes && ny.nodes
), related AS (
    SELECT p.x, p.y, MIN(rx.hops + ry.hops) AS distance,
           (ARRAY_AGG(rx.controller ORDER BY rx.hops + ry.hops, rx.controller, ry.controller))[1]
               AS cx,
           (ARRAY_AGG(ry.controller ORDER BY rx.hops + ry.hops, rx.controller, ry.controller))[1]
               AS cy,
           (ARRAY_AGG(CONCAT_WS(',', rx.link_id, ry.link_id, rx.fam_id, ry.fam_id)
                      ORDER BY rx.hops + ry.hops, rx.controller, ry.controller))[1] AS links
      FROM pairs p
      JOIN reach rx ON rx.company = p.x
      JOIN reach ry ON ry.company = p.y AND ry.node = rx.node
     GROUP BY p.x, p.y
), legs AS (
    -- B -> C under common control, received from A before
    SELECT s1.exporter_id AS a, s1.importer_id AS b, s2.importer_id AS c, s1.heading,
           'bc' AS pair, r.distance, r.cx, r.cy, r.links, s1.id AS in_id, s2.id AS out_id,
           s1.date AS in_date, s2.date AS out_date
      FROM related r
      JOIN flag_shipments s2 ON s2.exporter_id = r.x AND s2.importer_id = r.y
      JOIN flag_shipments s1 ON s1.importer_id = r.x AND s1.heading = s2.heading
       AND s1.date <= s2.date AND s2.date <= s1.date + %(days)s
     WHERE s1.exporter_id IS NOT NULL AND s1.exporter_id <> r.x
    UNION ALL
    -- A -> B under common control, shipped on to C after
    SELECT s1.exporter_id, s1.importer_id, s2.importer_id, s1.heading, 'ab', r.distance, r.cx,
           r.cy, r.links, s1.id, s2.id, s1.date, s2.date
      FROM related r
      JOIN flag_shipments s1 ON s1.exporter_id = r.x AND s1.importer_id = r.y
      JOIN flag_shipments s2 ON s2.exporter_id = r.y AND s2.heading = s1.heading
       AND s1.date <= s2.date AND s2.date <= s1.date + %(days)s
     WHERE s2.importer_id IS NOT NULL AND s2.importer_id <> r.y
)
SELECT a, b, c, heading, pair, MIN(distance) AS distance,
       (ARRAY_AGG(cx ORDER BY distance, cx, cy))[1] AS cx,
       (ARRAY_AGG(cy ORDER BY distance, cx, cy))[1] AS cy,
       ARRAY_AGG(DISTINCT links) AS link_text,
       COUNT(DISTINCT (in_id, out_id)) AS chains,
       MIN(in_date) AS first_in, MAX(out_date) AS last_out,
       (ARRAY_AGG(DISTINCT in_id))[1:%(cited)s] AS in_ids,
       (ARRAY_AGG(DISTINCT out_id))[1:%(cited)s] AS out_ids
  FROM legs
 GROUP BY a, b, c, heading, pair
 ORDER BY MIN(distance), COUNT(DISTINCT (in_id, out_id)) DESC, a, b, c, heading
 LIMIT %(limit)s
"""

HOW = {
    "same": ("share {cx} as owner or director", 1.0),
    "identifier": ("are controlled by {cx} and {cy}, one person by a shared identifier", 0.9),
    "family": ("are controlled by {cx} and {cy}, who are family", 0.8),
    "family2": ("are controlled by {cx} and {cy}, family through one relative", 0.7),
}


def detect(config: FlagConfig, scope: FlagScope) -> list[Hit]:
    rows = fetch(
        _SQL, {"days": config.round_trip_days, "cited": SHIPMENTS_CITED, "limit": config.max_hits}
    )
    names = entity_names({row[k] for row in rows for k in ("a", "b", "c", "cx", "cy")})
    hits = []
    for row in rows:
        how = ("same" if row["cx"] == row["cy"] else "identifier", "family", "family2")[
            row["distance"]
        ]
        template, score = HOW[how]
        a, b, c = (names.get(row[k], "?") for k in ("a", "b", "c"))
        x, y = (a, b) if row["pair"] == "ab" else (b, c)
        control = template.format(cx=names.get(row["cx"], "?"), cy=names.get(row["cy"], "?"))
        links = sorted({int(i) for text in row["link_text"] for i in text.split(",") if i})
        explanation = (
            f"HS {row['heading']} went {a} → {b} → {c} "
            f"({day(row['first_in'])} to {day(row['last_out'])}, "
            f"{amount(row['chains'])} chain(s)); {x} and {y} {control}."
        )
        hits.append(
            Hit(
                detector=NAME,
                score=score,
                explanation=explanation,
                entity_ids=list(
                    dict.fromkeys(row[k] for k in ("a", "b", "c", "cx", "cy") if row[k])
                ),
                shipment_ids=list(dict.fromkeys([*row["in_ids"], *row["out_ids"]])),
                link_ids=links,
                facts={
                    "heading": row["heading"],
                    "pair": row["pair"],
                    "control": how,
                    "chains": row["chains"],
                    "first_in": day(row["first_in"]),
                    "last_out": day(row["last_out"]),
                },
            )
        )
    return hits
