"""Domain errors raised by services and mapped to a response in one place each.

HTML: investigations.middleware.DomainErrorMiddleware. API: newsroom.api.exception_handler.
"""


class DomainError(Exception):
    """A request that is well-formed but breaks a rule of the domain; the message is shown."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(DomainError):
    status_code = 409


class NotAllowed(DomainError):
    """A member whose role does not allow this (a reporter verifying a claim)."""

    status_code = 403
