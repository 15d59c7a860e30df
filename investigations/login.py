"""Log-in throttling: failed log-ins are counted per account and per client address.

After LOGIN_FAILURES_PER_ACCOUNT failures for one username (any case) or
LOGIN_FAILURES_PER_ADDRESS from one address within LOGIN_FAILURE_WINDOW_SECONDS, every log-in
for that account or from that address is refused for LOGIN_LOCKOUT_SECONDS, even with the right
password. The refusal reads the same whether or not the account exists: nothing is looked up.

Enforced by an authentication backend listed first, so every path that checks a password (the
log-in page, the admin's) is covered; the forms only turn the refusal into a clear message.
Counters live in Redis (investigations/throttle.py), shared by every web process.
"""

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest

from . import services, throttle


def _limit(name: str, attempts: int) -> throttle.Limit:
    return throttle.Limit(
        name, attempts, settings.LOGIN_FAILURE_WINDOW_SECONDS, settings.LOGIN_LOCKOUT_SECONDS
    )


def _account_limit() -> throttle.Limit:
    return _limit("login-account", settings.LOGIN_FAILURES_PER_ACCOUNT)


def _address_limit() -> throttle.Limit:
    return _limit("login-address", settings.LOGIN_FAILURES_PER_ADDRESS)


def client_address(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or the header a trusted proxy sets (see README)."""
    if request is None:
        return ""
    header = settings.LOGIN_ADDRESS_HEADER
    if header:
        meta_key = "HTTP_" + header.upper().replace("-", "_")
        # The last value is the one our own proxy appended; earlier ones the client may forge.
        forwarded = request.META.get(meta_key, "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR", "")


def _account(username: str) -> str:
    return username.strip().casefold()


def throttled(request: HttpRequest | None, username: str) -> bool:
    """True while log-ins for this username or from this request's address are refused."""
    address = client_address(request)
    return throttle.reached(_account_limit(), _account(username)) or bool(
        address and throttle.reached(_address_limit(), address)
    )


def record_failure(request: HttpRequest | None, username: str) -> None:
    if throttled(request, username):
        return  # a refused attempt is not counted: the lockout runs from the last real failure
    throttle.hit(_account_limit(), _account(username))
    address = client_address(request)
    if address:
        throttle.hit(_address_limit(), address)


def record_success(username: str) -> None:
    throttle.clear(_account_limit(), _account(username))


def message() -> str:
    return (
        "Too many failed log-ins for this account or from this address. "
        f"Try again in {throttle.minutes(settings.LOGIN_LOCKOUT_SECONDS)}."
    )


class LoginThrottleBackend:
    """First in AUTHENTICATION_BACKENDS: stops every password check while throttled.

    Raising PermissionDenied makes django.contrib.auth.authenticate() try no other backend.
    It has no get_user: sessions belong to the backend that checked the password.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, **kwargs: Any
    ) -> None:
        if username is not None and throttled(request, username):
            raise PermissionDenied(message())
        return None


def on_login_failed(
    sender: Any, credentials: dict, request: HttpRequest | None = None, **_
) -> None:
    """user_login_failed: count the failure (the password itself is never seen here)."""
    username = credentials.get("username")
    if isinstance(username, str):
        record_failure(request, username)


def on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **_) -> None:
    """user_logged_in: clear the account's failures (not the address's); accept invitations."""
    record_success(user.get_username())
    services.invitations_accept(user=user)


class ThrottleMessageMixin:
    """Say why a throttled log-in is refused, instead of "wrong password"."""

    request: HttpRequest | None
    cleaned_data: dict

    def clean(self) -> dict:
        username = self.cleaned_data.get("username")
        if username and throttled(self.request, username):
            raise ValidationError(message(), code="throttled")
        return super().clean()  # type: ignore[misc]


class LoginForm(ThrottleMessageMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottleMessageMixin, AdminAuthenticationForm):
    pass
