"""Newly founded intermediary: incorporated after a date (default 2022-02-24) in a transit
country (default KZ, AM, KG, GE, AE, TR, UZ), owned or directed by a national of RU or BY (a
person's nationality, a company owner's jurisdiction), trading in sensitive HS codes.

A partial date ("2022", "2022-02") that may or may not fall after the cut-off is flagged with a
lower score and says so; a company founded before it (2019) is not flagged.
"""

from .base import FlagConfig, FlagScope, Hit, amount, fetch, json_rows

NAME = "newly_founded"
LABEL = "Newly founded intermediary"
SHIPMENTS_CITED = 20

_SQL = """
WITH companies AS (
    SELECT e.id, e.name, e.start_date, e.countries FROM flag_entities f
      JOIN entities_entity e ON e.id = f.id
     WHERE e.schema <> 'Person' AND e.start_date <> ''
       AND e.countries && %(countries)s::varchar[]
       -- the period of a partial date ends on or after the cut-off
       AND e.start_date >= LEFT(%(after)s, LENGTH(e.start_date))
), controllers AS (
    SELECT l.target_id AS company, l.id AS link_id, l.kind, p.id AS person, p.name, p.schema,
           CASE WHEN p.schema = 'Person' THEN p.nationality ELSE p.countries END AS nations
      FROM companies c
      JOIN flag_links l ON l.target_id = c.id AND l.kind IN ('Ownership', 'Directorship')
      JOIN entities_entity p ON p.id = l.source_id
     WHERE (CASE WHEN p.schema = 'Person' THEN p.nationality ELSE p.countries END)
           && %(nations)s::varchar[]
), trade AS (
    SELECT c.id AS company, s.id, s.date, s.hs_code FROM companies c
      JOIN flag_shipments s ON s.exporter_id = c.id
     WHERE s.hs_code LIKE ANY(%(hs)s)
    UNION
    SELECT c.id, s.id, s.date, s.hs_code FROM companies c
      JOIN flag_shipments s ON s.importer_id = c.id
     WHERE s.hs_code LIKE ANY(%(hs)s)
), traded AS (
    SELECT company, COUNT(*) AS shipments,
           (ARRAY_AGG(id ORDER BY date, id))[1:%(cited)s] AS shipment_ids,
           ARRAY_AGG(DISTINCT LEFT(hs_code, 4) ORDER BY LEFT(hs_code, 4)) AS headings
      FROM trade GROUP BY company
)
SELECT c.id, c.name, c.start_date, c.countries, t.shipments, t.shipment_ids, t.headings,
       c.start_date >= %(after)s AS certain,
       JSONB_AGG(JSONB_BUILD_OBJECT('id', k.person, 'name', k.name, 'kind', k.kind,
                                    'nations', k.nations, 'link', k.link_id)
                 ORDER BY k.kind, k.name, k.link_id) AS controllers
  FROM companies c
  JOIN traded t ON t.company = c.id
  JOIN controllers k ON k.company = c.id
 GROUP BY c.id, c.name, c.start_date, c.countries, t.shipments, t.shipment_ids, t.headings
 ORDER BY certain DESC, t.shipments DESC, c.id
 LIMIT %(limit)s
"""


def detect(config: FlagConfig, scope: FlagScope) -> list[Hit]:
    rows = fetch(
        _SQL,
        {
            "after": config.founded_after,
            "countries": config.intermediary_countries,
            "nations": config.owner_nationalities,
            "hs": config.hs_patterns,
            "cited": SHIPMENTS_CITED,
            "limit": config.max_hits,
        },
    )
    hits = []
    for row in rows:
        controllers = json_rows(row["controllers"])
        people = "; ".join(
            f"{'owned' if c['kind'] == 'Ownership' else 'directed'} by {c['name']} "
            f"({', '.join(c['nations'])})"
            for c in controllers
        )
        when = f"incorporated {row['start_date']}"
        if not row["certain"]:
            when += f" (not precise enough to tell whether before or after {config.founded_after})"
        else:
            when += f", after {config.founded_after}"
        explanation = (
            f"{row['name']} ({', '.join(row['countries'])}) was {when}; {people}; "
            f"{amount(row['shipments'])} shipment(s) of sensitive goods "
            f"(HS {', '.join(row['headings'])})."
        )
        hits.append(
            Hit(
                detector=NAME,
                score=1.0 if row["certain"] else 0.6,
                explanation=explanation,
                entity_ids=[row["id"], *dict.fromkeys(c["id"] for c in controllers)],
                shipment_ids=list(row["shipment_ids"]),
                link_ids=[c["link"] for c in controllers],
                facts={
                    "incorporated": row["start_date"],
                    "countries": row["countries"],
                    "controllers": controllers,
                    "sensitive_shipments": row["shipments"],
                    "headings": row["headings"],
                },
            )
        )
    return hits
