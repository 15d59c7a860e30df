"""manage.py export_ftm CASE | --dataset NAME: FollowTheMoney JSON lines on stdout."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entities.ftm import export_case_lines, export_dataset_lines
from entities.models import Dataset
from investigations.management.case_arg import find_case


class Command(BaseCommand):
    help = "Write a case file (by slug or public id) or a dataset as FtM JSON lines to stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("case", nargs="?", help="case file slug or public id")
        parser.add_argument("--dataset", help="export this dataset (by name) instead")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["case"]) == bool(options["dataset"]):
            raise CommandError("Give either a case file (slug or public id) or --dataset NAME.")
        if options["dataset"]:
            dataset = Dataset.objects.filter(name=options["dataset"]).first()
            if dataset is None:
                raise CommandError(f"No dataset named {options['dataset']!r}.")
            lines = export_dataset_lines(dataset)
        else:
            lines = export_case_lines(find_case(options["case"]))
        for line in lines:
            self.stdout.write(line)
