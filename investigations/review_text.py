"""How timeline events, claims and comments read in the activity feed.

"Dana added the event “Pass-through: 2,598 in, 2,598 out” to the timeline",
"Dana asked Marat to review “…”", "Marat verified “…”",
"Marat disputed “…”: the quantities match but dates are 40 days apart",
"Dana sent “…” back to needs review: the shipment's date changed", "Marat commented on …".
Registered with the others by activity_text.register_own().
"""

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from .activity_text import Described, Describer, EntryView, register, what, who
from .models import Claim, ClaimStatus, Comment, TimelineEvent


def _claim_url(claim: Any, case: Any) -> str | None:
    if claim is None or case is None:
        return None
    return reverse(
        "investigations:claim", kwargs={"case_id": case.public_id, "claim_uid": claim.public_id}
    )


def _event_url(event: Any, case: Any) -> str | None:
    if event is None or case is None:
        return None
    return reverse(
        "investigations:event", kwargs={"case_id": case.public_id, "event_id": event.public_id}
    )


class TimelineEventDescriber(Describer):
    kind = "timeline"
    kind_label = "Timeline and claims"
    icon = "calendar"
    shown = ("title", "description", "start", "end")
    partial_dates = frozenset({"start", "end"})

    def url(self, obj, case):
        return _event_url(obj, case)

    def name(self, e: EntryView) -> SafeString:
        label = e.obj.title if e.obj is not None else e.object_repr
        return what(f"“{label}”", self.url(e.obj, e.case) if e.obj is not None else None)

    def created(self, e: EntryView) -> Described:
        return Described(format_html("{} added the event {} to the timeline", who(e), self.name(e)))

    def updated(self, e: EntryView) -> Described | None:
        return self.edited(e, format_html("{} edited the event {}", who(e), self.name(e)))

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} deleted the event {}", who(e), self.name(e)))


class ClaimDescriber(Describer):
    kind = "timeline"
    kind_label = "Timeline and claims"
    icon = "check"
    shown = ("statement",)
    select_related = ("reviewer",)

    def refs(self, instance):
        model = instance.target_type.model_class() if instance.target_type_id else None
        return [(model, instance.target_id)] if model is not None else []

    def url(self, obj, case):
        return _claim_url(obj, case)

    def name(self, e: EntryView) -> SafeString:
        label = e.obj.statement if e.obj is not None else e.object_repr
        return what(f"“{label}”", self.url(e.obj, e.case) if e.obj is not None else None)

    def reviewer(self, e: EntryView) -> SafeString | None:
        username = e.new("reviewer")
        if not username:
            return None
        current = getattr(e.obj, "reviewer", None) if e.obj is not None else None
        if current is not None and current.get_username() == username:
            return what(current.get_short_name() or username)
        return what(username)

    def created(self, e: EntryView) -> Described:
        return Described(format_html("{} marked {} as a claim", who(e), self.name(e)))

    def updated(self, e: EntryView) -> Described | None:
        status = e.new("status")
        reason = e.new("status_reason") or ""
        if status == ClaimStatus.VERIFIED:
            return Described(format_html("{} verified {}", who(e), self.name(e)), icon="check")
        if status == ClaimStatus.DISPUTED:
            return Described(
                format_html("{} disputed {}: {}", who(e), self.name(e), reason), icon="alert"
            )
        if status == ClaimStatus.NEEDS_REVIEW and reason:
            return Described(
                format_html("{} sent {} back to needs review: {}", who(e), self.name(e), reason)
            )
        if status == ClaimStatus.NEEDS_REVIEW:
            reviewer = self.reviewer(e)
            if reviewer is not None:
                return Described(
                    format_html("{} asked {} to review {}", who(e), reviewer, self.name(e))
                )
            return Described(format_html("{} asked for a review of {}", who(e), self.name(e)))
        return self.edited(e, format_html("{} edited the claim {}", who(e), self.name(e)))

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} unmarked the claim {}", who(e), self.name(e)))


class CommentDescriber(Describer):
    kind = "timeline"
    kind_label = "Timeline and claims"
    icon = "comment"
    shown = ()

    def queryset(self):
        return Comment.objects.select_related("author").prefetch_related("subject")

    def refs(self, instance):
        model = instance.subject_type.model_class() if instance.subject_type_id else None
        return [(model, instance.subject_id)] if model is not None else []

    def subject(self, e: EntryView) -> SafeString:
        subject = getattr(e.obj, "subject", None) if e.obj is not None else None
        if isinstance(subject, Claim):
            return what(f"“{subject.statement}”", _claim_url(subject, e.case))
        if subject is not None:
            return what(str(subject))
        return what("a claim or an entity")

    def created(self, e: EntryView) -> Described:
        return Described(
            format_html("{} commented on {}", who(e), self.subject(e)),
            detail=e.value("body", ""),
        )

    def deleted(self, e: EntryView) -> Described:
        return Described(format_html("{} deleted a comment", who(e)))


def register_review() -> None:
    register(TimelineEventDescriber(TimelineEvent))
    register(ClaimDescriber(Claim))
    register(CommentDescriber(Comment))
