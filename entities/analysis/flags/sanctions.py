"""Sanctions match: an entity of the scope matches a sanctioned entity (FtM topics with
"sanction", as OpenSanctions marks them, or any entity of a dataset marked as a sanctions list)
by identifier (score 1.0), or by normalized name and a shared country (0.9; in a case file also
similar names, score = 0.9 x similarity). An entity that is itself on a list (pinned from it)
is a hit too. Names are matched through entities.analysis.matching.
"""

from .. import matching
from .base import FlagConfig, FlagScope, Hit, entity_names, fetch

NAME = "sanctions"
LABEL = "Sanctions match"

# Each branch carries what the page says about the listed entity, so nothing joins back to
# `sanctioned` at the end (its row estimate is poor: a join back re-ran every branch per
# sanctioned entity in bench/analysis.py).
_SQL = """
WITH sanctioned AS MATERIALIZED (
    SELECT s.id, s.nations, s.dataset, ARRAY_TO_STRING(s.topics, ', ') AS topics
      FROM ({sanctioned}) s
), mine AS MATERIALIZED (
    SELECT e.id, e.countries || e.nationality AS nations
      FROM flag_entities f JOIN entities_entity e ON e.id = f.id
), listed AS (
    SELECT m.id AS entity, s.id AS match, 1.0::float AS score, 'listed' AS how, '' AS detail,
           s.dataset, s.topics
      FROM mine m JOIN sanctioned s ON s.id = m.id
), by_identifier AS (
    SELECT m.id, s.id, 1.0::float, 'identifier', i.scheme || ' ' || i.value, s.dataset, s.topics
      FROM mine m
      JOIN entities_identifier i ON i.entity_id = m.id
      JOIN entities_identifier j ON j.value = i.value
       AND (j.scheme = i.scheme OR 'registration' IN (i.scheme, j.scheme))
      JOIN sanctioned s ON s.id = j.entity_id
     WHERE s.id <> m.id
), names AS ({names}
), by_name AS (
    SELECT m.id, s.id, 0.9 * n.similarity, 'name', n.left_name || ' ~ ' || n.right_name,
           s.dataset, s.topics
      FROM names n
      JOIN mine m ON m.id = n.left_id
      JOIN sanctioned s ON s.id = n.right_id
     WHERE m.nations && s.nations
), found AS (
    SELECT * FROM listed UNION ALL SELECT * FROM by_identifier UNION ALL SELECT * FROM by_name
)
SELECT entity, match, MAX(score) AS score,
       (ARRAY_AGG(how ORDER BY score DESC, how))[1] AS how,
       (ARRAY_AGG(detail ORDER BY score DESC, how))[1] AS detail,
       MIN(dataset) AS dataset, MIN(topics) AS topics
  FROM found
 GROUP BY entity, match
 ORDER BY MAX(score) DESC, entity, match
 LIMIT %(limit)s
"""

HOW = {
    "listed": "{a} is itself on a sanctions list ({where})",
    "identifier": "{a} shares the identifier {detail} with {b} ({where})",
    "name": "{a} matches {b} ({where}) by name ({detail}) and country",
}


def detect(config: FlagConfig, scope: FlagScope) -> list[Hit]:
    dataset_id = None if scope.is_case else scope.dataset.pk
    # Exact names for a dataset (a hash join over every name); similar names too in a case
    # file, whose few names can each use the trigram index.
    names = matching.EQUAL_NAMES_SQL.format(left="mine", right="sanctioned")
    if dataset_id is None:
        names += " UNION ALL " + matching.SIMILAR_NAMES_SQL.format(left="mine", right="sanctioned")
    rows = fetch(
        _SQL.format(sanctioned=matching.SANCTIONED_SQL, names=names),
        {
            "exclude_dataset": dataset_id,
            "topics": matching.SANCTION_TOPICS,
            "similarity": config.sanctions_name_similarity,
            "limit": config.max_hits,
        },
    )
    labels = entity_names({r["entity"] for r in rows} | {r["match"] for r in rows})
    hits = []
    for row in rows:
        where = row["dataset"] + (f"; topics: {row['topics']}" if row["topics"] else "")
        explanation = (
            HOW[row["how"]].format(
                a=labels.get(row["entity"], "?"),
                b=labels.get(row["match"], "?"),
                detail=row["detail"],
                where=where,
            )
            + f" (score {row['score']:.2f})."
        )
        hits.append(
            Hit(
                detector=NAME,
                score=round(float(row["score"]), 3),
                explanation=explanation,
                entity_ids=list(dict.fromkeys([row["entity"], row["match"]])),
                facts={
                    "match": row["how"],
                    "detail": row["detail"],
                    "dataset": row["dataset"],
                    "topics": row["topics"],
                },
            )
        )
    return hits
