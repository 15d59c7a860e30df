from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from investigations.errors import DomainError


class DomainErrorMiddleware:
    """The one HTML path for a domain error no view handled: its message, never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DomainError):
            return render(
                request,
                "error.html",
                {"message": exception.message},
                status=exception.status_code,
            )
        return None


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared body is over the upload limit before reading it.

    The upload handler stops storing at DOCUMENT_MAX_BYTES, but Django would still drain the
    rest of the body (13-18 MB/s behind gunicorn: a 600 MB upload timed out a sync worker in
    bench/upload.py). A declared Content-Length over the limit is answered at once.
    """

    # Room for the multipart envelope and the other form fields.
    ALLOWANCE = 1024 * 1024

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        limit = settings.DOCUMENT_MAX_BYTES
        if declared > limit + self.ALLOWANCE:
            megabytes = limit // (1024 * 1024)
            response = render(
                request,
                "error.html",
                {
                    "message": f"The upload is larger than the {megabytes} MB limit: nothing was "
                    "stored. Split the file or ask an administrator to raise "
                    "DOCUMENT_MAX_BYTES.",
                },
                status=413,
            )
            response["Connection"] = "close"
            return response
        return self.get_response(request)
