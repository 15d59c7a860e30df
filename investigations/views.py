"""Case-file pages. Each view: parse input, one access-checked loader, one service or selector."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import access, activity_text, overview, selectors, services
from .access import Action
from .errors import DomainError
from .forms import (
    ActivityFilterForm,
    AddMemberForm,
    ChangeRoleForm,
    InvestigationForm,
    InvestigationSettingsForm,
)
from .models import Investigation, Invitation, Membership

ACTIVITY_PAGE_SIZE = 25
RECENT_ACTIVITY = 6  # entries on the case overview
CASE_LIST_PAGE_SIZE = 25


def _form_error(form, exc: DomainError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


@require_GET
def investigation_list(request: HttpRequest) -> HttpResponse:
    # Invitations for my address become memberships here too, not only at log-in.
    services.invitations_accept(user=request.user)
    status = request.GET.get("status", "")
    if status not in Investigation.Status.values:
        status = ""
    query = request.GET.get("q", "").strip()
    cases = selectors.investigation_list(user=request.user, status=status, query=query)
    page = Paginator(cases, CASE_LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    template = "investigations/list.html"
    if request.htmx and request.htmx.target == "case-list":
        template += "#case-list"
    return render(
        request,
        template,
        {
            "page": page,
            "status": status,
            "query": query,
            "statuses": Investigation.Status.choices,
        },
    )


@require_http_methods(["GET", "POST"])
def investigation_create(request: HttpRequest) -> HttpResponse:
    form = InvestigationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.investigation_create(created_by=request.user, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, f"Case file “{case.title}” created. You are its owner.")
            return redirect("investigations:detail", case_id=case.public_id)
    return render(request, "investigations/create.html", {"form": form})


@require_GET
def investigation_detail(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    # A few more entries than shown: an old entry with nothing left to say is skipped.
    entries = selectors.activity_list(investigation=case)[: RECENT_ACTIVITY * 2]
    return render(
        request,
        "investigations/detail.html",
        {
            "case": case,
            "counts": overview.counts(case),
            "cards": overview.cards(case),
            "members": selectors.membership_list(investigation=case),
            "recent": activity_text.feed_items(entries, case=case)[:RECENT_ACTIVITY],
            "tab": "overview",
        },
    )


@require_http_methods(["GET", "POST"])
def investigation_settings(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.MANAGE)
    initial = {"title": case.title, "summary": case.summary, "status": case.status}
    form = InvestigationSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.investigation_update(investigation=case, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, "Case file settings saved.")
            return redirect("investigations:detail", case_id=case.public_id)
    return render(
        request,
        "investigations/settings.html",
        {
            "case": case,
            "form": form,
            "tab": "settings",
        },
    )


def _added_message(added: Membership | Invitation) -> str:
    if isinstance(added, Invitation):
        return (
            f"Invitation for {added.email} recorded: they join as {added.get_role_display()} "
            "when they log in with that address."
        )
    return f"{added.user.get_username()} added."


@require_http_methods(["GET", "POST"])
def member_list(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = AddMemberForm(request.POST or None)
    if request.method == "POST":
        access.check(request.user, Action.MANAGE, case)
        if form.is_valid():
            try:
                added = services.member_add_or_invite(
                    investigation=case,
                    identifier=form.cleaned_data["user"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _added_message(added))
                return redirect("investigations:members", case_id=case.public_id)
    return render(
        request,
        "investigations/members.html",
        {
            "case": case,
            "members": selectors.membership_list(investigation=case),
            "invitations": selectors.invitation_list(investigation=case),
            "form": form,
            "roles": Membership._meta.get_field("role").choices,
            "tab": "members",
        },
    )


@require_POST
def invitation_cancel(request: HttpRequest, case_id, invitation_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    invitation = access.get_case_object_for(
        request.user,
        Invitation.objects.filter(accepted_at__isnull=True),
        case=case,
        public_id=invitation_id,
        action=Action.MANAGE,
    )
    services.invitation_cancel(invitation=invitation)
    messages.success(request, f"Invitation for {invitation.email} cancelled.")
    return redirect("investigations:members", case_id=case.public_id)


def _load_membership(request: HttpRequest, case_id, member_id) -> Membership:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return access.get_case_object_for(
        request.user,
        Membership.objects.select_related("user", "investigation"),
        case=case,
        public_id=member_id,
        action=Action.MANAGE,
    )


@require_POST
def member_change_role(request: HttpRequest, case_id, member_id) -> HttpResponse:
    membership = _load_membership(request, case_id, member_id)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, f"{membership.user.get_username()} is now {membership.get_role_display()}."
            )
    return redirect("investigations:members", case_id=case_id)


@require_POST
def member_remove(request: HttpRequest, case_id, member_id) -> HttpResponse:
    membership = _load_membership(request, case_id, member_id)
    name = membership.user.get_username()
    try:
        services.membership_remove(membership=membership)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{name} removed from the case file.")
        if membership.user_id == request.user.pk:
            return redirect("investigations:list")
    return redirect("investigations:members", case_id=case_id)


@require_GET
def activity_feed(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    members = selectors.membership_list(investigation=case)
    form = ActivityFilterForm(
        request.GET or None, members=members, kinds=activity_text.kind_choices()
    )
    entries = selectors.activity_list(investigation=case, **form.selector_kwargs())
    page = Paginator(entries, ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("seen", None)
    template = "investigations/activity.html"
    if request.htmx:
        template += "#activity-page" if request.GET.get("page") else "#activity-feed"
    items = activity_text.feed_items(page.object_list, case=case)
    return render(
        request,
        template,
        {
            "case": case,
            "page": page,
            "days": activity_text.feed_days(items),
            "form": form,
            "filtered": form.is_bound and any(form.selector_kwargs().values()),
            "extra_query": query.urlencode(),
            "seen": request.GET.get("seen", ""),  # the day heading the page before ended with
            "tab": "activity",
        },
    )
