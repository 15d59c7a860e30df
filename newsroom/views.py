"""Site-wide pages that span the apps: home and the search box."""

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

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
    """One search box for everything I may see. Today: my case files by title and summary."""
    query = request.GET.get("q", "").strip()
    cases = case_selectors.investigation_list(user=request.user, query=query) if query else None
    page = Paginator(cases, SEARCH_PAGE_SIZE).get_page(request.GET.get("page")) if query else None
    return render(request, "search.html", {"query": query, "page": page})
