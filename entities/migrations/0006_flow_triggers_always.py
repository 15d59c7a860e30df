from django.db import migrations

# The shipment importer checks its foreign keys per batch and inserts with the session's row
# triggers off (session_replication_role = replica, entities/importing/loader.py). The trade-flow
# triggers must fire all the same, so they fire in every mode.
# (On a logical-replication subscriber they would fire for replicated shipments too: replicate
# entities_shipment without entities_flowsummary, or the sums count twice.)
TRIGGERS = ("shipment_flows_insert", "shipment_flows_update", "shipment_flows_delete")
ALWAYS = "".join(f"ALTER TABLE entities_shipment ENABLE ALWAYS TRIGGER {t};\n" for t in TRIGGERS)
ORIGIN = "".join(f"ALTER TABLE entities_shipment ENABLE TRIGGER {t};\n" for t in TRIGGERS)


class Migration(migrations.Migration):
    dependencies = [("entities", "0005_flow_summary")]

    operations = [migrations.RunSQL(ALWAYS, ORIGIN)]
