"""manage.py import_companies FILE --dataset NAME [--mapping NAME_OR_JSON]"""

from entities.importing.command import ImportCommand


class Command(ImportCommand):
    help = "Import a registry extract of companies (CSV or XLSX) into a dataset."
    kind = "companies"
