"""Trade surge: the value of a sensitive HS chapter into a country (by destination) or through
it (a case's shipments dispatched from it) grows more than FLAG_SURGE_FACTOR (default 2x) from
one year to the next, from a base of at least FLAG_SURGE_MIN_VALUE, in one currency.

A dataset's flows are read from its flow summary (entities_flowsummary, kept by triggers), so a
million shipments cost a few thousand rows; a case file's from its shipments. Each hit cites the
ten largest shipments of the surge year.
"""

from .base import FlagConfig, FlagScope, Hit, amount, fetch

NAME = "trade_surge"
LABEL = "Trade surge"
SHIPMENTS_CITED = 10

# Yearly totals per (direction, chapter, country, currency): the summary of a dataset...
_FROM_SUMMARY = """
    SELECT 'into' AS direction, LEFT(hs_code, 2) AS chapter, destination_country AS country,
           currency, year::int AS year, SUM(total) AS total, SUM(shipments) AS shipments
      FROM entities_flowsummary
     WHERE dataset_id = %(dataset)s AND valued > 0 AND destination_country <> ''
       AND LEFT(hs_code, 2) = ANY(%(chapters)s)
     GROUP BY 1, 2, 3, 4, 5
"""
# ... or a case file's shipments (into: destination; through: dispatch country).
_FROM_SHIPMENTS = """
    SELECT d.direction, LEFT(s.hs_code, 2) AS chapter, d.country, s.currency,
           EXTRACT(year FROM s.date)::int AS year, SUM(s.value) AS total, COUNT(*) AS shipments
      FROM flag_shipments s
     CROSS JOIN LATERAL (VALUES ('into', s.destination_country),
                                ('through', s.dispatch_country)) AS d(direction, country)
     WHERE s.value IS NOT NULL AND d.country <> '' AND LEFT(s.hs_code, 2) = ANY(%(chapters)s)
     GROUP BY 1, 2, 3, 4, 5
"""
_SURGES = """
WITH yearly AS ({source})
SELECT cur.direction, cur.chapter, cur.country, cur.currency, cur.year,
       prev.total AS before, cur.total AS after, cur.total / prev.total AS growth,
       cur.shipments, prev.shipments AS shipments_before
  FROM yearly cur
  JOIN yearly prev ON prev.direction = cur.direction AND prev.chapter = cur.chapter
   AND prev.country = cur.country AND prev.currency = cur.currency AND prev.year = cur.year - 1
 WHERE prev.total >= GREATEST(%(min_value)s, 0.01) AND cur.total > %(factor)s * prev.total
 ORDER BY cur.total / prev.total DESC, cur.chapter, cur.country, cur.year
 LIMIT %(limit)s
"""
# The largest shipments of each surge (chapter, country, direction, currency, year): one hash
# join of the shipments with the surges, ranked per surge.
_CITED = """
WITH k AS (
    SELECT * FROM UNNEST(%(chapters)s::text[], %(countries)s::text[], %(directions)s::text[],
                         %(currencies)s::text[], %(years)s::int[])
           WITH ORDINALITY AS k(chapter, country, direction, currency, year, n)
), matched AS (
    SELECT k.n, s.id, s.importer_id, s.value FROM flag_shipments s
      JOIN k ON k.direction = 'into' AND k.country = s.destination_country
       AND k.chapter = LEFT(s.hs_code, 2) AND k.currency = s.currency
       AND k.year = EXTRACT(year FROM s.date)::int
     WHERE s.value IS NOT NULL
    UNION ALL
    SELECT k.n, s.id, s.importer_id, s.value FROM flag_shipments s
      JOIN k ON k.direction = 'through' AND k.country = s.dispatch_country
       AND k.chapter = LEFT(s.hs_code, 2) AND k.currency = s.currency
       AND k.year = EXTRACT(year FROM s.date)::int
     WHERE s.value IS NOT NULL
)
SELECT n, id, importer_id FROM (
    SELECT matched.*, ROW_NUMBER() OVER (PARTITION BY n ORDER BY value DESC, id) AS r
      FROM matched
) ranked
WHERE r <= %(cited)s
ORDER BY n, r
"""


def detect(config: FlagConfig, scope: FlagScope) -> list[Hit]:
    dataset_id = None if scope.is_case else scope.dataset.pk
    source = _FROM_SUMMARY if dataset_id is not None else _FROM_SHIPMENTS
    rows = fetch(
        _SURGES.format(source=source),
        {
            "dataset": dataset_id,
            "chapters": config.sensitive_chapters,
            "min_value": config.surge_min_value,
            "factor": config.surge_factor,
            "limit": config.max_hits,
        },
    )
    cited: dict[int, list[tuple[int, int | None]]] = {}
    if rows:
        for row in fetch(
            _CITED,
            {
                "chapters": [r["chapter"] for r in rows],
                "countries": [r["country"] for r in rows],
                "directions": [r["direction"] for r in rows],
                "currencies": [r["currency"] for r in rows],
                "years": [r["year"] for r in rows],
                "cited": SHIPMENTS_CITED,
            },
        ):
            cited.setdefault(row["n"] - 1, []).append((row["id"], row["importer_id"]))
    hits = []
    for i, row in enumerate(rows):
        growth = float(row["growth"])
        how = "into" if row["direction"] == "into" else "through"
        explanation = (
            f"HS chapter {row['chapter']} {how} {row['country']} grew {growth:.1f}x in "
            f"{row['year']}: {amount(row['before'])} {row['currency']} in {row['year'] - 1} "
            f"({row['shipments_before']} shipments), {amount(row['after'])} {row['currency']} in "
            f"{row['year']} ({row['shipments']} shipments)."
        )
        shipments = cited.get(i, [])
        hits.append(
            Hit(
                detector=NAME,
                score=min(1.0, growth / (2 * config.surge_factor)),
                explanation=explanation,
                entity_ids=list(dict.fromkeys(e for _, e in shipments if e)),
                shipment_ids=[s for s, _ in shipments],
                facts={
                    "chapter": row["chapter"],
                    "country": row["country"],
                    "direction": row["direction"],
                    "currency": row["currency"],
                    "year": row["year"],
                    "before": str(row["before"]),
                    "after": str(row["after"]),
                    "growth": round(growth, 3),
                },
            )
        )
    return hits
