import os

from celery import shared_task

from investigations import jobs

from .models import EchoJob


@shared_task(
    name="tests.echo_job", bind=True, ignore_result=True, soft_time_limit=20, time_limit=30
)
def echo_job(self, job_id: int) -> None:
    job = jobs.job_claim(EchoJob, job_id, task_id=self.request.id)
    if job is None:
        return
    if job.crash:
        os._exit(1)  # the worker process dies mid-task, as an out-of-memory kill would
    EchoJob.objects.filter(pk=job.pk).update(result=job.text.upper())
    jobs.job_finish(job, task_id=self.request.id)
