"""manage.py red_flags (CASE | --dataset NAME) [--json]: run the red-flag detectors now."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entities.analysis.flags import service
from entities.models import Dataset
from investigations.errors import DomainError
from investigations.management.arguments import find_case


class Command(BaseCommand):
    help = (
        "Run the red-flag detectors over a case file (slug or public id) or a dataset and "
        "print the hits; the Flags tab shows the same run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("case", nargs="?", help="case file slug or public id")
        parser.add_argument("--dataset", help="run over this dataset (by name) instead")
        parser.add_argument("--json", action="store_true", help="one JSON document on stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["case"]) == bool(options["dataset"]):
            raise CommandError("Give either a case file (slug or public id) or --dataset NAME.")
        scope: dict[str, Any] = {}
        if options["dataset"]:
            scope["dataset"] = Dataset.objects.filter(name=options["dataset"]).first()
            if scope["dataset"] is None:
                raise CommandError(f"No dataset named {options['dataset']!r}.")
        else:
            scope["case"] = find_case(options["case"])
        try:
            run = service.flag_run_now(**scope)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        views = service.flag_hits(run=run)
        if options["json"]:
            self.stdout.write(json.dumps(service.hits_json(run=run, views=views), indent=2))
            return
        self.stdout.write(f"{run.hit_count} red flag(s) in {run.seconds:.1f} s")
        for view in views:
            names = ", ".join(f"{e.name} [{e.public_id}]" for e in view.entities)
            self.stdout.write(f"\n{view.label} (score {view.hit.score:.2f}): {names}")
            self.stdout.write(f"  {view.hit.explanation}")
            if view.shipments:
                ids = " ".join(str(s.public_id) for s in view.shipments)
                self.stdout.write(f"  shipments: {ids}")
            if view.links:
                self.stdout.write(
                    f"  links: {' '.join(str(link.public_id) for link in view.links)}"
                )
