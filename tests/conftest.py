"""Shared fixtures: alice (owner), bob (member), charlie (outsider), and a real Celery worker."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import UserFactory, make_case

ROOT = Path(__file__).resolve().parent.parent
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In a worker's child: be stopped when pytest dies, even by SIGKILL, so no test worker
    outlives its run and keeps reading a queue (or the shared Redis) nobody else reads."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


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

    def stop(self) -> None:
        # A cold shutdown (SIGQUIT): the test is over, nothing of its tasks is left to finish,
        # and a warm one (SIGTERM) spends ~6 s per worker saying goodbye to the broker.
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _start_worker(
    tmp_path: Path, *, concurrency: int = 1, env: dict[str, str] | None = None, name: str = ""
) -> Worker:
    """Start a worker; `env` overrides its environment (another queue, DB_CONN_MAX_AGE, a
    DATABASE_URL it cannot reach)."""
    from django.conf import settings

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        # The test run's own Redis database and queue (tests/settings.py), never the app's.
        "REDIS_URL": settings.REDIS_URL,
        "CELERY_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "DB_CONN_MAX_AGE": "0",
        # The loopback test servers, and nothing else private (127.0.0.2 stays refused).
        "FETCH_ALLOW_NETWORKS": "127.0.0.1/32,::1/128",
        **(env or {}),
    }
    name = name or f"worker-{time.monotonic_ns()}"
    log = tmp_path / f"{name}.log"
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
        preexec_fn=_die_with_parent,
    )
    worker = Worker(process, log)
    try:
        worker.wait_for(lambda: "ready." in worker.output(), timeout=60)
    except AssertionError:
        worker.stop()
        raise
    return worker


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start workers with `start_worker(env={...})`; all of them stop after the test."""
    started: list[Worker] = []

    def start(**kwargs) -> Worker:
        worker = _start_worker(tmp_path, **kwargs)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def celery_worker(start_worker):
    """Start a worker for this test; data the test commits is visible to it."""
    return start_worker(name="worker")


DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: Redis is down


@contextmanager
def broker_at(url: str):
    """Point this process's Celery connections at `url` for a while (workers keep theirs)."""
    from newsroom.celery import app

    original = app.conf.broker_url

    def repoint(to: str) -> None:
        from kombu import pools

        pools.reset()  # close and forget kombu's connection and producer pools
        app.conf.broker_url = to
        app._after_fork()  # and Celery's references to them (what it does in a new process)

    repoint(url)
    try:
        yield
    finally:
        repoint(original)


@pytest.fixture
def broker_down():
    """Redis is down for this test's web requests and services."""
    with broker_at(DEAD_BROKER):
        yield


@pytest.fixture
def hung_broker():
    """A "Redis" that accepts connections and never answers (a hung server or a black hole)."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    with broker_at(f"redis://127.0.0.1:{server.getsockname()[1]}/0"):
        yield
    server.close()
    for conn in held:
        conn.close()


# Loopback HTTP server and a local time-stamping authority, for evidence and browser tests.
from tests.evidence.httpserver import no_network, web  # noqa: E402, F401
from tests.evidence.test_tsa import local_tsa  # noqa: E402, F401
