"""The shared body of `manage.py import_shipments` and `manage.py import_companies`."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from investigations import jobs
from investigations.errors import DomainError

from ..models import ImportJob
from . import service


class ImportCommand(BaseCommand):
    kind = ""

    def add_arguments(self, parser) -> None:
        parser.add_argument("file")
        parser.add_argument("--dataset", required=True, help="dataset name (created if missing)")
        parser.add_argument(
            "--mapping",
            default="",
            help="a saved mapping's name, or a JSON spec "
            '{"columns": {"field": "header", ...}, "date_format": "dmy"}',
        )

    def handle(self, *args, file: str, dataset: str, mapping: str, **options) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            spec = service.resolve_mapping(mapping, kind=self.kind)
            job = service.import_stage(
                kind=self.kind,
                dataset=service.dataset_for(dataset),
                path=path,
                original_name=path.name,
                mapping=spec,
                mapping_name=mapping if spec and not mapping.strip().startswith("{") else "",
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        from .mapping import missing_required

        missing = missing_required(job.mapping.get("columns", {}), self.kind)
        if missing:
            raise CommandError(
                f"{path.name}: no column for {', '.join(missing)}; give --mapping "
                '\'{"columns": {"' + missing[0] + '": "<header>"}}\''
            )
        task_id = f"command-{job.public_id}"
        ImportJob.objects.filter(pk=job.pk).update(
            status=jobs.JobStatus.RUNNING,
            attempts=1,
            claimed_by=task_id,
            started_at=timezone.now(),
        )
        job.refresh_from_db()
        tty = sys.stderr.isatty()

        def echo(progress: dict) -> None:
            rows, rate = progress.get("rows", 0), progress.get("rate", 0)
            line = f"  {rows:>12,} rows  {rate:>10,.0f} rows/s"
            if progress.get("eta"):
                line += f"  ~{progress['eta']:,.0f} s left"
            self.stderr.write(("\r" + line) if tty else line, ending="" if tty else "\n")

        try:
            job = service.import_run(job=job, echo=echo)
        except Exception as exc:
            jobs.job_fail(job, task_id=task_id, reason=str(exc)[:2000])
            if tty:
                self.stderr.write("")
            raise CommandError(f"{path.name}: {exc}") from exc
        jobs.job_finish(job, task_id=task_id)
        if tty:
            self.stderr.write("")
        self.stdout.write(
            f"{path.name} -> {job.dataset.name}: rows read {job.rows_read:,}, imported "
            f"{job.rows_imported:,}, updated {job.rows_updated:,}, unchanged "
            f"{job.rows_unchanged:,}, rejected {job.rows_rejected:,}, new entities "
            f"{job.entities_created:,}, {job.seconds:.1f} s"
        )
        for row in job.rejected.order_by("line")[:20]:
            self.stdout.write(f"  line {row.line}, {row.column}: {row.reason} ({row.value!r})")
        if job.rows_rejected > 20:
            self.stdout.write(
                f"  ... {job.rows_rejected - 20:,} more rejected rows "
                f"(the import page lists them all)"
            )
