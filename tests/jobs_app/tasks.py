import os

from celery import shared_task

from investigations import jobs

from .models import EchoJob


@shared_task(
    name="tests.echo_job", bind=True, ignore_result=True, soft_time_limit=20, time_limit=30
)
@jobs.job_task(EchoJob)
def echo_job(self, job: EchoJob) -> None:
    if job.crash:
        os._exit(1)  # the worker process dies mid-task, as an out-of-memory kill would
    if job.raise_error:
        raise LookupError(f"no echo for {job.text!r}")  # a bug: nothing expects this
    EchoJob.objects.filter(pk=job.pk).update(result=job.text.upper())
