"""Staff pages for bulk imports: upload, map columns, follow progress, read rejected rows."""

import csv
from pathlib import Path

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from investigations import access
from investigations.errors import DomainError
from investigations.jobs import JobStatus

from .importing import service
from .importing.types import COMPANY_FIELDS, REQUIRED, SHIPMENT_FIELDS
from .models import Dataset, ImportJob, SavedMapping

FIELDS = {"shipments": SHIPMENT_FIELDS, "companies": COMPANY_FIELDS}
WAITING_FOR_THE_QUEUE = (
    "Import recorded, waiting for the queue: the task queue cannot be reached right now. "
    "It starts by itself when the queue is back."
)
DATE_FORMATS = [
    ("auto", "Detect (ISO, DD.MM.YYYY, DD/MM/YYYY)"),
    ("iso", "YYYY-MM-DD"),
    ("dmy", "DD.MM.YYYY or DD/MM/YYYY"),
    ("mdy", "MM/DD/YYYY"),
]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=SavedMapping.Kind.choices, label="What the file holds")
    dataset = forms.CharField(
        max_length=200,
        label="Dataset",
        help_text="An existing dataset's name, or a new one.",
        widget=forms.TextInput(attrs={"list": "dataset-names"}),
    )
    file = forms.FileField(
        help_text="CSV (UTF-8 or Windows-1251; comma, semicolon or tab) or XLSX."
    )
    mapping = forms.ModelChoiceField(
        queryset=SavedMapping.objects.all(),
        required=False,
        empty_label="Recognise the columns",
        label="Saved mapping",
        to_field_name="name",
    )


def _staff(request: HttpRequest) -> None:
    access.require_staff(request.user)


@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    _staff(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        too_large = getattr(request, "upload_too_large", None)
        if too_large:
            form.add_error("file", f"“{too_large}” is larger than the upload limit.")
        elif form.is_valid():
            uploaded = form.cleaned_data["file"]
            saved = form.cleaned_data["mapping"]
            try:
                dataset = service.dataset_for(form.cleaned_data["dataset"], actor=request.user)
                job = service.import_stage(
                    kind=form.cleaned_data["kind"],
                    dataset=dataset,
                    path=Path(uploaded.temporary_file_path()),
                    original_name=uploaded.name,
                    actor=request.user,
                    mapping=service.mapping_from_spec(saved.spec) if saved else None,
                    mapping_name=saved.name if saved else "",
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                return redirect("imports:detail", import_id=job.public_id)
    jobs_page = Paginator(ImportJob.objects.select_related("dataset", "created_by"), 25)
    return render(
        request,
        "entities/imports.html",
        {
            "form": form,
            "page": jobs_page.get_page(request.GET.get("page")),
            "datasets": Dataset.objects.order_by("name").values_list("name", flat=True),
        },
    )


def _job(import_id) -> ImportJob:
    return get_object_or_404(
        ImportJob.objects.select_related("dataset", "created_by"),
        public_id=access.parse_public_id(import_id),
    )


def _mapping_context(job: ImportJob) -> dict:
    from .importing.parse import Parser
    from .importing.readers import open_table, preview

    with service._local(job.file) as path:
        table = open_table(path, filename=job.original_name)
        rows = preview(table, n=10)
        headers = table.headers
        mapping = service.mapping_from_spec(job.mapping)
        parser = Parser(job.kind, mapping, headers)
        checked = []
        for line, values in rows:
            result = parser.parse(line, values)
            checked.append((line, values, result if isinstance(result, list) else []))
    fields = [(f, f in REQUIRED[job.kind], mapping.columns.get(f, "")) for f in FIELDS[job.kind]]
    return {
        "headers": headers,
        "preview": checked,
        "fields": fields,
        "table": table,
        "date_formats": DATE_FORMATS,
        "date_format": mapping.date_format,
    }


@require_http_methods(["GET", "POST"])
def import_detail(request: HttpRequest, import_id) -> HttpResponse:
    _staff(request)
    job = _job(import_id)
    if request.method == "POST" and job.status == JobStatus.DRAFT:
        columns = {f: request.POST.get(f"map_{f}", "") for f in FIELDS[job.kind]}
        spec = {
            "columns": {f: h for f, h in columns.items() if h},
            "date_format": request.POST.get("date_format", "auto"),
            "decimal_comma": None,
            "defaults": {},
        }
        job.mapping = spec
        if request.POST.get("action") == "preview":
            ImportJob.objects.filter(pk=job.pk).update(mapping=spec)
        else:
            try:
                service.import_confirm(
                    job=job, spec=spec, save_as=request.POST.get("save_as", ""), actor=request.user
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                if job.waiting_for_queue:
                    messages.warning(request, WAITING_FOR_THE_QUEUE)
                else:
                    messages.success(request, "Import queued.")
                return redirect("imports:detail", import_id=job.public_id)
    context = {"job": job, "progress": service.progress(job)}
    if job.status == JobStatus.DRAFT:
        context.update(_mapping_context(job))
    if request.htmx and request.htmx.target == "import-progress":
        if job.status in (JobStatus.PENDING, JobStatus.RUNNING):
            return render(request, "entities/import.html#import-progress", context)
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    if job.is_finished:
        context["rejected"] = Paginator(job.rejected.all(), 100).get_page(request.GET.get("page"))
    return render(request, "entities/import.html", context)


@require_GET
def import_rejected_csv(request: HttpRequest, import_id) -> StreamingHttpResponse:
    _staff(request)
    job = _job(import_id)

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff" + writer.writerow(["line", "column", "value", "reason"])
        for row in job.rejected.order_by("line", "id").iterator(chunk_size=5000):
            yield writer.writerow([row.line, row.column, row.value, row.reason])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    name = Path(job.original_name).stem
    response["Content-Disposition"] = f'attachment; filename="{name}-rejected.csv"'
    return response


@require_POST
def import_discard(request: HttpRequest, import_id) -> HttpResponse:
    _staff(request)
    job = _job(import_id)
    if job.status != JobStatus.DRAFT:
        messages.error(request, "Only an import that has not started can be discarded.")
        return redirect("imports:detail", import_id=job.public_id)
    job.delete()
    messages.success(request, "Import discarded.")
    return redirect("imports:list")
