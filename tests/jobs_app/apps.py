from django.apps import AppConfig


class JobsAppConfig(AppConfig):
    name = "tests.jobs_app"
    label = "jobs_app"
