"""Celery tasks of the entities app: thin wrappers that claim a job row and call a service."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from investigations import jobs

from .models import FlagRun, ImportJob

PARTIES_CHANGED_RETRY_SECONDS = 5


def _import_errors(exc: Exception) -> jobs.JobOutcome | None:
    from .importing.loader import PartiesChanged
    from .importing.readers import UnreadableFile

    if isinstance(exc, PartiesChanged):  # rolled back whole; the next attempt resolves anew
        return jobs.JobOutcome(str(exc), transient=True, countdown=PARTIES_CHANGED_RETRY_SECONDS)
    if isinstance(exc, UnreadableFile):
        return jobs.JobOutcome(f"The file cannot be read: {exc.reason}")
    if isinstance(exc, SoftTimeLimitExceeded):
        return jobs.JobOutcome("The import took longer than the time limit; nothing was imported.")
    return None


@shared_task(
    name="entities.run_import",
    bind=True,
    ignore_result=True,
    soft_time_limit=settings.LONGEST_TASK_SECONDS - 60,
    time_limit=settings.LONGEST_TASK_SECONDS,
)
@jobs.job_task(ImportJob, known=_import_errors, select_related=("dataset",))
def run_import(self, job: ImportJob) -> None:
    from .importing.service import import_run

    import_run(job=job)


def _flag_errors(exc: Exception) -> jobs.JobOutcome | None:
    if isinstance(exc, SoftTimeLimitExceeded):
        return jobs.JobOutcome(
            "The detectors took longer than the time limit; the previous hits are kept."
        )
    return None


@shared_task(
    name="entities.run_red_flags",
    bind=True,
    ignore_result=True,
    soft_time_limit=settings.LONGEST_TASK_SECONDS - 60,
    time_limit=settings.LONGEST_TASK_SECONDS,
)
@jobs.job_task(
    FlagRun,
    known=_flag_errors,
    select_related=("investigation", "dataset"),
    finish=False,  # flag_run_execute finishes the job together with its hits
)
def run_red_flags(self, run: FlagRun) -> None:
    from .analysis.flags.service import flag_run_execute

    flag_run_execute(run=run, task_id=self.request.id)
