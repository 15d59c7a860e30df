# Entries written before ActivityEntry.refs name the entities their link, shipment or pin is
# about, so those entities' pages show them (entities/activity_text.py sets refs from now on).

from django.db import migrations

SQL = """
UPDATE investigations_activityentry e
   SET refs = e.refs || ARRAY['entities.entity:' || l.source_id, 'entities.entity:' || l.target_id]
  FROM django_content_type ct, entities_link l
 WHERE ct.id = e.content_type_id AND ct.app_label = 'entities' AND ct.model = 'link'
   AND e.object_id = l.id::text AND cardinality(e.refs) <= 1;
UPDATE investigations_activityentry e
   SET refs = e.refs || ARRAY_REMOVE(ARRAY['entities.entity:' || s.exporter_id,
                                           'entities.entity:' || s.importer_id], NULL)
  FROM django_content_type ct, entities_shipment s
 WHERE ct.id = e.content_type_id AND ct.app_label = 'entities' AND ct.model = 'shipment'
   AND e.object_id = s.id::text AND cardinality(e.refs) <= 1;
UPDATE investigations_activityentry e
   SET refs = e.refs || ARRAY['entities.entity:' || p.entity_id]
  FROM django_content_type ct, entities_pin p
 WHERE ct.id = e.content_type_id AND ct.app_label = 'entities' AND ct.model = 'pin'
   AND e.object_id = p.id::text AND cardinality(e.refs) <= 1;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("entities", "0006_flow_triggers_always"),
        ("investigations", "0003_activity_refs"),
    ]

    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop)]
