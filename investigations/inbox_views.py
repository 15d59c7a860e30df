"""Comments on claims and entities, and my inbox (mentions, review requests and outcomes)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, subjects
from .access import Action
from .errors import DomainError
from .forms import CommentForm
from .selectors import claims as claim_selectors
from .selectors import inbox as inbox_selectors
from .services import comments as comment_services

INBOX_PAGE_SIZE = 30


@require_http_methods(["GET", "POST"])
def comments(request: HttpRequest, case_id, subject_kind: str, subject_id) -> HttpResponse:
    """The comments on a claim or an entity, with the form (htmx panel; a page without JS)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    kind, subject = subjects.load_or_404(subjects.commentable(subject_kind), case, subject_id)
    form = CommentForm(request.POST or None)
    if request.method == "POST":
        access.check(request.user, Action.COMMENT, case)
        if form.is_valid():
            try:
                comment_services.comment_add(
                    case=case, subject=subject, body=form.cleaned_data["body"], actor=request.user
                )
            except DomainError as exc:
                form.add_error("body", exc.message)
            else:
                if not request.htmx:
                    messages.success(request, "Comment added.")
                    return redirect(kind.url(subject, case) or request.path)
                form = CommentForm()
    return render(
        request,
        "investigations/_comments.html" if request.htmx else "investigations/comments.html",
        {
            "case": case,
            "subject": subject,
            "subject_kind": subject_kind,
            "subject_id": subject.public_id,
            "comments": claim_selectors.comments_on(subject=subject),
            "form": form,
        },
    )


@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    items = inbox_selectors.inbox(user=request.user)
    page = Paginator(items, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "investigations/inbox.html",
        {"page": page, "unread": sum(1 for item in page.object_list if item.read_at is None)},
    )


@require_GET
def inbox_count(request: HttpRequest) -> HttpResponse:
    """The header's inbox link with the unread count (loaded after the page, by htmx)."""
    return render(
        request,
        "investigations/_inbox_link.html",
        {"unread": inbox_selectors.unread_count(user=request.user)},
    )


@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    item = request.POST.get("item")
    ids = [int(item)] if item and item.isdigit() else None
    comment_services.inbox_mark_read(user=request.user, item_ids=ids)
    go = request.POST.get("go", "")
    if ids and go.startswith("/cases/"):
        return redirect(go)
    return redirect("editor:inbox")
