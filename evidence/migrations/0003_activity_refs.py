# Entries written before ActivityEntry.refs name the entities their citation, snapshot or watch
# is about, so those entities' pages show them (evidence/activity_text.py sets refs from now on).

from django.db import migrations

SQL = """
UPDATE investigations_activityentry e
   SET refs = e.refs || ARRAY_REMOVE(ARRAY[
         'entities.entity:' || c.entity_id,
         'entities.link:' || c.link_id,
         'entities.shipment:' || c.shipment_id,
         'evidence.document:' || c.document_id,
         'evidence.snapshot:' || c.snapshot_id,
         'entities.entity:' || l.source_id,
         'entities.entity:' || l.target_id,
         'entities.entity:' || s.exporter_id,
         'entities.entity:' || s.importer_id], NULL)
  FROM django_content_type ct, evidence_citation c
  LEFT JOIN entities_link l ON l.id = c.link_id
  LEFT JOIN entities_shipment s ON s.id = c.shipment_id
 WHERE ct.id = e.content_type_id AND ct.app_label = 'evidence' AND ct.model = 'citation'
   AND e.object_id = c.id::text AND cardinality(e.refs) <= 1;
UPDATE investigations_activityentry e
   SET refs = e.refs || ARRAY['entities.entity:' || x.entity_id]
  FROM django_content_type ct, evidence_snapshot x
 WHERE ct.id = e.content_type_id AND ct.app_label = 'evidence' AND ct.model = 'snapshot'
   AND e.object_id = x.id::text AND x.entity_id IS NOT NULL AND cardinality(e.refs) <= 1;
UPDATE investigations_activityentry e
   SET refs = e.refs || ARRAY['entities.entity:' || w.entity_id]
  FROM django_content_type ct, evidence_watch w
 WHERE ct.id = e.content_type_id AND ct.app_label = 'evidence' AND ct.model = 'watch'
   AND e.object_id = w.id::text AND w.entity_id IS NOT NULL AND cardinality(e.refs) <= 1;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_job_draft_status"),
        ("entities", "0007_activity_refs"),
        ("investigations", "0003_activity_refs"),
    ]

    operations = [migrations.RunSQL(SQL, migrations.RunSQL.noop)]
