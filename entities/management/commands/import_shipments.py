"""manage.py import_shipments FILE --dataset NAME [--mapping NAME_OR_JSON]"""

from entities.importing.command import ImportCommand


class Command(ImportCommand):
    help = "Import customs records (CSV or XLSX) into a dataset; prints a summary."
    kind = "shipments"
