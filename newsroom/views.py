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
    """One search box for everything I may see: entities by name, evidence text, case files."""
    query = request.GET.get("q", "").strip()[:200]
    if not query:
        return render(request, "search.html", {"query": ""})
    hits = entity_search.search_entities(user=request.user, query=query, limit=SEARCH_PAGE_SIZE)
    cases = case_selectors.investigation_list(user=request.user, query=query)[:10]
    texts = evidence_selectors.search_text(user=request.user, query=query)
    return render(
        request, "search.html", {"query": query, "hits": hits, "cases": cases, "texts": texts}
    )
