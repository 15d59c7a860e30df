"""Celery tasks of the entities app: thin wrappers that claim a job row and call a service."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from investigations import jobs

from .models import FlagRun, ImportJob

PARTIES_CHANGED_RETRY_SECONDS = 5
RED_FLAGS_RETRY_SECONDS = 30


@shared_task(
    name="entities.run_import",
    bind=True,
    ignore_result=True,
    soft_time_limit=settings.LONGEST_TASK_SECONDS - 60,
    time_limit=settings.LONGEST_TASK_SECONDS,
)
def run_import(self, job_id: int) -> None:
    from .importing.loader import PartiesChanged
    from .importing.readers import UnreadableFile
    from .importing.service import import_run

    job = jobs.job_claim(ImportJob, job_id, task_id=self.request.id, select_related=("dataset",))
    if job is None:
        return
    try:
        import_run(job=job)
    except PartiesChanged as exc:  # rolled back whole; the next attempt resolves anew
        jobs.job_retry_or_fail(self, job, reason=str(exc), countdown=PARTIES_CHANGED_RETRY_SECONDS)
    except UnreadableFile as exc:
        jobs.job_fail(job, task_id=self.request.id, reason=f"The file cannot be read: {exc.reason}")
    except SoftTimeLimitExceeded:
        jobs.job_fail(
            job,
            task_id=self.request.id,
            reason="The import took longer than the time limit; nothing was imported.",
        )
    else:
        jobs.job_finish(job, task_id=self.request.id)


@shared_task(
    name="entities.run_red_flags",
    bind=True,
    ignore_result=True,
    soft_time_limit=settings.LONGEST_TASK_SECONDS - 60,
    time_limit=settings.LONGEST_TASK_SECONDS,
)
def run_red_flags(self, run_id: int) -> None:
    from django.db import DatabaseError, OperationalError

    from .analysis.flags.service import flag_run_execute

    run = jobs.job_claim(
        FlagRun, run_id, task_id=self.request.id, select_related=("investigation", "dataset")
    )
    if run is None:
        return
    try:
        flag_run_execute(run=run, task_id=self.request.id)  # finishes the job with its hits
    except SoftTimeLimitExceeded:
        jobs.job_fail(
            run,
            task_id=self.request.id,
            reason="The detectors took longer than the time limit; the previous hits are kept.",
        )
    except OperationalError as exc:  # the database went away: worth another attempt
        jobs.job_retry_or_fail(self, run, reason=str(exc), countdown=RED_FLAGS_RETRY_SECONDS)
    except DatabaseError as exc:
        jobs.job_fail(run, task_id=self.request.id, reason=f"The detectors failed: {exc}")
