from collections.abc import Callable

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
