"""Job rows: work that must not be lost is a database row first, a Celery message second.

A concrete job model subclasses JobModel and names its Celery task. The task body is
decorated with `job_task`, which claims the row with a conditional update (`job_claim`) and
ends the job whatever the body does: done, failed with the reason, or back to pending for a
retry of a transient error. Attempts are counted at claim time, so a task that kills its
worker (and is re-queued by reject_on_worker_lost) gives up after JOB_MAX_ATTEMPTS with a
recorded reason instead of looping forever. The beat task `investigations.sweep_jobs`
re-enqueues rows whose message was lost (broker outage, crash before enqueue).
"""

import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from celery.exceptions import TaskPredicate
from django.apps import apps
from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, models, transaction
from django.db.models import F, Q
from django.utils import timezone

logger = logging.getLogger(__name__)


class JobStatus(models.TextChoices):
    # Waiting for a person (an import's column mapping): never enqueued or swept.
    DRAFT = "draft", "Draft"
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class JobModel(models.Model):
    """Status, attempts and failure reason of one piece of background work."""

    # The Celery task that runs this job; it takes the row's primary key.
    task_name: str = ""

    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # The Celery task id of the current claim: a redelivery of the same message (its worker
    # died) may take the job over, a duplicate message may not.
    claimed_by = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    # When the task's message reached the broker; null while it has not (Redis was down):
    # the sweeper sends such a pending job at its next run.
    sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    @property
    def waiting_for_queue(self) -> bool:
        """Pending, but its message has not reached the broker yet (the sweeper retries)."""
        return self.status == JobStatus.PENDING and self.sent_at is None

    @property
    def status_label(self) -> str:
        return "Waiting for the queue" if self.waiting_for_queue else self.get_status_display()


def job_models() -> list[type[JobModel]]:
    return [m for m in apps.get_models() if issubclass(m, JobModel) and m.task_name]


def job_enqueue(job: JobModel) -> None:
    """Send the job's task once the surrounding transaction commits (never before)."""
    transaction.on_commit(partial(job_send, job), robust=True)


def job_send(job: JobModel) -> bool:
    """Send the job's task now and record when; False when the broker cannot be reached.

    A dead or hung broker costs the caller about a second or two (REDIS_TIMEOUT, one
    retry), and the job stays pending with sent_at null, which the pages show as "waiting for
    the queue" and the sweeper sends at its next run.
    """
    from newsroom.celery import app

    try:
        app.send_task(job.task_name, args=[job.pk])
    except Exception as exc:  # whatever kept it from the broker, the sweeper tries again
        logger.warning("%s %s not sent (broker unavailable): %s", type(job).__name__, job.pk, exc)
        return False
    job.sent_at = timezone.now()
    type(job).objects.filter(pk=job.pk).update(sent_at=job.sent_at)
    return True


def job_claim[J: JobModel](
    model: type[J], pk: int, *, task_id: str, select_related: tuple[str, ...] = ()
) -> J | None:
    """Move a job to running for this task, or return None if it is not ours to run.

    Not ours: done, failed, gone, or running under another live message. A job already past
    its attempt budget is marked failed here, with the reason.
    """
    max_attempts = settings.JOB_MAX_ATTEMPTS
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    runnable = Q(status=JobStatus.PENDING) | Q(status=JobStatus.RUNNING) & (
        Q(claimed_by=task_id) | Q(started_at__lt=stale)
    )
    claimed = model.objects.filter(runnable, pk=pk, attempts__lt=max_attempts).update(
        status=JobStatus.RUNNING,
        attempts=F("attempts") + 1,
        claimed_by=task_id,
        started_at=timezone.now(),
        error="",
    )
    if claimed:
        qs = model.objects.select_related(*select_related) if select_related else model.objects
        return qs.get(pk=pk)
    gave_up = model.objects.filter(runnable, pk=pk, attempts__gte=max_attempts).update(
        status=JobStatus.FAILED,
        finished_at=timezone.now(),
        error=(
            f"Gave up after {max_attempts} attempts: the task did not finish "
            "(worker lost, killed or timed out)."
        ),
    )
    if gave_up:
        logger.warning("%s %s gave up after %s attempts", model.__name__, pk, max_attempts)
    return None


