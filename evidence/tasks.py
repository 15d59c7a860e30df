"""Celery tasks for evidence: thin wrappers that claim a job row and call a service."""

import logging
import random

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from investigations import activity, jobs

from . import services
from .models import Document, Snapshot, Watch

logger = logging.getLogger(__name__)

# Retry a transient failure after about 15 s, 60 s, 4 min (with jitter): short waits only;
# anything longer is the sweeper's business.
RETRY_BASE_SECONDS = 15


def _backoff(attempt: int) -> float:
    return RETRY_BASE_SECONDS * (4 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311


def _fail_or_retry(task, job, reason: str, *, transient: bool) -> None:
    if transient:
        jobs.job_retry_or_fail(task, job, reason=reason, countdown=_backoff(job.attempts))
    else:
        jobs.job_fail(job, task_id=task.request.id, reason=reason)


@shared_task(
    name="evidence.capture_snapshot",
    bind=True,
    ignore_result=True,
    soft_time_limit=240,
    time_limit=300,
)
def capture_snapshot(self, snapshot_id: int) -> None:
    from .fetch import FetchError
    from .ssrf import Refused

    snapshot = jobs.job_claim(
        Snapshot,
        snapshot_id,
        task_id=self.request.id,
        select_related=("investigation", "requested_by"),
    )
    if snapshot is None:
        return
    try:
        with activity.acting_as(snapshot.requested_by):
            services.snapshot_capture(snapshot=snapshot, finish_for=self.request.id)
    except Refused as exc:
        _fail_or_retry(self, snapshot, exc.reason, transient=False)
    except FetchError as exc:
        _fail_or_retry(self, snapshot, exc.reason, transient=exc.transient)
    except SoftTimeLimitExceeded:
        _fail_or_retry(self, snapshot, "The capture took too long.", transient=True)


@shared_task(
    name="evidence.extract_document",
    bind=True,
    ignore_result=True,
    soft_time_limit=600,
    time_limit=660,
)
def extract_document(self, document_id: int) -> None:
    document = jobs.job_claim(Document, document_id, task_id=self.request.id)
    if document is None:
        return
    try:
        services.document_extract(document=document)
    except SoftTimeLimitExceeded:
        _fail_or_retry(self, document, "Text extraction took too long.", transient=True)
    else:
        jobs.job_finish(document, task_id=self.request.id)


@shared_task(
    name="evidence.check_watch", bind=True, ignore_result=True, soft_time_limit=240, time_limit=300
)
def check_watch(self, watch_id: int) -> None:
    from .fetch import FetchError
    from .ssrf import Refused

    watch = jobs.job_claim(Watch, watch_id, task_id=self.request.id)
    if watch is None:
        return
    try:
        services.watch_check(watch=watch, task_id=self.request.id)
    except Refused as exc:
        _fail_or_retry(self, watch, exc.reason, transient=False)
    except FetchError as exc:
        _fail_or_retry(self, watch, exc.reason, transient=exc.transient)
    except SoftTimeLimitExceeded:
        _fail_or_retry(self, watch, "The check took too long.", transient=True)
    else:
        jobs.job_finish(watch, task_id=self.request.id)


@shared_task(
    name="evidence.enqueue_due_watches", ignore_result=True, soft_time_limit=50, time_limit=60
)
def enqueue_due_watches() -> int:
    return services.watches_enqueue_due()
