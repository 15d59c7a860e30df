"""manage.py import_ftm FILE --dataset NAME: load FollowTheMoney JSON lines into a dataset."""

import io
import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from entities.ftm import import_lines
from entities.models import Dataset

SHOWN_ERRORS = 20


def _stdin() -> TextIO:
    """Standard input as UTF-8 whatever the locale says (FtM files are UTF-8)."""
    if hasattr(sys.stdin, "buffer"):
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig")
    return sys.stdin


class Command(BaseCommand):
    help = "Import FtM JSON lines (FILE, or - for stdin) into a dataset, created if missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="a .json / .ijson lines file, or - for stdin")
        parser.add_argument("--dataset", required=True, help="dataset name")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            stream = _stdin() if path == "-" else open(path, encoding="utf-8-sig")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}") from exc
        dataset, _ = Dataset.objects.get_or_create(name=options["dataset"])
        started = time.monotonic()
        try:
            result = import_lines(stream, dataset=dataset)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
        finally:
            if path != "-":
                stream.close()
        self.stdout.write(result.summary(time.monotonic() - started))
        for line, message in result.errors[:SHOWN_ERRORS]:
            self.stdout.write(f"  line {line}: {message}")
        if len(result.errors) > SHOWN_ERRORS:
            self.stdout.write(f"  … and {len(result.errors) - SHOWN_ERRORS} more errors")