def job_finish(job: JobModel, *, task_id: str) -> bool:
    """Mark done if this task still holds the claim; False means another run took over."""
    return bool(
        type(job)
        .objects.filter(pk=job.pk, status=JobStatus.RUNNING, claimed_by=task_id)
        .update(status=JobStatus.DONE, finished_at=timezone.now(), error="")
    )


def job_fail(job: JobModel, *, task_id: str, reason: str) -> bool:
    """Record a final failure with a reason a reporter can read."""
    return bool(
        type(job)
        .objects.filter(pk=job.pk, status=JobStatus.RUNNING, claimed_by=task_id)
        .update(status=JobStatus.FAILED, finished_at=timezone.now(), error=reason[:2000])
    )


def job_release_for_retry(job: JobModel, *, task_id: str, reason: str) -> bool:
    """Hand the job back to pending before a retry, keeping the transient error visible.

    Not sent until the retry's message is (the sweeper sends it if that fails)."""
    return bool(
        type(job)
        .objects.filter(pk=job.pk, status=JobStatus.RUNNING, claimed_by=task_id)
        .update(status=JobStatus.PENDING, claimed_by="", error=reason[:2000], sent_at=None)
    )


def job_retry_or_fail(task: Any, job: JobModel, *, reason: str, countdown: float) -> None:
    """A transient failure: back to pending and retry the task in `countdown` seconds while
    attempts are left (raises celery's Retry), else fail the job with the reason."""
    task_id = task.request.id
    if job.attempts < settings.JOB_MAX_ATTEMPTS:
        job_release_for_retry(job, task_id=task_id, reason=f"{reason} (will retry)")
        # Sends the retry's message (a broker failure raises Reject: the sweeper sends it).
        retry = task.retry(countdown=countdown, max_retries=None, throw=False)
        type(job).objects.filter(pk=job.pk).update(sent_at=timezone.now())
        raise retry
    job_fail(job, task_id=task_id, reason=f"{reason} (after {job.attempts} attempts)")


# --- Running a job in a task ------------------------------------------------------------------

# A transient failure is retried after about 15 s, 60 s, 4 min (with jitter): short waits
# only; anything longer is the sweeper's business.
RETRY_BASE_SECONDS = 15
# An unexpected error's reason quotes at most this much of the exception's message.
REASON_CHARS = 500


