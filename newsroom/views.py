"""Site-wide pages that span the apps: home and the search box."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from entities import search as entity_search
from evidence import selectors as evidence_selectors
from investigations import selectors as case_selectors

SEARCH_PAGE_SIZE = 20


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("investigations:list")


@login_not_required
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed name exists only after collectstatic in production.
    return redirect(static("favicon.svg"), permanent=True)


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """One search box for everything I may see, grouped: my case files (the case files and
    their entities), the shared datasets, and the text of documents and snapshots."""
    query = request.GET.get("q", "").strip()[:200]
    if not query:
        return render(request, "search.html", {"query": ""})
    hits = entity_search.search_entities(user=request.user, query=query, limit=SEARCH_PAGE_SIZE)
    cases = list(case_selectors.investigation_list(user=request.user, query=query)[:10])
    texts = evidence_selectors.search_text(user=request.user, query=query)
    in_cases = [h for h in hits if h.case is not None]
    in_datasets = [h for h in hits if h.case is None]
    groups = [
        {
            "key": "cases",
            "label": "My case files",
            "icon": "case",
            "count": len(cases) + len(in_cases),
        },
        {"key": "datasets", "label": "Datasets", "icon": "dataset", "count": len(in_datasets)},
        {"key": "documents", "label": "Documents", "icon": "document", "count": len(texts)},
    ]
    return render(
        request,
        "search.html",
        {
            "query": query,
            "groups": groups,
            "cases": cases,
            "case_hits": in_cases,
            "dataset_hits": in_datasets,
            "texts": texts,
            "limited": len(hits) >= SEARCH_PAGE_SIZE,
        },
    )
