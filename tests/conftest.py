"""Shared fixtures: alice (owner), bob (member), charlie (outsider), and a real Celery worker."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import UserFactory, make_case

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", first_name="Alice")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", first_name="Bob")


@pytest.fixture
def charlie(db):
    return UserFactory(username="charlie", first_name="Charlie")


@pytest.fixture
def case(alice, bob):
    """Alice owns it, Bob reports in it, Charlie is not in it."""
    return make_case(owner=alice, members={bob: "reporter"})


def _client_for(client_class, user):
    client = client_class()
    client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    from django.test import Client

    return _client_for(Client, alice)


@pytest.fixture
def bob_client(bob):
    from django.test import Client

    return _client_for(Client, bob)


@pytest.fixture
def charlie_client(charlie):
    from django.test import Client

    return _client_for(Client, charlie)


class Worker:
    """A real `celery worker` process on this test run's private queue and test database."""

    def __init__(self, process: subprocess.Popen, log: Path) -> None:
        self.process = process
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, predicate, *, timeout: float = 30, interval: float = 0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            if self.process.poll() is not None:
                break
            time.sleep(interval)
        raise AssertionError(
            f"condition not met within {timeout}s; worker log:\n{self.output()[-4000:]}"
        )


def _start_worker(tmp_path: Path, *, concurrency: int = 1) -> Worker:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "DB_CONN_MAX_AGE": "0",
        # The loopback test servers, and nothing else private (127.0.0.2 stays refused).
        "FETCH_ALLOW_NETWORKS": "127.0.0.1/32,::1/128",
    }
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "newsroom",
            "worker",
            "--loglevel",
            "INFO",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = Worker(process, log)
    worker.wait_for(lambda: "ready." in worker.output(), timeout=60)
    return worker


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """Start a worker for this test; data the test commits is visible to it."""
    worker = _start_worker(tmp_path)
    yield worker
    worker.process.terminate()
    try:
        worker.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.process.kill()


# Loopback HTTP server and a local time-stamping authority, for evidence and browser tests.
from tests.evidence.httpserver import no_network, web  # noqa: E402, F401
from tests.evidence.test_tsa import local_tsa  # noqa: E402, F401
