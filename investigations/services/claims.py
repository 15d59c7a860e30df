"""Writes for claims and their review: mark, ask for review, verify, dispute, send back.

Only editors and owners of the case file verify or dispute (Action.REVIEW); the services check
it themselves, so no view can forget. Verifying needs at least one citation of the claim (any
evidence: investigations/subjects.py). Disputing needs a comment, which may @mention members.
An edit of a verified or disputed claim's data, or the removal of its last citation, sends it
back to needs review, and the status reason says why (the activity log shows it).
"""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone

from .. import access, activity, activity_text, subjects, timeline
from ..access import Action
from ..errors import Conflict, DomainError, NotAllowed
from ..models import Claim, ClaimStatus, InboxItem, Investigation, TimelineEvent
from . import comments

REVIEWED = (ClaimStatus.VERIFIED, ClaimStatus.DISPUTED)


def _check_reviewer(user: AbstractBaseUser | None, case: Investigation) -> None:
    if not access.can(user, Action.REVIEW, case):
        raise NotAllowed("Only editors and owners of this case file verify or dispute claims.")


def _name(user: AbstractBaseUser) -> str:
    return user.get_short_name() or user.get_username()


def _notify(
    *, user: Any, claim: Claim, kind: str, actor: Any, excerpt: str = "", comment: Any = None
) -> None:
    if user is None or (actor is not None and user.pk == actor.pk):
        return
    InboxItem.objects.create(
        user=user,
        investigation=claim.investigation,
        kind=kind,
        actor=actor,
        claim=claim,
        comment=comment,
        about=claim.statement[:500],
        url=subjects.claim_url(claim),
        excerpt=excerpt,
    )


@transaction.atomic
def claim_create(
    *,
    case: Investigation,
    target: Model,
    field: str = "",
    statement: str = "",
    actor: AbstractBaseUser | None,
    reviewer: AbstractBaseUser | None = None,
) -> Claim:
    """Mark an event, link, shipment or entity field of this case as a claim (a draft, or at
    once needing review by `reviewer`)."""
    kind = subjects.target_for_model(type(target))
    if kind is None:
        raise DomainError("That cannot be marked as a claim.")
    if field and field not in kind.fields:
        raise DomainError(f"“{field}” is not a field that can be claimed.", field="field")
    statement = (statement or "").strip() or kind.describe(target, field)
    try:
        with transaction.atomic(), activity.acting_as(actor):
            claim = Claim.objects.create(
                investigation=case,
                target_type=subjects.content_type(target),
                target_id=target.pk,
                field=field,
                statement=statement[:500],
                created_by=actor,
            )
    except IntegrityError as exc:
        raise Conflict("That is a claim already.") from exc
    claim.investigation = case
    if reviewer is not None:
        claim_request_review(claim=claim, reviewer=reviewer, actor=actor)
    return claim


@transaction.atomic
def claim_request_review(
    *, claim: Claim, reviewer: AbstractBaseUser | None, actor: AbstractBaseUser | None
) -> Claim:
    """Ask an editor or owner of the case to review the claim; it lands in their inbox."""
    case = claim.investigation
    if reviewer is not None and not access.can(reviewer, Action.REVIEW, case):
        raise DomainError(
            f"{_name(reviewer)} cannot review claims here: ask an editor or owner of this "
            "case file.",
            field="reviewer",
        )
    claim.status = ClaimStatus.NEEDS_REVIEW
    claim.reviewer = reviewer
    claim.review_requested_at = timezone.now()
    claim.status_reason = ""
    with activity.acting_as(actor):
        claim.save(update_fields=["status", "reviewer", "review_requested_at", "status_reason"])
    _notify(user=reviewer, claim=claim, kind=InboxItem.Kind.REVIEW_REQUEST, actor=actor)
    return claim


def _reviewed(claim: Claim, *, status: str, actor: AbstractBaseUser, reason: str) -> None:
    """Record a review's outcome: who, when, and why (a dispute's comment)."""
    claim.status = status
    claim.reviewed_by = actor
    claim.reviewed_at = timezone.now()
    claim.status_reason = reason
    with activity.acting_as(actor):
        claim.save(update_fields=["status", "reviewed_by", "reviewed_at", "status_reason"])


@transaction.atomic
def claim_verify(*, claim: Claim, actor: AbstractBaseUser) -> Claim:
    """Verify a claim: an editor or owner, with at least one citation of it on file."""
    case = claim.investigation
    _check_reviewer(actor, case)
    if claim.status == ClaimStatus.VERIFIED:
        raise DomainError("This claim is verified already.")
    if not subjects.evidence_for([claim], case)[claim.pk]:
        raise DomainError(
            "Cite at least one piece of evidence (a document page, a snapshot or a registry "
            "record) before verifying: a claim is verified against its evidence."
        )
    _reviewed(claim, status=ClaimStatus.VERIFIED, actor=actor, reason="")
    _notify(user=claim.created_by, claim=claim, kind=InboxItem.Kind.VERIFIED, actor=actor)
    return claim


