from django.db import migrations

# The shipment importer checks its foreign keys per batch and merges with the session's row
# triggers off (session_replication_role = replica, entities/importing/loader.py). What it
# updates must still move the trade-flow sums, so the UPDATE trigger fires in every mode. Its
# INSERTs skip shipment_flows_insert: the loader adds their sums itself, once per load
# (APPLY_FLOWS), instead of upserting ~16,000 sums per batch.
# (On a logical-replication subscriber the UPDATE trigger also fires for replicated shipments:
# replicate entities_shipment without entities_flowsummary, or updates count twice.)
ALWAYS = "ALTER TABLE entities_shipment ENABLE ALWAYS TRIGGER shipment_flows_update;"
ORIGIN = "ALTER TABLE entities_shipment ENABLE TRIGGER shipment_flows_update;"


class Migration(migrations.Migration):
    dependencies = [("entities", "0005_flow_summary")]

    operations = [migrations.RunSQL(ALWAYS, ORIGIN)]
