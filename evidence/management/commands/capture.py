"""manage.py capture URL --case CASE [--json]: one capture, synchronously, for scripts.

Runs the same service as the worker (SSRF guard, WARC, hashes, text, screenshot) and prints
the outcome. Exits non-zero when the capture was refused or failed.
"""

import json
import uuid

from django.core.management.base import BaseCommand, CommandError

from evidence import services
from evidence.fetch import FetchError
from evidence.models import Snapshot
from evidence.ssrf import Refused
from investigations import jobs
from investigations.errors import DomainError
from investigations.models import Investigation


def find_case(value: str) -> Investigation:
    case = Investigation.objects.filter(slug=value).first()
    if case is None:
        try:
            case = Investigation.objects.filter(public_id=uuid.UUID(value)).first()
        except ValueError:  # neither a slug nor a UUID
            case = None
    if case is None:
        raise CommandError(f"No case file with slug or id {value!r}.")
    return case


class Command(BaseCommand):
    help = "Capture one URL into a case file now and print status, hashes and WARC."

    def add_arguments(self, parser) -> None:
        parser.add_argument("url")
        parser.add_argument("--case", required=True, help="case file slug or public id")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, url: str, case: str, **options) -> None:
        investigation = find_case(case)
        try:
            snapshot = services.snapshot_request(investigation=investigation, url=url)
        except DomainError as exc:  # refused by the guard: nothing recorded
            raise CommandError(f"capture failed: {exc.message}") from exc
        task_id = f"capture-command-{snapshot.public_id}"
        claimed = jobs.job_claim(Snapshot, snapshot.pk, task_id=task_id)
        try:
            services.snapshot_capture(snapshot=claimed)
        except (Refused, FetchError) as exc:
            jobs.job_fail(claimed, task_id=task_id, reason=exc.reason)
        else:
            jobs.job_finish(claimed, task_id=task_id)
        snapshot.refresh_from_db()
        self._print(snapshot, as_json=options["json"])
        if snapshot.status != jobs.JobStatus.DONE:
            raise CommandError(f"capture failed: {snapshot.error}")

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
