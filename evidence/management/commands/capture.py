"""manage.py capture URL --case CASE [--json]: one capture, synchronously, for scripts.

Runs the same service as the worker (SSRF guard, WARC, hashes, text, screenshot) and prints
the outcome. The snapshot is recorded already claimed by the command and never enqueued, so
a worker on the same queue cannot race it for the job. Exits non-zero when the capture was
refused or failed.
"""

import json
import time
import uuid

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evidence import services
from evidence.models import Snapshot
from evidence.tasks import fetch_errors
from investigations import jobs
from investigations.errors import DomainError
from investigations.management.arguments import find_case

# How long to wait for a capture another run took over (it never should), past its limits.
TAKEN_OVER_WAIT_SECONDS = 60


class Command(BaseCommand):
    help = "Capture one URL into a case file now and print status, hashes and WARC."

    def add_arguments(self, parser) -> None:
        parser.add_argument("url")
        parser.add_argument("--case", required=True, help="case file slug or public id")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, url: str, case: str, **options) -> None:
        investigation = find_case(case)
        task_id = f"capture-command-{uuid.uuid4()}"
        try:
            snapshot = services.snapshot_request(
                investigation=investigation, url=url, claim_for=task_id
            )
        except DomainError as exc:  # refused by the guard: nothing recorded
            raise CommandError(f"capture failed: {exc.message}") from exc
        if snapshot.status == jobs.JobStatus.RUNNING:
            self._capture(snapshot, task_id=task_id)
        snapshot.refresh_from_db()
        if not snapshot.is_finished:
            snapshot = self._wait_for(snapshot)
        self._print(snapshot, as_json=options["json"])
        if snapshot.status != jobs.JobStatus.DONE:
            raise CommandError(f"capture failed: {snapshot.error}")

    def _capture(self, snapshot: Snapshot, *, task_id: str) -> None:
        """Capture under the command's claim; any failure fails the job with its reason."""
        try:
            services.snapshot_capture(snapshot=snapshot, finish_for=task_id)
        except Exception as exc:
            outcome = jobs.job_outcome(snapshot, exc, fetch_errors("capture"))
            jobs.job_fail(snapshot, task_id=task_id, reason=outcome.reason)
        except KeyboardInterrupt:
            jobs.job_fail(snapshot, task_id=task_id, reason="Interrupted (manage.py capture).")
            raise

    def _wait_for(self, snapshot: Snapshot) -> Snapshot:
        """Another run holds the job (a worker that took it over): report its outcome."""
        self.stderr.write("The capture was taken over by another run; waiting for it…")
        deadline = time.monotonic() + settings.SNAPSHOT_TOTAL_TIMEOUT + TAKEN_OVER_WAIT_SECONDS
        while not snapshot.is_finished and time.monotonic() < deadline:
            time.sleep(0.5)
            snapshot.refresh_from_db()
        return snapshot

    def _print(self, snapshot: Snapshot, *, as_json: bool) -> None:
        result = {
            "status": snapshot.status,
            "snapshot": str(snapshot.public_id),
            "url": snapshot.url,
            "final_url": snapshot.final_url,
            "http_status": snapshot.http_status,
            "warc": snapshot.warc_file,
            "warc_sha256": snapshot.warc_sha256,
            "body_sha256": snapshot.body_sha256,
            "screenshot": snapshot.screenshot_file,
            "error": snapshot.error,
        }
        if as_json:
            self.stdout.write(json.dumps(result, ensure_ascii=False))
            return
        for key, value in result.items():
            if value not in ("", None):
                self.stdout.write(f"{key:<12} {value}")
