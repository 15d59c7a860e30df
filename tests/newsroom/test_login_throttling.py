"""Hardening 10: log-ins are throttled per account and per client address, through the real URL.

Counters live in Redis (the test run's own key prefix, tests/settings.py); every test uses its
own usernames and addresses so tests never share a counter.
"""

import re
import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
THROTTLED = (
    "Too many failed log-ins for this account or from this address. Try again in 15 minutes."
)


def _address() -> str:
    """An address of the documentation range no other test uses."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _login(client: Client, username: str, password: str, address: str):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


def _errors(response) -> list[str]:
    return re.findall(r'<div class="form-errors" role="alert">\s*<p>(.*?)</p>', response.text)


def _logged_in(client: Client) -> bool:
    return client.get(reverse("investigations:list")).status_code == 200


@pytest.mark.django_db
def test_hardening_10_thirty_wrong_passwords_then_the_right_one_is_refused():
    user = UserFactory(username=_name("erin"))
    client, address = Client(), _address()
    for _ in range(30):
        assert _login(client, user.username, "wrong password", address).status_code == 200
    response = _login(client, user.username, PASSWORD, address)
    assert response.status_code == 200
    assert _errors(response) == [THROTTLED]
    assert not _logged_in(client)
    # The account stays locked from any other address too, with the right password.
    other = Client()
    assert _errors(_login(other, user.username.upper(), PASSWORD, _address())) == [THROTTLED]
    assert not _logged_in(other)


@pytest.mark.django_db
def test_hardening_10_an_unknown_account_reads_exactly_like_a_real_one():
    user = UserFactory(username=_name("erin"))
    unknown = _name("nobody")
    real_client, unknown_client = Client(), Client()
    real_address, unknown_address = _address(), _address()
    seen_real, seen_unknown = [], []
    for _ in range(7):
        seen_real.append(_errors(_login(real_client, user.username, "wrong", real_address)))
        seen_unknown.append(_errors(_login(unknown_client, unknown, "wrong", unknown_address)))
    assert seen_real == seen_unknown
    assert seen_real[0] != [THROTTLED] and seen_real[-1] == [THROTTLED]


@pytest.mark.django_db
def test_hardening_10_a_success_resets_the_account_counter():
    user = UserFactory(username=_name("erin"))
    address = _address()
    for _ in range(2):
        client = Client()
        for _ in range(4):
            _login(client, user.username, "wrong", address)
        assert _login(client, user.username, PASSWORD, address).status_code == 302
        assert _logged_in(client)


@pytest.mark.django_db
def test_hardening_10_counters_expire(settings):
    settings.LOGIN_FAILURE_WINDOW_SECONDS = 1
    settings.LOGIN_LOCKOUT_SECONDS = 1
    user = UserFactory(username=_name("erin"))
    client, address = Client(), _address()
    for _ in range(5):
        _login(client, user.username, "wrong", address)
    assert "Too many failed log-ins" in _errors(_login(client, user.username, PASSWORD, address))[0]
    time.sleep(1.5)
    assert _login(client, user.username, PASSWORD, address).status_code == 302


@pytest.mark.django_db
def test_hardening_10_one_address_is_throttled_across_accounts():
    address, names = _address(), [_name("guess") for _ in range(5)]
    client = Client()
    for n in range(20):  # four wrong passwords each for five names: no account reaches 5
        _login(client, names[n % 5], "wrong", address)
    victim = UserFactory(username=_name("frank"))
    assert _errors(_login(client, victim.username, PASSWORD, address)) == [THROTTLED]
    assert not _logged_in(client)
    elsewhere = Client()
    assert _login(elsewhere, victim.username, PASSWORD, _address()).status_code == 302


@pytest.mark.django_db
def test_hardening_10_the_admin_login_is_throttled_too():
    staff = UserFactory(username=_name("staff"), is_staff=True, is_superuser=True)
    client, address = Client(), _address()
    for _ in range(5):
        _login(client, staff.username, "wrong", address)
    response = client.post(
        reverse("admin:login"),
        {"username": staff.username, "password": PASSWORD},
        REMOTE_ADDR=address,
    )
    assert response.status_code == 200
    assert THROTTLED in response.text
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.django_db
def test_hardening_10_log_ins_work_while_redis_is_down(settings, caplog):
    user = UserFactory(username=_name("erin"))
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    client, address = Client(), _address()
    assert _errors(_login(client, user.username, "wrong", address))  # a plain wrong password
    assert _login(client, user.username, PASSWORD, address).status_code == 302
    assert "cache unreachable" in caplog.text
