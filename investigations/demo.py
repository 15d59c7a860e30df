"""Steps that `manage.py load_demo` runs after creating the demo users and case file.

Apps that depend on investigations register their own demo data here from AppConfig.ready(),
so investigations never imports them. A step is step(*, case, users) and must be idempotent.
"""

from collections.abc import Callable

DEMO_STEPS: list[Callable] = []


def register(step: Callable) -> Callable:
    if step not in DEMO_STEPS:
        DEMO_STEPS.append(step)
    return step


def load_review_demo(*, case, users) -> str | None:
    """Claims in each status on the demo timeline, so the editor has something to do.

    Runs after the other steps (its events come from their data). Idempotent: nothing happens
    when the case has claims already.
    """
    from . import activity, timeline
    from .models import Claim, TimelineEvent
    from .services import claims
    from .services import timeline as timeline_services

    if Claim.objects.filter(investigation=case).exists():
        return None
    timeline.rebuild(case)
    reporter, editor = users["reporter"], users["editor"]
    events = TimelineEvent.objects.filter(investigation=case)

    def derived(title_part: str) -> TimelineEvent | None:
        return events.filter(title__contains=title_part).order_by("starts_on", "id").first()

    entities = {e.name: e.pk for e in timeline.entity_choices(case)}
    with activity.acting_as(reporter):
        pass_through = timeline_services.event_create(
            case=case,
            start="2022-05",
            title="Pass-through: 2,598 chips in from Nordlicht, 2,598 out to Вектор Системс "
            "within 14 days",
            description="The same quantity of HS 8542 goes in and out of ТОО «Дала Микро» "
            "(customs extracts, May 2022).",
            entity_ids=[pk for name, pk in entities.items() if "Дала" in name or "Вектор" in name],
            actor=reporter,
        )
        planned = [
            (derived("Klaus Hartmann as owner of Nordlicht"), editor, "verified"),
            (derived("Nordlicht Bauteile GmbH incorporated"), editor, "verified"),
            (pass_through, editor, "disputed"),
            (derived("ТОО «Дала Микро» incorporated"), editor, "needs_review"),
            (derived("Nordlicht Bauteile GmbH → ТОО «Дала Микро»"), editor, "needs_review"),
            (derived("Timur Hartmann as director"), None, "draft"),
        ]
        made = [
            (claims.claim_create(case=case, target=event, actor=reporter, reviewer=who), outcome)
            for event, who, outcome in planned
            if event is not None
        ]
    with activity.acting_as(editor):
        for claim, outcome in made:
            if outcome == "verified":
                claims.claim_verify(claim=claim, actor=editor)
            elif outcome == "disputed":
                claims.claim_dispute(
                    claim=claim,
                    actor=editor,
                    comment="@reporter the quantities match but dates are 40 days apart, not 14.",
                )
    return f"Demo review: {len(made)} claims on the timeline (verified, disputed, waiting, draft)."
