from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "investigations"
    verbose_name = "Case files"

    def ready(self) -> None:
        from . import activity, activity_text

        activity.connect_signals()
        activity_text.register_own()
