from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "investigations"
    verbose_name = "Case files"

    def ready(self) -> None:
        from . import activity

        activity.connect_signals()
