"""Claims and their review: a case's claims (readiness), marking one, the review screen with the
claim beside its evidence, asking for review, verifying, disputing; the editor's queue across
case files; the case report as a page and as a PDF."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from . import access, activity_text, report, subjects
from .access import Action
from .errors import DomainError
from .forms import ClaimForm, CommentForm, DisputeForm, ReviewRequestForm
from .models import Claim, ClaimStatus
from .selectors import claims as claim_selectors
from .services import claims as claim_services

QUEUE_PAGE_SIZE = 50
CLAIMS_PAGE_SIZE = 50


def _errors(form) -> str:
    return " ".join(e for errors in form.errors.values() for e in errors)


def _claim_rows(request: HttpRequest, claims, size: int) -> dict:
    """A page of claims, each with how its datum reads now."""
    page = Paginator(claims, size).get_page(request.GET.get("page"))
    return {"page": page, "rows": [(c, subjects.describe(c)) for c in page.object_list]}


@require_GET
def claim_list(request: HttpRequest, case_id) -> HttpResponse:
    """The case's readiness: claims by status, and the claims of one status (or not verified)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    status = request.GET.get("status", "")
    if status not in ClaimStatus.values and status != "unverified":
        status = ""
    claims = claim_selectors.claim_list(case=case, status="" if status == "unverified" else status)
    if status == "unverified":
        claims = claims.exclude(status=ClaimStatus.VERIFIED)
    return render(
        request,
        "investigations/claims.html",
        {
            "case": case,
            "tab": "claims",
            "counts": claim_selectors.claim_counts(case=case),
            "status": status,
            "extra_query": f"status={status}" if status else "",
            **_claim_rows(request, claims, CLAIMS_PAGE_SIZE),
        },
    )


@require_POST
def claim_mark(request: HttpRequest, case_id, target_kind: str, target_id) -> HttpResponse:
    """Mark an event, a link, a shipment or an entity field as a claim."""
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    kind, target = subjects.load_or_404(subjects.target(target_kind), case, target_id)
    form = ClaimForm(request.POST, reviewers=claim_selectors.reviewer_choices(case=case))
    back = kind.url(target, case) or reverse(
        "investigations:claims", kwargs={"case_id": case.public_id}
    )
    if not form.is_valid():
        messages.error(request, _errors(form))
        return redirect(back)
    reviewer_id = form.cleaned_data["reviewer"]
    reviewer = get_user_model().objects.filter(pk=reviewer_id).first() if reviewer_id else None
    try:
        claim = claim_services.claim_create(
            case=case,
            target=target,
            field=form.cleaned_data["field"],
            statement=form.cleaned_data["statement"],
            actor=request.user,
            reviewer=reviewer,
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request, "Marked as a claim." + (" Review requested." if reviewer is not None else "")
    )
    return redirect("investigations:claim", case_id=case.public_id, claim_uid=claim.public_id)


def _claim(request: HttpRequest, case, claim_uid, action=Action.VIEW) -> Claim:
    return access.get_case_object_for(
        request.user,
        claim_selectors.claims_with_targets(),
        case=case,
        public_id=claim_uid,
        action=action,
    )


@require_GET
def claim_detail(request: HttpRequest, case_id, claim_uid) -> HttpResponse:
    """The review screen: the claim beside its evidence (page text and image, screenshot)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _claim_page(request, case, _claim(request, case, claim_uid))


def _claim_page(request: HttpRequest, case, claim: Claim, *, dispute_form=None) -> HttpResponse:
    kind = subjects.kind_of(claim)
    target = claim.target
    reviewers = claim_selectors.reviewer_choices(case=case)
    return render(
        request,
        "investigations/claim.html",
        {
            "case": case,
            "tab": "claims",
            "claim": claim,
            "reads": subjects.describe(claim),
            "kind": kind,
            "target": target,
            "target_url": kind.url(target, case) if kind and target is not None else None,
            "evidence": subjects.evidence_for([claim], case, detail=True)[claim.pk],
            "history_items": activity_text.feed_items(
                claim_selectors.claim_history(claim=claim), case=case
            ),
            "comments": claim_selectors.comments_on(subject=claim),
            "comment_form": CommentForm(),
            "dispute_form": dispute_form or DisputeForm(),
            "review_form": ReviewRequestForm(
                reviewers=reviewers,
                initial={"reviewer": claim.reviewer_id or (reviewers[0][0] if reviewers else None)},
            ),
            "has_reviewers": bool(reviewers),
        },
    )


def _back(case, claim):
    return redirect("investigations:claim", case_id=case.public_id, claim_uid=claim.public_id)


@require_POST
def claim_request_review(request: HttpRequest, case_id, claim_uid) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    claim = _claim(request, case, claim_uid, Action.WRITE)
    form = ReviewRequestForm(request.POST, reviewers=claim_selectors.reviewer_choices(case=case))
    if not form.is_valid():
        messages.error(request, _errors(form))
        return _back(case, claim)
    reviewer = get_user_model().objects.filter(pk=form.cleaned_data["reviewer"]).first()
    try:
        claim_services.claim_request_review(claim=claim, reviewer=reviewer, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        name = reviewer.get_short_name() or reviewer.get_username()
        messages.success(request, f"Review requested: it is in {name}'s inbox.")
    return _back(case, claim)


@require_POST
def claim_verify(request: HttpRequest, case_id, claim_uid) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    claim = _claim(request, case, claim_uid)
    try:
        claim_services.claim_verify(claim=claim, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _back(case, claim)
    messages.success(request, "Verified.")
    if request.POST.get("next") == "queue":  # verified from the queue: on to the next one
        return redirect("editor:queue")
    return _back(case, claim)


@require_POST
def claim_dispute(request: HttpRequest, case_id, claim_uid) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    claim = _claim(request, case, claim_uid)
    form = DisputeForm(request.POST)
    if form.is_valid():
        try:
            claim_services.claim_dispute(
                claim=claim, actor=request.user, comment=form.cleaned_data["comment"]
            )
        except DomainError as exc:
            # Shown again with what was typed: a mention to fix loses nothing.
            form.add_error("comment" if exc.field in ("body", "comment") else None, exc.message)
        else:
            messages.success(request, "Disputed: the reporter is told why.")
            return _back(case, claim)
    return _claim_page(request, case, claim, dispute_form=form)


@require_POST
def claim_delete(request: HttpRequest, case_id, claim_uid) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    claim = _claim(request, case, claim_uid, Action.WRITE)
    claim_services.claim_delete(claim=claim)
    messages.success(request, "No longer a claim: the data stays.")
    return redirect("investigations:claims", case_id=case.public_id)


@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    """Claims waiting for my review in every case file where I am editor or owner."""
    claims = claim_selectors.review_queue(user=request.user)
    return render(
        request,
        "investigations/queue.html",
        {
            "reviews_anywhere": access.reviewing_investigations(request.user).exists(),
            **_claim_rows(request, claims, QUEUE_PAGE_SIZE),
        },
    )


@require_GET
def case_report(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    html = report.render_html(report.build(case, user=request.user), inline_css=False)
    return HttpResponse(html)


@require_GET
def case_report_pdf(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    pdf = report.render_pdf(case, user=request.user)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="report-{case.slug}.pdf"'
    return response
