"""Red flags of a case file (the Flags tab) and of a dataset, the sanctions-list switch of a
dataset (staff), and batch screening.

Case views load the case with access.get_case_for (404 for a non-member); dataset pages are
shared reference data any logged-in user reads, and running them or marking a sanctions list
is for staff (access.require_staff: 404 for others).
"""

from pathlib import Path

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from investigations import access
from investigations.access import Action
from investigations.errors import DomainError

from ..models import Entity, FlagHit
from . import screening
from .flags import service
from .forms import ScreeningForm


def _entity_url(entity: Entity, case=None) -> str:
    """Inside the case for its own and pinned entities; else the dataset's page."""
    if case is not None and (entity.investigation_id == case.pk or entity.is_pinned):
        return reverse(
            "entities:detail", kwargs={"case_id": case.public_id, "entity_id": entity.public_id}
        )
    if entity.dataset_id:
        return reverse(
            "datasets:entity",
            kwargs={"dataset_id": entity.dataset.public_id, "entity_id": entity.public_id},
        )
    return reverse(
        "entities:detail",
        kwargs={"case_id": entity.investigation.public_id, "entity_id": entity.public_id},
    )


def _flags_page(request: HttpRequest, context: dict, *, case=None, dataset=None) -> HttpResponse:
    run = service.flag_run_of(case=case, dataset=dataset)
    views = service.flag_hits(run=run, case=case)
    for view in views:
        view.urls = [(e, _entity_url(e, case)) for e in view.entities]
    template = "entities/analysis/flags.html"
    if request.htmx and request.htmx.target == "flag-run":
        template += "#flag-run"
    return render(
        request,
        template,
        {
            **context,
            "run": run,
            "views": views,
            "detectors": service.DETECTOR_HELP,
            "claims": case is not None and service.claims_available(),
        },
    )


@require_GET
def case_flags(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _flags_page(request, {"case": case, "tab": "flags"}, case=case)


@require_POST
def case_flags_run(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    service.flag_run_request(case=case, actor=request.user)
    messages.success(request, "The red flags are being computed; this page updates itself.")
    return redirect("analysis:flags", case_id=case.public_id)


@require_POST
def flag_claim(request: HttpRequest, case_id, hit_id) -> HttpResponse:
    """Turn a flag into a draft claim on the timeline, and open the claim."""
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    hit = get_object_or_404(
        FlagHit.objects.select_related("run"),
        public_id=access.parse_public_id(hit_id),
        run__investigation=case,
    )
    try:
        claim = service.flag_to_claim(hit=hit, case=case, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("analysis:flags", case_id=case.public_id)
    messages.success(
        request,
        "The flag is a draft claim on the timeline: cite its evidence, then ask for review.",
    )
    return redirect("investigations:claim", case_id=case.public_id, claim_uid=claim.public_id)


@require_GET
def dataset_flags(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = access.get_dataset_for(request.user, dataset_id)
    return _flags_page(request, {"dataset": dataset, "tab": "flags"}, dataset=dataset)


@require_POST
def dataset_flags_run(request: HttpRequest, dataset_id) -> HttpResponse:
    access.require_staff(request.user)
    dataset = access.get_dataset_for(request.user, dataset_id)
    service.flag_run_request(dataset=dataset, actor=request.user)
    messages.success(request, "The red flags of this dataset are being computed.")
    return redirect("datasets:flags", dataset_id=dataset.public_id)


@require_POST
def dataset_sanctions_list(request: HttpRequest, dataset_id) -> HttpResponse:
    """Mark a dataset as a sanctions list, or not (staff)."""
    access.require_staff(request.user)
    dataset = access.get_dataset_for(request.user, dataset_id)
    on = request.POST.get("is_sanctions_list") == "on"
    service.dataset_mark_sanctions_list(dataset=dataset, is_sanctions_list=on)
    messages.success(
        request,
        f"“{dataset.name}” is {'now' if on else 'no longer'} treated as a sanctions list.",
    )
    return redirect("datasets:detail", dataset_id=dataset.public_id)


@require_http_methods(["GET", "POST"])
def screening_page(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of names; see (or download) each one's best matches."""
    form = ScreeningForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST":
        if getattr(request, "upload_too_large", None):
            form.add_error("file", "The file is larger than the upload limit.")
        elif form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                queries, bad = screening.read_queries(
                    Path(uploaded.temporary_file_path()), filename=uploaded.name
                )
            except screening.ScreeningError as exc:
                form.add_error("file", exc.message)
            else:
                rows = screening.screen(user=request.user, queries=queries)
                for row in rows:
                    for match in row.matches:
                        match.url = _entity_url(match.entity)
                if request.POST.get("format") == "csv":
                    response = StreamingHttpResponse(
                        screening.csv_lines(rows, bad, url_of=_entity_url),
                        content_type="text/csv; charset=utf-8",
                    )
                    response["Content-Disposition"] = 'attachment; filename="screening.csv"'
                    return response
                result = screening.ScreeningResult(rows=rows, bad=bad)
    return render(
        request,
        "entities/analysis/screening.html",
        {"form": form, "result": result},
    )
