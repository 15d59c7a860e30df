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

# related(x, y): companies x and y under common control, with how and the links that show it.
# Owners and directors are canonicalised first: the smallest id among controllers sharing an
# identifier stands for all of them.
_SQL = """
WITH control AS (
    SELECT l.source_id AS controller, l.target_id AS company, l.id AS link_id
      FROM flag_links l WHERE l.kind IN ('Ownership', 'Directorship')
), controllers AS (
    SELECT DISTINCT controller AS id FROM control
), canon AS (
    SELECT c.id, LEAST(c.id, MIN(o.entity_id)) AS key
      FROM controllers c
      LEFT JOIN entities_identifier i ON i.entity_id = c.id
      LEFT JOIN entities_identifier o
        ON o.scheme = i.scheme AND o.value = i.value
       AND o.entity_id IN (SELECT id FROM controllers)
     GROUP BY c.id
), ctl AS (
    SELECT control.*, canon.key FROM control JOIN canon ON canon.id = control.controller
), fam AS (
    SELECT source_id AS a, target_id AS b, id FROM flag_links WHERE kind = 'Family'
    UNION ALL
    SELECT target_id, source_id, id FROM flag_links WHERE kind = 'Family'
), fam2 AS (
    SELECT a, b, ARRAY[id] AS ids FROM fam
    UNION ALL
    SELECT f1.a, f2.b, ARRAY[f1.id, f2.id] FROM fam f1 JOIN fam f2 ON f2.a = f1.b
     WHERE f2.b <> f1.a
), related AS (
    SELECT a.company AS x, b.company AS y,
           CASE WHEN a.controller = b.controller THEN 'same' ELSE 'identifier' END AS how,
           CASE WHEN a.controller = b.controller THEN 1 ELSE 2 END AS rank,
           a.controller AS cx, b.controller AS cy, ARRAY[a.link_id, b.link_id] AS links
      FROM ctl a JOIN ctl b ON b.key = a.key AND b.company <> a.company
    UNION ALL
    SELECT a.company, b.company,
           CASE WHEN CARDINALITY(f.ids) = 1 THEN 'family' ELSE 'family2' END,
           2 + CARDINALITY(f.ids), a.controller, b.controller, ARRAY[a.link_id, b.link_id] || f.ids
      FROM ctl a JOIN fam2 f ON f.a = a.controller
      JOIN ctl b ON b.controller = f.b AND b.company <> a.company
), legs AS (
    -- B -> C under common control, received from A before
    SELECT s1.exporter_id AS a, s1.importer_id AS b, s2.importer_id AS c, s1.heading,
           'bc' AS pair, r.how, r.rank, r.cx, r.cy, r.links, s1.id AS in_id, s2.id AS out_id,
           s1.date AS in_date, s2.date AS out_date, s1.quantity AS in_qty,
           s2.quantity AS out_qty, s1.unit
      FROM related r
      JOIN flag_shipments s2 ON s2.exporter_id = r.x AND s2.importer_id = r.y
      JOIN flag_shipments s1 ON s1.importer_id = r.x AND s1.heading = s2.heading
       AND s1.date <= s2.date AND s2.date <= s1.date + %(days)s
     WHERE s1.exporter_id IS NOT NULL
    UNION ALL
    -- A -> B under common control, shipped on to C after
    SELECT s1.exporter_id, s1.importer_id, s2.importer_id, s1.heading, 'ab', r.how, r.rank,
           r.cx, r.cy,
           r.links, s1.id, s2.id, s1.date, s2.date, s1.quantity, s2.quantity, s1.unit
      FROM related r
      JOIN flag_shipments s1 ON s1.exporter_id = r.x AND s1.importer_id = r.y
      JOIN flag_shipments s2 ON s2.exporter_id = r.y AND s2.heading = s1.heading
       AND s1.date <= s2.date AND s2.date <= s1.date + %(days)s
     WHERE s2.importer_id IS NOT NULL
)
SELECT a, b, c, heading, pair, MIN(rank) AS strength,
       (ARRAY_AGG(how ORDER BY rank, cx, cy))[1] AS how,
       (ARRAY_AGG(cx ORDER BY rank, cx, cy))[1] AS cx,
       (ARRAY_AGG(cy ORDER BY rank, cx, cy))[1] AS cy,
       ARRAY(SELECT DISTINCT UNNEST(ARRAY_AGG(links_text)::text[])) AS link_text,
       COUNT(DISTINCT (in_id, out_id)) AS chains,
       MIN(in_date) AS first_in, MAX(out_date) AS last_out,
       (ARRAY_AGG(DISTINCT in_id))[1:%(cited)s] AS in_ids,
       (ARRAY_AGG(DISTINCT out_id))[1:%(cited)s] AS out_ids
  FROM (SELECT legs.*, ARRAY_TO_STRING(links, ',') AS links_text FROM legs) t
 GROUP BY a, b, c, heading, pair
 ORDER BY strength, chains DESC, a, b, c, heading
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
        template, score = HOW[row["how"]]
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
                    "control": row["how"],
                    "chains": row["chains"],
                    "first_in": day(row["first_in"]),
                    "last_out": day(row["last_out"]),
                },
            )
        )
    return hits