def retry_backoff(attempt: int) -> float:
    return RETRY_BASE_SECONDS * (4 ** (attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311


@dataclass(frozen=True)
class JobOutcome:
    """What an exception a task expects means for its job: failed with `reason`, or, when
    `transient`, retried after `countdown` seconds (default: retry_backoff) while attempts
    are left."""

    reason: str
    transient: bool = False
    countdown: float | None = None


# A task's own knowledge of its exceptions: an outcome, or None for "not one of mine".
Known = Callable[[Exception], JobOutcome | None]

# SQLSTATE classes and codes of failures that may pass: connection exceptions (08),
# transaction rollbacks (40: serialization failure, deadlock), and the server shutting down or
# starting up (57P01-57P03, e.g. pg_terminate_backend or a restart).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40")
_TRANSIENT_SQLSTATES = ("57P01", "57P02", "57P03")


def is_transient_database_error(exc: Exception) -> bool:
    """A lost connection or a rollback the database asked for; not a query that cannot work
    (a tsvector over its size limit is an OperationalError too, and fails again)."""
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    return (
        sqlstate is None  # raised by the driver itself: the connection is gone
        or sqlstate[:2] in _TRANSIENT_SQLSTATE_CLASSES
        or sqlstate in _TRANSIENT_SQLSTATES
    )


def job_outcome(job: JobModel, exc: Exception, known: Known | None) -> JobOutcome:
    """What an exception raised while running `job` means for it (see job_task)."""
    outcome = known(exc) if known else None
    if outcome is not None:
        return outcome
    name = f"{type(exc).__name__}: {exc}"
    if len(name) > REASON_CHARS:
        name = name[:REASON_CHARS] + "…"
    if is_transient_database_error(exc):
        logger.warning("%s %s: database error, will retry: %s", type(job).__name__, job.pk, exc)
        _drop_broken_connections()
        return JobOutcome(f"Database unavailable: {name}", transient=True)
    logger.exception("%s %s failed on an unexpected error", type(job).__name__, job.pk)
    return JobOutcome(name)


def _drop_broken_connections() -> None:
    """Close connections a failure broke, so recording the outcome reconnects."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and not conn.in_atomic_block and not conn.is_usable():
            conn.close()


def job_task[J: JobModel](
    model: type[J],
    *,
    known: Known | None = None,
    select_related: tuple[str, ...] = (),
    finish: bool = True,
) -> Callable[[Callable[[Any, J], None]], Callable[[Any, int], None]]:
    """Run a bound task's body on its claimed job, and end the job whatever happens.

    The task takes the job's primary key; the body gets the claimed row (nothing to do when
    the job is not ours: done, failed, gone or held by another message). When the body
    returns, the job is done (unless finish=False: the body finishes it itself). An exception
    `known` maps to an outcome fails the job with that reason or retries it; a lost database
    connection is retried; anything else fails the job at once with the exception's type and
    message, and the traceback goes to the log (job_outcome). Celery's Retry/Ignore/Reject pass.

        @shared_task(name="app.do_thing", bind=True, ignore_result=True, ...)
        @jobs.job_task(Thing, known=_thing_errors)
        def do_thing(self, thing: Thing) -> None:
            services.thing_do(thing=thing)
    """

    def decorate(work: Callable[[Any, J], None]) -> Callable[[Any, int], None]:
        @functools.wraps(work)
        def run(task: Any, job_id: int) -> None:
            task_id = task.request.id
            job = job_claim(model, job_id, task_id=task_id, select_related=select_related)
            if job is None:
                return
            try:
                work(task, job)
            except TaskPredicate:
                raise
            except Exception as exc:  # every failure ends the job; see job_outcome
                outcome = job_outcome(job, exc, known)
                if not outcome.transient:
                    job_fail(job, task_id=task_id, reason=outcome.reason)
                    return
                countdown = outcome.countdown
                if countdown is None:
                    countdown = retry_backoff(job.attempts)
                job_retry_or_fail(task, job, reason=outcome.reason, countdown=countdown)
            else:
                if finish:
                    job_finish(job, task_id=task_id)

        del run.__wrapped__  # Celery reads the task's signature: it takes the job's id
        return run

    return decorate


def jobs_sweep() -> int:
    """Send pending jobs whose message never reached the broker, and re-send jobs whose
    message was lost (pending or running for JOB_STALE_AFTER_SECONDS); returns how many were
    sent."""
    stale = timezone.now() - timedelta(seconds=settings.JOB_STALE_AFTER_SECONDS)
    sent = failed = 0
    for model in job_models():
        lost = model.objects.filter(
            Q(status=JobStatus.PENDING, sent_at__isnull=True)
            | Q(status=JobStatus.PENDING, queued_at__lt=stale)
            | Q(status=JobStatus.RUNNING, started_at__lt=stale, queued_at__lt=stale)
            # A stale job whose re-sending failed last time.
            | Q(status=JobStatus.RUNNING, started_at__lt=stale, sent_at__isnull=True)
        ).values_list("pk", flat=True)
        for pk in lost.iterator(chunk_size=500):
            # Bump queued_at so the next sweep does not send the same row again right away.
            model.objects.filter(pk=pk).update(queued_at=timezone.now(), sent_at=None)
            if job_send(model(pk=pk)):
                sent += 1
            else:
                failed += 1
                break  # the broker is down: the next run tries again
    if sent or failed:
        logger.info("sweep sent %s jobs; %s could not be sent", sent, failed)
    return sent
