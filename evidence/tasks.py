"""Celery tasks for evidence: thin wrappers that claim a job row and call a service."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from investigations import activity, jobs

from . import services
from .models import Document, Snapshot, Watch


def fetch_errors(what: str) -> jobs.Known:
    """Refusals fail; timeouts, 429 and 5xx are retried; so is running out of time.
    (`manage.py capture` reads the same outcomes and does not retry.)"""

    def known(exc: Exception) -> jobs.JobOutcome | None:
        from .fetch import FetchError
        from .ssrf import Refused

        if isinstance(exc, Refused):
            return jobs.JobOutcome(exc.reason)
        if isinstance(exc, FetchError):
            return jobs.JobOutcome(exc.reason, transient=exc.transient)
        if isinstance(exc, SoftTimeLimitExceeded):
            return jobs.JobOutcome(f"The {what} took too long.", transient=True)
        return None

    return known


def _extract_errors(exc: Exception) -> jobs.JobOutcome | None:
    if isinstance(exc, SoftTimeLimitExceeded):
        return jobs.JobOutcome("Text extraction took too long.", transient=True)
    return None


@shared_task(
    name="evidence.capture_snapshot",
    bind=True,
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
@jobs.job_task(
    Snapshot,
    known=fetch_errors("capture"),
    select_related=("investigation", "requested_by"),
    finish=False,  # the capture's own UPDATE marks it done
)
def capture_snapshot(self, snapshot: Snapshot) -> None:
    with activity.acting_as(snapshot.requested_by):
        services.snapshot_capture(snapshot=snapshot, finish_for=self.request.id)


@shared_task(
    name="evidence.extract_document",
    bind=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
@jobs.job_task(Document, known=_extract_errors)
def extract_document(self, document: Document) -> None:
    services.document_extract(document=document)


@shared_task(
    name="evidence.check_watch", bind=True, ignore_result=True, soft_time_limit=240, time_limit=300
)
@jobs.job_task(Watch, known=fetch_errors("check"))
def check_watch(self, watch: Watch) -> None:
    services.watch_check(watch=watch, task_id=self.request.id)


@shared_task(
    name="evidence.enqueue_due_watches", ignore_result=True, soft_time_limit=50, time_limit=60
)
def enqueue_due_watches() -> int:
    return services.watches_enqueue_due()
