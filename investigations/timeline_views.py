"""The case timeline: the page (filters, pages of 100, an entity's own on its page), CSV export,
and events written by reporters. Each view: one access-checked loader, one service or selector."""

import csv

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, formatting, subjects, timeline
from .access import Action
from .errors import DomainError
from .forms import ClaimForm, EventForm, TimelineFilterForm
from .models import ClaimStatus, TimelineEvent
from .selectors import claims as claim_selectors
from .selectors import timeline as timeline_selectors
from .services import timeline as timeline_services

ENTITY_TIMELINE_SIZE = 20  # events on an entity's page; the rest through the timeline filter


def _filters(request: HttpRequest, case) -> TimelineFilterForm:
    return TimelineFilterForm(
        request.GET or None,
        entities=timeline.entity_choices(case),
        kinds=[(k.key, k.label) for k in timeline.kinds()],
        statuses=ClaimStatus.choices,
    )


@require_GET
def timeline_page(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    if request.htmx and request.htmx.target == "entity-timeline":
        return _entity_timeline(request, case)
    form = _filters(request, case)
    filters = form.selector_kwargs()
    events = timeline_selectors.timeline_events(case=case, **filters)
    page, views = timeline_selectors.timeline_page(events, case=case, page=request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "investigations/timeline.html"
    if request.htmx and request.htmx.target == "timeline-results":
        template += "#timeline-results"
    return render(
        request,
        template,
        {
            "case": case,
            "tab": "timeline",
            "form": form,
            "page": page,
            "events": views,
            "filtered": any(filters.values()),
            "extra_query": query.urlencode(),
        },
    )


def _entity_timeline(request: HttpRequest, case) -> HttpResponse:
    """An entity's own events, for its page (loaded by htmx, so the page stays as fast)."""
    entity = subjects.target("entity").load(case, access.parse_public_id(request.GET.get("of")))
    if entity is None:
        return HttpResponse(status=404)
    events = timeline_selectors.timeline_events(case=case, entity_id=entity.pk)
    page, views = timeline_selectors.timeline_page(
        events, case=case, page=1, size=ENTITY_TIMELINE_SIZE
    )
    return render(
        request,
        "investigations/_entity_timeline.html",
        {"case": case, "entity": entity, "page": page, "events": views},
    )


@require_GET
def timeline_csv(request: HttpRequest, case_id) -> StreamingHttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = _filters(request, case)
    events = timeline_selectors.timeline_events(case=case, **form.selector_kwargs())

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    statuses = dict(ClaimStatus.choices)

    def rows():
        yield writer.writerow(
            ["date", "until", "precision", "kind", "title", "description", "entities", "review"]
        )
        for event, kind, names in timeline_selectors.timeline_rows(events, case=case):
            yield writer.writerow(
                [
                    event.start,
                    event.end,
                    event.precision,
                    kind,
                    event.title,
                    event.description,
                    "; ".join(names),
                    statuses.get(event.claim_status, ""),
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="timeline-{case.slug}.csv"'
    return response


def _event_form_page(request, case, form, event=None) -> HttpResponse:
    return render(
        request,
        "investigations/event_form.html",
        {"case": case, "form": form, "event": event, "tab": "timeline"},
    )


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _event_fields(form: EventForm) -> dict:
    data = form.cleaned_data
    return {
        "start": data["start"],
        "end": data["end"],
        "title": data["title"],
        "description": data["description"],
        "entity_ids": data["entities"],
    }


@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    form = EventForm(request.POST or None, entity_choices=timeline.entity_choices(case))
    if request.method == "POST" and form.is_valid():
        try:
            event = timeline_services.event_create(
                case=case, actor=request.user, **_event_fields(form)
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Event added to the timeline.")
            return _to_event(case, event)
    return _event_form_page(request, case, form)


def _to_event(case, event: TimelineEvent) -> HttpResponse:
    return redirect("investigations:event", case_id=case.public_id, event_id=event.public_id)


def _event(request: HttpRequest, case, event_id, action=Action.VIEW) -> TimelineEvent:
    return access.get_case_object_for(
        request.user, TimelineEvent, case=case, public_id=event_id, action=action
    )


@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, case_id, event_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    event = _event(request, case, event_id, Action.WRITE)
    if not event.is_written:
        messages.error(request, "This event follows the case's data: change the data instead.")
        return _to_event(case, event)
    initial = {
        "start": event.start,
        "end": event.end,
        "title": event.title,
        "description": event.description,
        "entities": event.entity_ids,
    }
    form = EventForm(
        request.POST or None, initial=initial, entity_choices=timeline.entity_choices(case)
    )
    if request.method == "POST" and form.is_valid():
        try:
            timeline_services.event_update(event=event, **_event_fields(form))
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Event saved.")
            return _to_event(case, event)
    return _event_form_page(request, case, form, event)


@require_POST
def event_delete(request: HttpRequest, case_id, event_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    event = _event(request, case, event_id, Action.WRITE)
    try:
        timeline_services.event_delete(event=event)
    except DomainError as exc:
        messages.error(request, exc.message)
        return _to_event(case, event)
    messages.success(request, f"Event “{formatting.truncate(event.title, 80)}” deleted.")
    return redirect("investigations:timeline", case_id=case.public_id)


@require_GET
def event_detail(request: HttpRequest, case_id, event_id) -> HttpResponse:
    """One event: what it says, where it comes from, its claim (or the form to make one),
    its citations."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    event = _event(request, case, event_id)
    claim = claim_selectors.claim_on(case=case, target=event)
    _page, views = timeline_selectors.timeline_page(
        timeline_selectors.timeline_events(case=case).filter(pk=event.pk), case=case, page=1
    )
    return render(
        request,
        "investigations/event.html",
        {
            "case": case,
            "tab": "timeline",
            "event": event,
            "view": views[0],
            "claim": claim,
            "claim_form": ClaimForm(reviewers=claim_selectors.reviewer_choices(case=case)),
        },
    )
