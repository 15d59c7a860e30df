"""Match keys for the names already stored, and the word list that typo correction reads.

The trigger fills entities_nametoken from the TOKEN keys (kind 4) of whatever inserts keys
(services, the importer's SQL, the FtM import's COPY, this backfill): each new word with its
one-letter deletions, once per case file or once for the datasets.

The backfill reads the names in ranges of entity ids, computes their keys in Python
(transliteration has no SQL form) and COPYs them in; normalized names whose form changed (legal
forms anywhere, initials) are updated from a temporary table, one statement per range.
"""

from django.db import migrations

TRIGGER = """
CREATE FUNCTION entities_nametoken_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO entities_nametoken (token, investigation_id, deletions)
    SELECT t.key, t.investigation_id,
           ARRAY(SELECT left(t.key, i - 1) || substr(t.key, i + 1)
                 FROM generate_series(1, length(t.key)) AS i) || t.key::varchar
    FROM (SELECT DISTINCT key, investigation_id FROM new_keys WHERE kind = 4) AS t
    ON CONFLICT (token, investigation_id) DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER namekey_tokens AFTER INSERT ON entities_namekey
    REFERENCING NEW TABLE AS new_keys FOR EACH STATEMENT EXECUTE FUNCTION entities_nametoken_add();
"""
DROP_TRIGGER = """
DROP TRIGGER IF EXISTS namekey_tokens ON entities_namekey;
DROP FUNCTION IF EXISTS entities_nametoken_add();
"""

RANGE = 20_000  # entity ids per step


def backfill(apps, schema_editor) -> None:
    from entities.names import name_keys, normalize

    conn = schema_editor.connection.connection  # psycopg, for COPY
    with conn.cursor() as cur:
        cur.execute("SELECT min(entity_id), max(entity_id) FROM entities_entityname")
        low, high = cur.fetchone()
        if low is None:
            return
        cur.execute(
            "CREATE TEMPORARY TABLE backfill_norm (id bigint PRIMARY KEY, norm text)"
            " ON COMMIT DROP"
        )
        for start in range(low, high + 1, RANGE):
            cur.execute(
                """SELECT n.id, n.entity_id, n.investigation_id, n.dataset_id, n.name, n.norm,
                          e.schema = 'Person'
                     FROM entities_entityname n JOIN entities_entity e ON e.id = n.entity_id
                    WHERE n.entity_id >= %s AND n.entity_id < %s""",
                [start, start + RANGE],
            )
            keys: dict[tuple, set] = {}
            changed = []
            for pk, entity, case, dataset, name, norm, person in cur.fetchall():
                keys.setdefault((entity, case, dataset), set()).update(
                    name_keys(name, person=person)
                )
                new_norm = normalize(name)[:500]
                if new_norm != norm:
                    changed.append((pk, new_norm))
            with cur.copy(
                "COPY entities_namekey (entity_id, investigation_id, dataset_id, kind, key)"
                " FROM STDIN"
            ) as copy:
                for (entity, case, dataset), found in keys.items():
                    for kind, key in sorted(found):
                        copy.write_row((entity, case, dataset, int(kind), key))
            if changed:
                cur.execute("TRUNCATE backfill_norm")
                with cur.copy("COPY backfill_norm (id, norm) FROM STDIN") as copy:
                    for row in changed:
                        copy.write_row(row)
                cur.execute(
                    "UPDATE entities_entityname n SET norm = b.norm FROM backfill_norm b"
                    " WHERE n.id = b.id"
                )


class Migration(migrations.Migration):
    dependencies = [("entities", "0011_name_keys")]

    operations = [
        migrations.RunSQL(TRIGGER, DROP_TRIGGER),
        # Backwards, 0011 drops the keys' table; the normalized names stay as they are.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
