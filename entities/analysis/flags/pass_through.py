"""Pass-through: B receives goods of an HS heading and ships the same heading on within N days
(default 30), with the quantity (same unit) or the value (same currency) equal within a
tolerance (default 1%). The story's Kazakh firm received 2,598 microchips and sent exactly
2,598 to Russia; 2,598 in and 1,900 out is not a pass-through.

One hit per receiving entity and heading, citing every matched pair (the first 20 shipments).
"""

import datetime

from .base import FlagConfig, FlagScope, Hit, amount, day, entity_names, fetch, json_rows

NAME = "pass_through"
LABEL = "Pass-through"
PAIRS_CITED = 10

# Each received shipment is paired with the first matching shipment out (an index probe on
# flag_shipments (exporter_id, heading, date)), then pairs are grouped per entity and heading.
_SQL = """
WITH pairs AS (
    SELECT s1.importer_id AS entity, s1.heading, s1.id AS in_id, s2.id AS out_id,
           s1.date AS in_date, s2.date AS out_date, s1.exporter_id AS sender,
           s2.importer_id AS receiver, s1.quantity AS in_qty, s2.quantity AS out_qty, s1.unit,
           s1.value AS in_value, s2.value AS out_value, s1.currency AS in_cur,
           s2.currency AS out_cur, s2.match_exact
      FROM flag_shipments s1
      CROSS JOIN LATERAL (
          SELECT o.id, o.date, o.importer_id, o.quantity, o.value, o.currency,
                 (o.quantity = s1.quantity OR o.value = s1.value) AS match_exact
            FROM flag_shipments o
           WHERE o.exporter_id = s1.importer_id AND o.heading = s1.heading
             AND o.date >= s1.date AND o.date <= s1.date + %(days)s
             AND o.id <> s1.id
             AND ((s1.quantity > 0 AND o.unit = s1.unit
                   AND ABS(o.quantity - s1.quantity) <= %(tol)s * s1.quantity)
               OR (s1.value > 0 AND o.currency = s1.currency
                   AND ABS(o.value - s1.value) <= %(tol)s * s1.value))
           ORDER BY (o.quantity = s1.quantity OR o.value = s1.value) DESC, o.date, o.id
           LIMIT 1
      ) s2
     WHERE s1.importer_id IS NOT NULL
)
SELECT entity, heading, COUNT(*) AS pairs, BOOL_OR(match_exact) AS exact,
       MIN(out_date - in_date) AS fastest,
       (ARRAY_AGG(JSONB_BUILD_OBJECT(
            'in', in_id, 'out', out_id, 'in_date', in_date, 'out_date', out_date,
            'sender', sender, 'receiver', receiver, 'in_qty', in_qty, 'out_qty', out_qty,
            'unit', unit, 'in_value', in_value, 'out_value', out_value, 'in_cur', in_cur,
            'out_cur', out_cur)
            ORDER BY match_exact DESC, out_date - in_date, in_id))[1:%(cited)s] AS examples
  FROM pairs
 GROUP BY entity, heading
 ORDER BY BOOL_OR(match_exact) DESC, COUNT(*) DESC, entity, heading
 LIMIT %(limit)s
"""


def _describe(pair: dict, names: dict[int, str]) -> str:
    days = _days(pair)
    if pair["in_qty"] is not None and pair["out_qty"] is not None and pair["unit"] is not None:
        what = f"{amount(pair['in_qty'])} {pair['unit']} in, {amount(pair['out_qty'])} out"
    else:
        what = (
            f"{amount(pair['in_value'])} {pair['in_cur']} in, "
            f"{amount(pair['out_value'])} {pair['out_cur']} out"
        )
    sender = names.get(pair["sender"], "an unknown sender")
    receiver = names.get(pair["receiver"], "an unknown buyer")
    return (
        f"{what} within {days} day(s): from {sender} on {day(pair['in_date'])}, "
        f"to {receiver} on {day(pair['out_date'])}"
    )


def _days(pair: dict) -> int:
    a = datetime.date.fromisoformat(pair["in_date"])
    b = datetime.date.fromisoformat(pair["out_date"])
    return (b - a).days


def detect(config: FlagConfig, scope: FlagScope) -> list[Hit]:
    rows = fetch(
        _SQL,
        {
            "days": config.pass_through_days,
            "tol": config.pass_through_tolerance,
            "cited": PAIRS_CITED,
            "limit": config.max_hits,
        },
    )
    for row in rows:
        row["examples"] = json_rows(row["examples"])
    names = entity_names(
        {row["entity"] for row in rows}
        | {p[k] for row in rows for p in row["examples"] for k in ("sender", "receiver") if p[k]}
    )
    hits = []
    for row in rows:
        examples = row["examples"]
        first = _describe(examples[0], names)
        more = f" ({row['pairs']} matching pairs in all)" if row["pairs"] > 1 else ""
        explanation = (
            f"{names.get(row['entity'], '?')} received HS {row['heading']} and shipped it on: "
            f"{first}{more}."
        )
        parties = [p[k] for p in examples for k in ("sender", "receiver") if p[k]]
        hits.append(
            Hit(
                detector=NAME,
                score=1.0 if row["exact"] else 0.8,
                explanation=explanation,
                entity_ids=list(dict.fromkeys([row["entity"], *parties])),
                shipment_ids=list(dict.fromkeys(i for p in examples for i in (p["in"], p["out"]))),
                facts={
                    "heading": row["heading"],
                    "pairs": row["pairs"],
                    "fastest_days": row["fastest"],
                    "examples": examples,
                },
            )
        )
    return hits
