from django.apps import AppConfig


class InvestigationsConfig(AppConfig):
    name = "investigations"
    verbose_name = "Case files"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from . import activity, activity_text, login, subjects
        from .services import claims

        activity.connect_signals()
        claims.connect()
        subjects.register_own()
        register_claims_card()
        activity_text.register_own()
        user_login_failed.connect(login.on_login_failed, dispatch_uid="login_throttle_failed")
        user_logged_in.connect(login.on_logged_in, dispatch_uid="login_throttle_success")


def register_claims_card() -> None:
    from .overview import Card, register_card
    from .selectors.claims import claim_counts

    register_card(
        Card("claims", "investigations/_claims_card.html", lambda case: claim_counts(case=case))
    )
