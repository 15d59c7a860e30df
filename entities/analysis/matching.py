"""The name matcher of the sanctions flag and batch screening, in one place so it can be swapped.

It reads the EntityName table (every name and alias, normalized by entities.names: legal forms
stripped, Cyrillic transliterated) and the match keys search uses (entities_namekey): equal
normalized names, pg_trgm similarity of normalized names (served by entityname_norm_trgm), and
equal NAME keys (the same words in any order and any transliteration scheme).
"""

from entities.names import NameKind, name_keys, normalize

# FtM topics that mark an entity as sanctioned (OpenSanctions: sanctioned, linked to a
# sanctioned entity, on a counter-sanctions list).
SANCTION_TOPICS = ["sanction", "sanction.linked", "sanction.counter"]

# Sanctioned entities: of a dataset marked as a sanctions list, or with a sanction topic.
# Never a case file's entity. %(exclude_dataset)s: a dataset screened against the others.
SANCTIONED_SQL = """
    SELECT e.id, e.countries || e.nationality AS nations, d.name AS dataset,
           CASE WHEN JSONB_TYPEOF(e.extra -> 'topics') = 'array'
                THEN ARRAY(SELECT JSONB_ARRAY_ELEMENTS_TEXT(e.extra -> 'topics'))
                ELSE '{}' END AS topics,
           d.is_sanctions_list
      FROM entities_entity e JOIN entities_dataset d ON d.id = e.dataset_id
     WHERE e.dataset_id IS DISTINCT FROM %(exclude_dataset)s
       AND (d.is_sanctions_list OR (e.extra -> 'topics') ?| %(topics)s)
"""

# Pairs (left entity, right entity) with equal normalized names; {left} and {right} are
# relations with an `id` column. Hash join on norm: set-based for a whole dataset.
EQUAL_NAMES_SQL = """
    SELECT n.entity_id AS left_id, k.entity_id AS right_id, n.name AS left_name,
           k.name AS right_name, 1.0::float AS similarity
      FROM entities_entityname n
      JOIN entities_entityname k ON k.norm = n.norm AND k.entity_id <> n.entity_id
     WHERE n.entity_id IN (SELECT id FROM {left}) AND k.entity_id IN (SELECT id FROM {right})
       AND n.norm <> ''
"""

# Pairs with similar normalized names (pg_trgm similarity >= %(similarity)s): the trigram index
# finds candidates (% uses the default threshold 0.3, below ours), for a few left names only.
SIMILAR_NAMES_SQL = """
    SELECT n.entity_id AS left_id, k.entity_id AS right_id, n.name AS left_name,
           k.name AS right_name, SIMILARITY(k.norm, n.norm)::float AS similarity
      FROM entities_entityname n
      JOIN entities_entityname k ON k.norm %% n.norm AND k.entity_id <> n.entity_id
     WHERE n.entity_id IN (SELECT id FROM {left}) AND k.entity_id IN (SELECT id FROM {right})
       AND SIMILARITY(k.norm, n.norm) >= %(similarity)s
"""


def query_forms(name: str) -> tuple[str, list[str]]:
    """(normalized name, its NAME keys) of a name typed or uploaded by a person."""
    keys = sorted(key for kind, key in name_keys(name) if kind == NameKind.NAME)
    return normalize(name), keys
