"""Evidence pages: documents, snapshots, watches, citations; downloads that never run content.

Every file leaves as an attachment with nosniff and a sandbox CSP, through an access-checked
view (or, with EVIDENCE_DOWNLOAD_ORIGIN set, a short-lived signed link on that other origin).
"""

import difflib
import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from warcio.exceptions import ArchiveLoadFailed

from entities.models import Entity, Link, Shipment
from investigations import access
from investigations.access import Action
from investigations.errors import DomainError
from investigations.models import TimelineEvent

from . import page_images, selectors, services
from .forms import CitationForm, DocumentUploadForm, SnapshotForm, WatchForm
from .models import Citation, Document, Snapshot, Watch

PAGE_SIZE = 50
SIGNING_SALT = "casefile.evidence.download"


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- Serving files --------------------------------------------------------------------------


def _file_response(name: str, *, filename: str, mime: str, inline: bool = False) -> FileResponse:
    """A stored file as a download: never rendered or sniffed as a page of this origin."""
    if not name or not default_storage.exists(name):
        raise Http404("The file is missing from storage")
    response = FileResponse(
        default_storage.open(name, "rb"),
        as_attachment=not inline,
        filename=filename,
        content_type=mime if inline else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


def download_url(request: HttpRequest, *, kind: str, obj, part: str = "file") -> str:
    """Where the page links a download: this app, or a signed link on the evidence origin."""
    case_id = obj.investigation.public_id
    local = {
        ("document", "file"): reverse(
            "evidence:document-download", kwargs={"case_id": case_id, "document_id": obj.public_id}
        ),
        ("snapshot", "warc"): reverse(
            "evidence:snapshot-warc", kwargs={"case_id": case_id, "snapshot_id": obj.public_id}
        ),
        ("snapshot", "screenshot"): reverse(
            "evidence:snapshot-screenshot",
            kwargs={"case_id": case_id, "snapshot_id": obj.public_id},
        ),
    }[(kind, part)]
    if not settings.EVIDENCE_DOWNLOAD_ORIGIN:
        return local
    token = signing.dumps(
        {"u": request.user.pk, "k": kind, "p": part, "o": str(obj.public_id)},
        salt=SIGNING_SALT,
        compress=True,
    )
    return f"{settings.EVIDENCE_DOWNLOAD_ORIGIN}{reverse('evidence-signed', args=[token])}"


@login_not_required
@require_GET
def signed_download(request: HttpRequest, token: str) -> FileResponse:
    """Downloads on the separate evidence origin: no session there, so a signed, expiring link
    names the user, and membership is checked again now (a removed member's links die)."""
    try:
        data = signing.loads(token, salt=SIGNING_SALT, max_age=settings.EVIDENCE_LINK_MAX_AGE)
    except signing.BadSignature as exc:
        raise Http404("This download link is invalid or has expired") from exc
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    model = {"document": Document, "snapshot": Snapshot}.get(data.get("k"))
    if user is None or model is None:
        raise Http404
    obj = model.objects.select_related("investigation").filter(public_id=data.get("o")).first()
    if obj is None or not access.can(user, Action.VIEW, obj.investigation):
        raise Http404
    return _serve(obj, data.get("k"), data.get("p"))


def _serve(obj, kind: str, part: str) -> FileResponse:
    if kind == "document" and part == "file":
        return _file_response(obj.file, filename=obj.original_name, mime=obj.mime)
    if kind == "snapshot" and part == "warc":
        return _file_response(
            obj.warc_file, filename=f"snapshot-{obj.public_id}.warc.gz", mime="application/warc"
        )
    if kind == "snapshot" and part == "screenshot":
        # Our own PNG from Chromium: safe to show inline as an image.
        return _file_response(
            obj.screenshot_file,
            filename=f"snapshot-{obj.public_id}.png",
            mime="image/png",
            inline=True,
        )
    raise Http404


# --- Documents ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def document_list(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = DocumentUploadForm()
    status = 200
    if request.method == "POST":
        access.check(request.user, Action.WRITE, case)
        form = DocumentUploadForm(request.POST, request.FILES)  # parses (and limits) the upload
        too_large = getattr(request, "upload_too_large", None)
        if too_large:
            limit = settings.DOCUMENT_MAX_BYTES // (1024 * 1024)
            form.add_error(
                "file", f"“{too_large}” is larger than the {limit} MB limit: nothing was stored."
            )
            status = 413
        elif form.is_valid():
            try:
                result = services.document_upload(
                    investigation=case,
                    uploaded=form.cleaned_data["file"],
                    title=form.cleaned_data["title"],
                    document_date=form.cleaned_data["document_date"],
                    actor=request.user,
                )
            except DomainError as exc:
                _form_error(form, exc)
            else:
                doc = result.document
                if result.created and doc.waiting_for_queue:
                    messages.warning(
                        request,
                        f"“{doc.title}” uploaded ({doc.type_label}). Its text extraction is "
                        "waiting for the queue, which cannot be reached right now.",
                    )
                elif result.created:
                    messages.success(
                        request,
                        f"“{doc.title}” uploaded ({doc.type_label}). Its text is being extracted.",
                    )
                else:
                    messages.info(
                        request,
                        f"This file is already in the case file as "
                        f"“{doc.title}”: not stored twice.",
                    )
                return redirect(
                    "evidence:document", case_id=case.public_id, document_id=doc.public_id
                )
    page = Paginator(selectors.documents(case=case), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/documents.html",
        {
            "case": case,
            "form": form,
            "page": page,
            "tab": "evidence",
            "max_mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


def _document(request, case, document_id, action=Action.VIEW) -> Document:
    return access.get_case_object_for(
        request.user,
        Document.objects.select_related("uploaded_by", "investigation"),
        case=case,
        public_id=document_id,
        action=action,
    )


IMAGE_MIMES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@require_GET
def document_page_image(request: HttpRequest, case_id, document_id, number: int) -> HttpResponse:
    """A cited page as an image beside its claim: a PDF page rendered, an image file as is."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    document = _document(request, case, document_id)
    if document.mime in IMAGE_MIMES and number == 1:
        return _file_response(
            document.file, filename=document.original_name, mime=document.mime, inline=True
        )
    if document.kind != "pdf" or not default_storage.exists(document.file):
        raise Http404("No image of this page")
    with default_storage.open(document.file, "rb") as source, tempfile.NamedTemporaryFile() as tmp:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            tmp.write(chunk)
        tmp.flush()
        try:
            image = page_images.pdf_page_png(tmp.name, number)
        except page_images.NoImage as exc:
            raise Http404(str(exc)) from exc
    response = HttpResponse(image, content_type="image/png")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
def document_detail(request: HttpRequest, case_id, document_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    document = _document(request, case, document_id)
    if request.htmx and request.htmx.target == "extract-status":
        return render(
            request, "evidence/document.html#extract-status", {"case": case, "document": document}
        )
    pages = document.pages.filter(part=1).order_by("number").only("number", "text")[:3]
    return render(
        request,
        "evidence/document.html",
        {
            "case": case,
            "document": document,
            "pages": pages,
            "tab": "evidence",
            "citations": selectors.citations_of(document=document).select_related(
                "entity", "link__source", "link__target", "shipment"
            ),
            "download": download_url(request, kind="document", obj=document),
        },
    )


@require_GET
def document_download(request: HttpRequest, case_id, document_id) -> FileResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _serve(_document(request, case, document_id), "document", "file")


@require_POST
def document_delete(request: HttpRequest, case_id, document_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.MANAGE)
    document = _document(request, case, document_id, Action.MANAGE)
    services.document_delete(document=document)
    messages.success(request, f"“{document.title}” deleted; its hash stays in the activity log.")
    return redirect("evidence:documents", case_id=case.public_id)


# --- Snapshots and watches ------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def snapshot_list(request: HttpRequest, case_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    form = SnapshotForm(request.POST if request.POST.get("form") == "snapshot" else None)
    watch_form = WatchForm(request.POST if request.POST.get("form") == "watch" else None)
    if request.method == "POST":
        access.check(request.user, Action.WRITE, case)
        if form.is_bound and form.is_valid():
            entity = None
            if form.cleaned_data["entity"]:
                entity = Entity.objects.filter(
                    investigation=case, public_id=form.cleaned_data["entity"]
                ).first()
            try:
                snapshot = services.snapshot_request(
                    investigation=case,
                    url=form.cleaned_data["url"],
                    entity=entity,
                    actor=request.user,
                )
            except DomainError as exc:  # refused by the guard: a form error, no row
                _form_error(form, exc)
            else:
                # No "queued" message: the snapshot page says where the capture stands, and
                # a message could outlive a capture that has failed by the time it shows.
                if snapshot.waiting_for_queue:
                    messages.warning(
                        request,
                        "Capture recorded, waiting for the queue: the task queue cannot be "
                        "reached right now. It starts by itself when the queue is back.",
                    )
                return redirect(
                    "evidence:snapshot", case_id=case.public_id, snapshot_id=snapshot.public_id
                )
        if watch_form.is_bound and watch_form.is_valid():
            try:
                watch = services.watch_create(
                    investigation=case, actor=request.user, **watch_form.cleaned_data
                )
            except DomainError as exc:
                _form_error(watch_form, exc)
            else:
                how_often = watch.get_frequency_display().lower()
                messages.success(
                    request,
                    f"Watching {watch.url} ({how_often}); a snapshot is kept when it changes.",
                )
                return redirect("evidence:snapshots", case_id=case.public_id)
    page = Paginator(selectors.snapshots(case=case), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "evidence/snapshots.html",
        {
            "case": case,
            "form": form,
            "watch_form": watch_form,
            "page": page,
            "watches": selectors.watches(case=case),
            "tab": "evidence",
        },
    )


def _snapshot(request, case, snapshot_id, action=Action.VIEW) -> Snapshot:
    return access.get_case_object_for(
        request.user,
        Snapshot.objects.select_related("requested_by", "entity", "watch", "investigation"),
        case=case,
        public_id=snapshot_id,
        action=action,
    )


@require_GET
def snapshot_detail(request: HttpRequest, case_id, snapshot_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    snapshot = _snapshot(request, case, snapshot_id)
    context = {"case": case, "snapshot": snapshot, "tab": "evidence"}
    if request.htmx and request.htmx.target == "snapshot-status":
        if snapshot.status in ("pending", "running"):
            return render(request, "evidence/snapshot.html#snapshot-status", context)
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"  # done or failed: show the whole capture
        return response
    context.update(
        {
            "versions": selectors.snapshot_versions(snapshot=snapshot),
            "citations": selectors.citations_of(snapshot=snapshot).select_related(
                "entity", "link__source", "link__target", "shipment"
            ),
            "warc_url": download_url(request, kind="snapshot", obj=snapshot, part="warc"),
            "screenshot_url": download_url(
                request, kind="snapshot", obj=snapshot, part="screenshot"
            ),
        }
    )
    return render(request, "evidence/snapshot.html", context)


@require_POST
def snapshot_retry(request: HttpRequest, case_id, snapshot_id) -> HttpResponse:
    """Try a failed capture again (the same snapshot row, fresh attempts)."""
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    snapshot = _snapshot(request, case, snapshot_id, Action.WRITE)
    try:
        services.snapshot_retry(snapshot=snapshot)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("evidence:snapshot", case_id=case.public_id, snapshot_id=snapshot.public_id)


@require_GET
def snapshot_warc(request: HttpRequest, case_id, snapshot_id) -> FileResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _serve(_snapshot(request, case, snapshot_id), "snapshot", "warc")


@require_GET
def snapshot_screenshot(request: HttpRequest, case_id, snapshot_id) -> FileResponse:
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    return _serve(_snapshot(request, case, snapshot_id), "snapshot", "screenshot")


@require_GET
def snapshot_diff(request: HttpRequest, case_id, snapshot_id) -> HttpResponse:
    """Text diff between this capture and another capture of the same URL (?against=)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    snapshot = _snapshot(request, case, snapshot_id)
    try:
        against = access.parse_public_id(request.GET.get("against", ""))
    except Http404:
        against = None
    other = (
        against
        and selectors.snapshot_versions(snapshot=snapshot)
        .filter(public_id=against)
        .defer(None)
        .first()
    )
    if other is None:
        messages.error(request, "Choose another capture of the same page to compare with.")
        return redirect("evidence:snapshot", case_id=case.public_id, snapshot_id=snapshot.public_id)
    older, newer = sorted([snapshot, other], key=lambda s: s.captured_at)
    lines = list(
        difflib.unified_diff(
            older.text.splitlines(),
            newer.text.splitlines(),
            lineterm="",
            n=2,
            fromfile=f"{older.captured_at:%Y-%m-%d %H:%M}",
            tofile=f"{newer.captured_at:%Y-%m-%d %H:%M}",
        )
    )
    rows = [
        (
            "add"
            if ln.startswith("+")
            else "del"
            if ln.startswith("-")
            else "hunk"
            if ln.startswith("@@")
            else "ctx",
            ln,
        )
        for ln in lines[2:]
    ]
    return render(
        request,
        "evidence/diff.html",
        {
            "case": case,
            "snapshot": snapshot,
            "older": older,
            "newer": newer,
            "rows": rows,
            "tab": "evidence",
        },
    )


@require_POST
def snapshot_delete(request: HttpRequest, case_id, snapshot_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.MANAGE)
    snapshot = _snapshot(request, case, snapshot_id, Action.MANAGE)
    services.snapshot_delete(snapshot=snapshot)
    messages.success(request, "Snapshot deleted; its hashes stay in the activity log.")
    return redirect("evidence:snapshots", case_id=case.public_id)


@require_GET
def snapshots_wacz(request: HttpRequest, case_id) -> FileResponse:
    """The case's finished snapshots as one WACZ file (ReplayWeb.page opens it)."""
    from .wacz import WaczEntry, write_wacz

    case = access.get_case_for(request.user, case_id, Action.VIEW)
    done = Snapshot.objects.filter(investigation=case, status="done").exclude(warc_file="")
    entries = [
        WaczEntry(
            warc_name=f"{s.public_id}.warc.gz",
            open_warc=(lambda name=s.warc_file: default_storage.open(name, "rb")),
            url=s.final_url or s.url,
            ts=s.captured_at,
            title=s.title,
        )
        for s in done.only("public_id", "warc_file", "final_url", "url", "captured_at", "title")
    ]
    if not entries:
        messages.error(request, "No finished snapshots to export yet.")
        return redirect("evidence:snapshots", case_id=case.public_id)
    # Closed by FileResponse once sent (or below on failure), so no context manager here.
    out = tempfile.TemporaryFile(prefix="casefile-wacz-")  # noqa: SIM115
    try:
        write_wacz(
            entries,
            out,
            title=case.title,
            created=timezone.now(),
            description=f"Web evidence of the case file {case.title}",
        )
    except (ArchiveLoadFailed, OSError, ValueError) as exc:
        out.close()
        messages.error(
            request,
            f"A stored WARC could not be read ({exc}); nothing exported. "
            "An administrator can run manage.py verify_evidence.",
        )
        return redirect("evidence:snapshots", case_id=case.public_id)
    out.seek(0)
    response = FileResponse(
        out, as_attachment=True, filename=f"{case.slug}.wacz", content_type="application/wacz"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
def watch_stop(request: HttpRequest, case_id, watch_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    watch = access.get_case_object_for(
        request.user, Watch, case=case, public_id=watch_id, action=Action.WRITE
    )
    services.watch_stop(watch=watch)
    messages.success(request, f"Stopped watching {watch.url}.")
    return redirect("evidence:snapshots", case_id=case.public_id)


# --- Citations ------------------------------------------------------------------------------

CLAIMS = {"entity": Entity, "link": Link, "shipment": Shipment, "event": TimelineEvent}


def _claim(case, claim_kind: str, claim_id) -> Entity | Link | Shipment | TimelineEvent:
    """A claim of this case: its own entity/link/shipment, or a dataset entity pinned here."""
    model = CLAIMS.get(claim_kind)
    if model is None:
        raise Http404
    qs = model.objects.filter(public_id=claim_id)
    if model is Entity:
        qs = qs.filter(Q(investigation=case) | Q(pins__investigation=case))
    else:
        qs = qs.filter(investigation=case)
    claim = qs.first()
    if claim is None:
        raise Http404
    return claim


@require_GET
def citation_panel(request: HttpRequest, case_id, claim_kind: str, claim_id) -> HttpResponse:
    """The citations of an entity and of its links, with the form to cite evidence (htmx)."""
    case = access.get_case_for(request.user, case_id, Action.VIEW)
    claim = _claim(case, claim_kind, claim_id)
    if isinstance(claim, Entity):
        links = list(
            Link.objects.filter(Q(source=claim) | Q(target=claim), investigation=case)
            .select_related("source", "target")
            .order_by("kind", "id")
        )
        citations = (
            selectors.citations_of(investigation=case)
            .filter(Q(entity=claim) | Q(link__in=links))
            .select_related("link__source", "link__target")
        )
    else:
        citations = selectors.citations_of(
            investigation=case, **{claim_kind: claim}
        ).select_related(claim_kind)
    return render(
        request,
        "evidence/_citation_panel.html",
        {
            "case": case,
            "claim": claim,
            "claim_kind": claim_kind,
            "citations": citations,
            "evidence_choices": selectors.citable_evidence(case=case),
            "back": request.GET.get("back", ""),
        },
    )


@require_POST
def citation_create(request: HttpRequest, case_id, claim_kind: str, claim_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    claim = _claim(case, claim_kind, claim_id)
    back = request.POST.get("back", "")
    if not back.startswith(f"/cases/{case.public_id}/"):
        back = reverse("investigations:detail", kwargs={"case_id": case.public_id})
    form = CitationForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(back)
    kind, evidence_id = form.cleaned_data["evidence"]
    evidence_model = Document if kind == "document" else Snapshot
    evidence = evidence_model.objects.filter(
        investigation=case, public_id=access.parse_public_id(evidence_id)
    ).first()
    if evidence is None:
        messages.error(request, "That evidence is not in this case file.")
        return redirect(back)
    try:
        services.citation_create(
            investigation=case,
            claim=claim,
            actor=request.user,
            page=form.cleaned_data["page"],
            quote=form.cleaned_data["quote"],
            note=form.cleaned_data["note"],
            **{kind: evidence},
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Citation added.")
    return redirect(back)


@require_POST
def citation_delete(request: HttpRequest, case_id, citation_id) -> HttpResponse:
    case = access.get_case_for(request.user, case_id, Action.WRITE)
    citation = access.get_case_object_for(
        request.user, Citation, case=case, public_id=citation_id, action=Action.WRITE
    )
    services.citation_delete(citation=citation)
    messages.success(request, "Citation removed.")
    back = request.POST.get("back", "")
    if back.startswith(f"/cases/{case.public_id}/"):
        return redirect(back)
    return redirect("investigations:detail", case_id=case.public_id)