@transaction.atomic
def claim_dispute(*, claim: Claim, actor: AbstractBaseUser, comment: str) -> Claim:
    """Dispute a claim with a comment saying what is wrong (it may @mention members)."""
    case = claim.investigation
    _check_reviewer(actor, case)
    comment = (comment or "").strip()
    if not comment:
        raise DomainError("Say what is wrong: disputing needs a comment.", field="comment")
    # The comment first: a mention of a non-member refuses the whole dispute.
    posted = comments.comment_add(case=case, subject=claim, body=comment, actor=actor, notify=False)
    _reviewed(claim, status=ClaimStatus.DISPUTED, actor=actor, reason=comment)
    author = claim.created_by
    _notify(
        user=author,
        claim=claim,
        kind=InboxItem.Kind.DISPUTED,
        actor=actor,
        excerpt=comment,
        comment=posted.comment,
    )
    comments.notify_mentions(posted, skip={author.pk} if author is not None else set(), claim=claim)
    return claim


@transaction.atomic
def claim_delete(*, claim: Claim) -> None:
    """No longer a claim (the data stays)."""
    claim.delete()


# --- Sending claims back when their data or evidence changes -------------------------------


def claim_reopen(*, claim: Claim, reason: str) -> bool:
    """A verified or disputed claim whose data changed goes back to needs review (the caller
    loaded it just now, so the activity entry compares with what is stored)."""
    if claim.status not in REVIEWED:
        return False
    claim.status = ClaimStatus.NEEDS_REVIEW
    claim.status_reason = reason
    claim.review_requested_at = timezone.now()
    claim.save(update_fields=["status", "status_reason", "review_requested_at"])
    return True


def _claims_on(obj: Model) -> list[Claim]:
    return list(
        Claim.objects.filter(
            target_type=subjects.content_type(obj), target_id=obj.pk, status__in=REVIEWED
        ).select_related("investigation")
    )


def _shown_changes(instance: Model, changes: dict[str, Any]) -> list[str]:
    """The changed fields a person sees (the activity log's choice), by name."""
    describer = activity_text.describer_for(type(instance))
    shown = []
    for name in changes:
        f = describer.field(name)
        if f is not None and describer.is_shown(f):
            shown.append(f.name)
    return shown


def _field_words(obj: Model, names: list[str]) -> str:
    labels = [str(obj._meta.get_field(name).verbose_name) for name in names]
    return " and ".join(labels[:3]) or "data"


def _on_change(instance: Model, changes: dict[str, Any]) -> None:
    """activity.CHANGE_HOOKS: an edit of a claimed row (or of a claimed field of it)."""
    if type(instance) is Claim or not isinstance(instance, subjects.target_models()):
        return
    names = _shown_changes(instance, changes)
    if not names:
        return
    noun = str(instance._meta.verbose_name)
    for claim in _claims_on(instance):
        changed = [n for n in names if not claim.field or n == claim.field]
        if changed:
            claim_reopen(
                claim=claim, reason=f"the {noun}'s {_field_words(instance, changed)} changed"
            )


def _on_event_change(event: TimelineEvent, what: str) -> None:
    """timeline.on_event_change: a derived event's data changed with its source."""
    for claim in _claims_on(event):
        claim_reopen(claim=claim, reason=f"the event's {what} changed with its data")


def _on_delete(instance: Model) -> None:
    """activity.DELETE_HOOKS: a claimed row is gone, and its claims with it."""
    if type(instance) is TimelineEvent or not isinstance(instance, subjects.target_models()):
        return  # events take their claims along (a generic relation)
    for claim in Claim.objects.filter(
        target_type=subjects.content_type(instance), target_id=instance.pk
    ):
        claim.delete()


def citations_removed(*, case_id: int, targets: list[tuple[type[Model], int]]) -> None:
    """A citation of these rows was removed: a reviewed claim left with none needs review.

    Called by the evidence app when a citation goes (deleted, or with its evidence).
    """
    q = Q(pk__in=[])
    for model, pk in targets:
        q |= Q(target_type=subjects.content_type(model), target_id=pk)
    # A derived event is supported by its source's citations too.
    event_q = Q(pk__in=[])
    for model, pk in targets:
        event_q |= Q(source_type=subjects.content_type(model), source_id=pk)
    events = TimelineEvent.objects.filter(event_q, investigation_id=case_id).values("pk")
    q |= Q(target_type=subjects.content_type(TimelineEvent), target_id__in=events)
    claims = list(
        Claim.objects.filter(q, investigation_id=case_id, status__in=REVIEWED).select_related(
            "investigation"
        )
    )
    if not claims:
        return
    evidence = subjects.evidence_for(claims, claims[0].investigation)
    for claim in claims:
        if not evidence[claim.pk]:
            claim_reopen(claim=claim, reason="its last citation was removed")


def connect() -> None:
    """Hook the claims into the activity log and the timeline (InvestigationsConfig.ready)."""
    if _on_change not in activity.CHANGE_HOOKS:
        activity.CHANGE_HOOKS.append(_on_change)
    if _on_delete not in activity.DELETE_HOOKS:
        activity.DELETE_HOOKS.append(_on_delete)
    timeline.on_event_change(_on_event_change)
