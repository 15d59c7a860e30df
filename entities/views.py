"""Entity, link and shipment pages of a case file, and the shared dataset pages.

Case pages: one access loader (get_case_for), then selectors and services. Dataset pages load
through access.get_dataset_for (every logged-in user reads them); pinning into a case needs
write access to that case.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from investigations import access
from investigations.access import Action
from investigations.errors import DomainError
from investigations.models import Investigation

from . import search, selectors, services
from .analysis import charts, flows
from .analysis.forms import FlowFilterForm
from .codes import country_name
from .forms import EntityFilterForm, EntityForm, LinkForm, ShipmentFilterForm, ShipmentForm
from .models import LINK_ENDS, Entity, Link, Pin, Shipment
from .services import DuplicateIdentifier, Scope

ENTITY_PAGE_SIZE = 50
SHIPMENT_PAGE_SIZE = 100
LOOKUP_LIMIT = 12


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def entity_url(entity: Entity, case: Investigation | None, pinned: set[int]) -> str:
    """Where to open an entity from a page: inside the case when it is part of it."""
    if case is not None and (entity.investigation_id == case.pk or entity.pk in pinned):
        return reverse(
            "entities:detail", kwargs={"case_id": case.public_id, "entity_id": entity.public_id}
        )
    if entity.dataset_id is not None:
        return reverse(
            "datasets:entity",
            kwargs={"dataset_id": entity.dataset.public_id, "entity_id": entity.public_id},
        )
    raise Http404  # a case entity seen from outside its case: never linked


def _pinned_ids(case: Investigation) -> set[int]:
    return set(Pin.objects.filter(investigation=case).values_list("entity_id", flat=True))


# --- Case: entities -------------------------------------------------------------------------


@require_GET
def entity_list(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = EntityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.case_entities(
        case=case,
        schema=filters.get("schema", ""),
        country=filters.get("country", ""),
        query=filters.get("q", ""),
        sort=filters.get("sort") or "name",
    )
    page = Paginator(qs, ENTITY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "entities/list.html"
    if request.htmx and request.htmx.target == "entity-list":
        template += "#entity-list"
    return render(
        request,
        template,
        {
            "case": case,
            "page": page,
            "form": form,
            "tab": "entities",
            "extra_query": query.urlencode(),
        },
    )


@require_http_methods(["GET", "POST"])
def entity_create(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    form = EntityForm(request.POST or None, initial={"schema": request.GET.get("schema")})
    existing = None
    if request.method == "POST" and form.is_valid():
        try:
            entity = services.entity_create(
                scope=Scope(investigation=case), created_by=request.user, **form.cleaned_data
            )
        except DuplicateIdentifier as exc:
            _form_error(form, exc)
            existing = exc.existing
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"{entity.get_schema_display()} “{entity.name}” added.")
            return redirect("entities:detail", case_id=case.public_id, entity_id=entity.public_id)
    return render(
        request,
        "entities/form.html",
        {
            "case": case,
            "form": form,
            "tab": "entities",
            "existing": existing,
            "existing_url": entity_url(existing, case, _pinned_ids(case)) if existing else None,
        },
    )


# Link rows rendered at first; the rest on request (1,000 rows cost ~225 ms of template).
LINK_ROWS = 100


def _entity_page_context(
    entity: Entity, case: Investigation | None, *, all_links: bool = False
) -> dict:
    pinned = _pinned_ids(case) if case else set()
    links = selectors.entity_links(entity=entity, case=case, limit=None if all_links else LINK_ROWS)

    def rows(link_list, outgoing: bool):
        result = []
        for link in link_list:
            other = link.target if outgoing else link.source
            ends = LINK_ENDS[link.kind]
            result.append(
                {
                    "link": link,
                    "other": other,
                    "other_url": entity_url(other, case, pinned),
                    "other_role": ends[3] if outgoing else ends[2],
                    "can_delete": case is not None and link.investigation_id == case.pk,
                }
            )
        return result

    totals = selectors.entity_shipment_totals(entity=entity, case=case)
    return {
        "entity": entity,
        "links_out": rows(links.outgoing, True),
        "links_in": rows(links.incoming, False),
        "link_count": links.total,
        "links_hidden": links.hidden,
        "totals": totals,
        "recent_shipments": selectors.entity_recent_shipments(entity=entity, case=case),
        "countries": [(c, country_name(c)) for c in entity.countries],
        "nationality": [(c, country_name(c)) for c in entity.nationality],
    }


@require_GET
def entity_detail(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    entity = selectors.entity_in_case(case=case, public_id=entity_id)
    context = _entity_page_context(entity, case, all_links=request.GET.get("links") == "all")
    duplicates = search.possible_duplicates(entity=entity, case=case)
    return render(
        request,
        "entities/detail.html",
        {
            **context,
            "case": case,
            "tab": "entities",
            "duplicates": duplicates,
            "activity": selectors.entity_activity(entity=entity, case=case),
            "link_form": LinkForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def entity_edit(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    entity = selectors.entity_in_case(case=case, public_id=entity_id)
    # A pinned dataset entity gets no form at all (the service refuses a save anyway).
    services.entity_check_writable(entity=entity, case=case)
    form = EntityForm(request.POST or None, initial=EntityForm.initial_for(entity))
    existing = None
    if request.method == "POST" and form.is_valid():
        try:
            services.entity_update(entity=entity, case=case, **form.cleaned_data)
        except DuplicateIdentifier as exc:
            _form_error(form, exc)
            existing = exc.existing
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Saved.")
            return redirect("entities:detail", case_id=case.public_id, entity_id=entity.public_id)
    return render(
        request,
        "entities/form.html",
        {
            "case": case,
            "form": form,
            "entity": entity,
            "tab": "entities",
            "existing": existing,
            "existing_url": entity_url(existing, case, _pinned_ids(case)) if existing else None,
        },
    )


@require_POST
def entity_delete(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    entity = selectors.entity_in_case(case=case, public_id=entity_id)
    try:
        services.entity_delete(entity=entity, case=case)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("entities:detail", case_id=case.public_id, entity_id=entity.public_id)
    messages.success(request, f"“{entity.name}” deleted.")
    return redirect("entities:list", case_id=case.public_id)


@require_POST
def entity_merge(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    """Merge another entity of this case (POST other=<public id>) into this one."""
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    survivor = selectors.entity_in_case(case=case, public_id=entity_id)
    try:
        other = selectors.entity_in_case(case=case, public_id=request.POST.get("other", ""))
    except Http404:
        messages.error(request, "Choose an entity of this case file to merge into this one.")
        return redirect("entities:detail", case_id=case.public_id, entity_id=survivor.public_id)
    try:
        services.entity_merge(survivor=survivor, duplicate=other, case=case, actor=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"“{other.name}” merged into “{survivor.name}”.")
    return redirect("entities:detail", case_id=case.public_id, entity_id=survivor.public_id)


@require_POST
def entity_unpin(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    entity = selectors.entity_in_case(case=case, public_id=entity_id)
    try:
        services.unpin_entity(investigation=case, entity=entity)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("entities:detail", case_id=case.public_id, entity_id=entity.public_id)
    messages.success(request, f"“{entity.name}” unpinned from this case file.")
    return redirect("entities:list", case_id=case.public_id)


@require_GET
def entity_lookup(request: HttpRequest, case_id) -> HttpResponse:
    """htmx: candidates for a party field (this case's entities first, then datasets)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    query = request.GET.get("q", "").strip()
    field = request.GET.get("field", "other")
    if field not in {"other", "exporter", "importer", "party", "source", "target"}:
        field = "other"
    chosen = request.GET.get("choose")
    if chosen:  # a candidate was picked: the hidden input and its label replace the box
        return render(
            request,
            "entities/_lookup.html#chosen",
            {
                "chosen": _visible_party(request, case, access.parse_public_id(chosen)),
                "field": field,
            },
        )
    exclude = request.GET.get("exclude", "")
    hits = []
    if len(query) >= 2:
        pinned = _pinned_ids(case)
        for hit in search.search_entities(user=request.user, query=query, limit=LOOKUP_LIMIT * 2):
            entity = hit.entity
            if str(entity.public_id) == exclude:
                continue
            if entity.investigation_id not in (None, case.pk):
                continue  # another case file of mine: not linkable from here
            hits.append(
                {
                    "entity": entity,
                    "in_case": entity.investigation_id == case.pk or entity.pk in pinned,
                    "matched": hit.matched_name,
                    "why": hit.why,
                }
            )
        hits.sort(key=lambda h: not h["in_case"])
    return render(
        request,
        "entities/_lookup.html",
        {
            "hits": hits[:LOOKUP_LIMIT],
            "field": field,
            "query": query,
        },
    )


@require_http_methods(["GET", "POST"])
def link_create(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    entity = selectors.entity_in_case(case=case, public_id=entity_id)
    form = LinkForm(request.POST or None)
    other = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        other = _visible_party(request, case, data.pop("other"))
        outgoing = data.pop("direction") == "out"
        source, target = (entity, other) if outgoing else (other, entity)
        try:
            services.link_create(
                scope=Scope(investigation=case),
                source=source,
                target=target,
                created_by=request.user,
                **data,
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Link added.")
            return redirect("entities:detail", case_id=case.public_id, entity_id=entity.public_id)
    return render(
        request,
        "entities/link_form.html",
        {
            "case": case,
            "entity": entity,
            "form": form,
            "tab": "entities",
            "other": other,
        },
        status=200,
    )


def _visible_party(request: HttpRequest, case: Investigation, public_id) -> Entity:
    """A party for a link or shipment: an entity of this case, or any dataset entity."""
    entity = (
        Entity.objects.select_related("dataset")
        .filter(public_id=public_id)
        .filter(Q(investigation=case) | Q(dataset__isnull=False))
        .first()
    )
    if entity is None:
        raise Http404("No such entity")
    return entity


@require_POST
def link_delete(request: HttpRequest, case_id, link_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    link = access.get_case_object_for(
        request.user,
        Link.objects.select_related("source"),
        case=case,
        public_id=link_id,
        action=Action.WRITE,
    )
    services.link_delete(link=link)
    messages.success(request, "Link removed.")
    back = request.POST.get("back", "")
    if back.startswith(f"/cases/{case.public_id}/"):
        return redirect(back)
    return redirect("entities:list", case_id=case.public_id)


# --- Case: shipments ------------------------------------------------------------------------


def _shipment_table(request: HttpRequest, *, case=None, dataset=None) -> dict:
    form = ShipmentFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    party = None
    if filters.get("party"):
        party = selectors.shipment_party(case=case, dataset=dataset, public_id=filters["party"])
    qs = selectors.shipments(
        case=case,
        dataset=dataset,
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        hs_prefix=filters.get("hs", ""),
        country=filters.get("country", ""),
        party=party,
    )
    if filters.get("party") and party is None:
        qs = qs.none()  # an entity this page may not name: like an unknown id, no rows
    page = Paginator(qs, SHIPMENT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "form": form,
        "page": page,
        "totals": selectors.shipment_totals(qs),
        "extra_query": query.urlencode(),
        "party": party,
    }


@require_GET
def shipment_list(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    context = _shipment_table(request, case=case)
    template = "entities/shipments.html"
    if request.htmx and request.htmx.target == "shipment-table":
        template += "#shipment-table"
    return render(request, template, {**context, "case": case, "tab": "shipments"})


@require_http_methods(["GET", "POST"])
def shipment_create(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    form = ShipmentForm(request.POST or None)
    parties = {}
    if request.method == "POST":
        for field in ("exporter", "importer"):
            value = request.POST.get(field)
            if value:
                parties[field] = _visible_party(request, case, value)
        if form.is_valid():
            data = {**form.cleaned_data, **parties}
            data.setdefault("exporter", None)
            data.setdefault("importer", None)
            try:
                services.shipment_create(
                    scope=Scope(investigation=case), created_by=request.user, **data
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, "Shipment recorded.")
                return redirect("entities:shipments", case_id=case.public_id)
    return render(
        request,
        "entities/shipment_form.html",
        {
            "case": case,
            "form": form,
            "tab": "shipments",
            "parties": parties,
        },
    )


@require_POST
def shipment_delete(request: HttpRequest, case_id, shipment_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    shipment = access.get_case_object_for(
        request.user, Shipment, case=case, public_id=shipment_id, action=Action.WRITE
    )
    services.shipment_delete(shipment=shipment)
    messages.success(request, "Shipment deleted.")
    return redirect("entities:shipments", case_id=case.public_id)


@require_GET
def case_export_ftm(request: HttpRequest, case_id) -> StreamingHttpResponse:
    """The case's entities, links and shipments as FtM JSON lines (a download)."""
    from . import ftm  # followthemoney loads its whole model: only when someone exports

    case = access.get_case_for(request.user, case_id, Action.VIEW)
    response = StreamingHttpResponse(
        (line + "\n" for line in ftm.export_case_lines(case)),
        content_type="application/x-ndjson; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{case.slug}.ftm.json"'
    return response


# --- Datasets (shared, read-only for reporters) ---------------------------------------------


@require_GET
def dataset_list(request: HttpRequest) -> HttpResponse:
    datasets = selectors.datasets(user=request.user)
    return render(request, "entities/datasets.html", {"datasets": datasets})


@require_GET
def dataset_detail(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = access.get_dataset_for(request.user, dataset_id)
    form = EntityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    qs = selectors.dataset_entities(
        dataset=dataset, schema=filters.get("schema", ""), query=filters.get("q", "")
    )
    page = Paginator(qs, ENTITY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    template = "entities/dataset.html"
    if request.htmx and request.htmx.target == "entity-list":
        template += "#entity-list"
    return render(
        request,
        template,
        {
            "dataset": dataset,
            "page": page,
            "form": form,
            "extra_query": query.urlencode(),
            "imports": selectors.dataset_imports(dataset=dataset),
        },
    )


@require_GET
def dataset_entity(request: HttpRequest, dataset_id, entity_id) -> HttpResponse:
    dataset = access.get_dataset_for(request.user, dataset_id)
    entity = selectors.entity_in_dataset(dataset=dataset, public_id=entity_id)
    writable = [
        c
        for c in access.visible_investigations(request.user).order_by("title")
        if access.can(request.user, Action.WRITE, c)
    ]
    return render(
        request,
        "entities/dataset_entity.html",
        {
            **_entity_page_context(entity, None),
            "dataset": dataset,
            "writable_cases": writable,
            "duplicates": search.possible_duplicates(entity=entity),
        },
    )


@require_POST
def dataset_entity_pin(request: HttpRequest, dataset_id, entity_id) -> HttpResponse:
    dataset = access.get_dataset_for(request.user, dataset_id)
    entity = selectors.entity_in_dataset(dataset=dataset, public_id=entity_id)
    case = access.get_case_for(request.user, request.POST.get("case", ""), Action.WRITE)
    services.pin_entity(investigation=case, entity=entity, actor=request.user)
    messages.success(request, f"“{entity.name}” pinned into “{case.title}”.")
    return redirect("entities:detail", case_id=case.public_id, entity_id=entity.public_id)


@require_GET
def dataset_shipments(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = access.get_dataset_for(request.user, dataset_id)
    context = _shipment_table(request, dataset=dataset)
    template = "entities/dataset_shipments.html"
    if request.htmx and request.htmx.target == "shipment-table":
        template += "#shipment-table"
    return render(request, template, {**context, "dataset": dataset})


# --- Trade flows ----------------------------------------------------------------------------


def _flows_page(request: HttpRequest, context: dict, *, case=None, dataset=None) -> HttpResponse:
    """Trade flows of a case file or dataset; htmx filter requests get only #flows-body."""
    form = FlowFilterForm(request.GET or None)
    table = flows.flow_table(case=case, dataset=dataset, **form.selector_kwargs())
    template = "entities/flows.html"
    if request.htmx and request.htmx.target == "flows-body":
        template += "#flows-body"
    return render(
        request, template, {**context, "form": form, "flows": table, **charts.flow_charts(table)}
    )


@require_GET
def flow_list(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _flows_page(request, {"case": case, "tab": "flows"}, case=case)


@require_GET
def dataset_flows(request: HttpRequest, dataset_id) -> HttpResponse:
    dataset = access.get_dataset_for(request.user, dataset_id)
    return _flows_page(request, {"dataset": dataset}, dataset=dataset)
