from celery import shared_task

from . import jobs


@shared_task(
    name="investigations.sweep_jobs", ignore_result=True, soft_time_limit=50, time_limit=60
)
def sweep_jobs() -> int:
    return jobs.jobs_sweep()
