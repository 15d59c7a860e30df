"""manage.py reindex_names [--case CASE | --dataset NAME]: write every name's search rows again.

Search, possible duplicates and the importer read match keys computed from entities.names when
a name was written. After a change to entities.names, the stored keys are stale until this runs.
Each batch of entities is one transaction, so search keeps answering while it runs.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from entities.models import Dataset, Entity
from entities.namekeys import rebuild_search_rows
from investigations.management.arguments import find_case

BATCH = 2000


class Command(BaseCommand):
    help = "Recompute the normalized names and match keys of entities (all, a case or a dataset)."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--case", help="case file slug or public id")
        scope.add_argument("--dataset", help="dataset name")

    def handle(self, *args: Any, **options: Any) -> None:
        entities = Entity.objects.only(
            "pk", "investigation_id", "dataset_id", "name", "aliases", "extra", "schema"
        ).order_by("pk")
        if options["case"]:
            entities = entities.filter(investigation=find_case(options["case"]))
        elif options["dataset"]:
            dataset = Dataset.objects.filter(name=options["dataset"]).first()
            if dataset is None:
                raise CommandError(f"No dataset named {options['dataset']!r}.")
            entities = entities.filter(dataset=dataset)
        done, last = 0, 0
        while True:
            batch = list(entities.filter(pk__gt=last)[:BATCH])
            if not batch:
                break
            with transaction.atomic():
                done += rebuild_search_rows(batch)
            last = batch[-1].pk
            self.stdout.write(f"{done:,} entities reindexed", ending="\r")
        self.stdout.write(f"{done:,} entities reindexed.")
