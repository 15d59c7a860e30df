"""The network page of a case file, its JSON, node cards, saved layout, paths and exports.

Every view starts with access.get_case_for (404 for a non-member); entities come through
graph.visible_entity, which refuses another case's rows.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from investigations import access
from investigations.access import Action

from . import exports, graph, layout, paths
from .forms import KIND_CHOICES, ExpandForm, PathForm, parse_layout


@require_GET
def network_page(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return render(
        request,
        "entities/analysis/network.html",
        {"case": case, "tab": "network", "kinds": KIND_CHOICES},
    )


@require_GET
def network_data(request: HttpRequest, case_id) -> JsonResponse:
    """The page's graph with the saved layout."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    data = graph.case_graph(case=case).as_json()
    saved = layout.network_layout_of(case=case)
    data["layout"] = {
        "positions": saved.positions if saved else {},
        "hidden": saved.hidden_kinds if saved else [],
    }
    return JsonResponse(data)


@require_GET
def network_expand(request: HttpRequest, case_id) -> JsonResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = ExpandForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"error": form.errors.get_json_data()}, status=400)
    entity = graph.visible_entity(case=case, public_id=form.cleaned_data["entity"])
    result = graph.neighbourhood(
        case=case,
        entity=entity,
        hops=form.cleaned_data["hops"],
        datasets=form.cleaned_data["datasets"],
        kinds=form.cleaned_data["kinds"] or None,
    )
    return JsonResponse(result.as_json())


@require_GET
def network_card(request: HttpRequest, case_id, entity_id) -> HttpResponse:
    """The card of a clicked node (an htmx fragment)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    entity = graph.visible_entity(case=case, public_id=entity_id)
    return render(
        request,
        "entities/analysis/_node_card.html",
        {"case": case, "entity": entity},
    )


@require_POST
def network_layout(request: HttpRequest, case_id) -> JsonResponse:
    """Save node positions and hidden kinds (JSON body); for members who may write."""
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    try:
        positions, hidden = parse_layout(request.body)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    layout.network_layout_save(
        case=case, positions=positions, hidden_kinds=hidden, actor=request.user
    )
    return JsonResponse({"saved": len(positions)})


@require_GET
def path_page(request: HttpRequest, case_id) -> HttpResponse:
    """How is A connected to B: the shortest chains, each hop with its citations."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = PathForm(request.GET or None)
    chosen, result = {}, None
    if form.is_bound and form.is_valid():
        for end in ("source", "target"):
            if form.cleaned_data[end]:
                chosen[end] = graph.visible_entity(case=case, public_id=form.cleaned_data[end])
        if len(chosen) == 2:
            result = paths.shortest_paths(
                case=case,
                source=chosen["source"],
                target=chosen["target"],
                kinds=form.cleaned_data["kinds"],
                datasets=form.cleaned_data["datasets"],
            )
    return render(
        request,
        "entities/analysis/paths.html",
        {
            "case": case,
            "tab": "network",
            "form": form,
            "chosen": chosen,
            "result": result,
            "max_hops": settings.PATH_MAX_HOPS,
        },
    )


def _download(lines, *, content_type: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def export_gexf(request: HttpRequest, case_id) -> StreamingHttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _download(
        exports.gexf_lines(case=case, graph=graph.case_graph(case=case)),
        content_type="application/gexf+xml; charset=utf-8",
        filename=f"{case.slug}.gexf",
    )


@require_GET
def export_graphml(request: HttpRequest, case_id) -> StreamingHttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _download(
        exports.graphml_lines(case=case, graph=graph.case_graph(case=case)),
        content_type="application/graphml+xml; charset=utf-8",
        filename=f"{case.slug}.graphml",
    )
