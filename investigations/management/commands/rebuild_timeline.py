"""manage.py rebuild_timeline [CASE]: derive every case's timeline events again from its data.

Derived events follow their data through signals; this is for data written before the timeline
existed, or by bulk writes that send no signals."""

from django.core.management.base import BaseCommand

from investigations import timeline
from investigations.management.arguments import find_case
from investigations.models import Investigation


class Command(BaseCommand):
    help = "Re-derive the timeline events of one case file (slug or public id) or of all."

    def add_arguments(self, parser) -> None:
        parser.add_argument("case", nargs="?", help="a case file's slug or public id; all if none")

    def handle(self, *args, case: str | None, **options) -> None:
        cases = [find_case(case)] if case else Investigation.objects.order_by("pk")
        for found in cases:
            count = timeline.rebuild(found)
            self.stdout.write(f"{found.slug}: {count:,} derived events")
