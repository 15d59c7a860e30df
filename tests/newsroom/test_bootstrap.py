"""newsroom.bootstrap: one clear line when a service is unreachable; private instances otherwise."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bootstrap(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "newsroom.bootstrap"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_unreachable_remote_postgres_is_one_clear_line():
    result = _bootstrap({"DATABASE_URL": "postgres://postgres@192.0.2.1:5999/casefile"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "casefile: PostgreSQL is not reachable at 192.0.2.1:5999; start it or set DATABASE_URL "
        "(e.g. postgres://user@host:5432/casefile)."
    ]


def test_unreachable_remote_redis_is_one_clear_line():
    result = _bootstrap({"REDIS_URL": "redis://192.0.2.1:6999/0"})
    assert result.returncode == 1
    assert "Redis is not reachable at 192.0.2.1:6999; start it or set REDIS_URL" in result.stderr


def test_creates_the_database_if_missing():
    name = f"casefile_boot_{os.getpid()}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    try:
        result = _bootstrap({"DATABASE_URL": url})
        assert result.returncode == 0, result.stderr
        assert f"created database {name}" in result.stdout
        assert _bootstrap({"DATABASE_URL": url}).stdout == ""  # idempotent
    finally:
        with psycopg.connect(
            "postgres://postgres@127.0.0.1:5432/postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server not installed")
def test_starts_a_private_redis_when_none_is_running(tmp_path):
    port = _free_port()
    result = _bootstrap(
        {"REDIS_URL": f"redis://127.0.0.1:{port}/0", "CASEFILE_VAR_DIR": str(tmp_path)}
    )
    try:
        assert result.returncode == 0, result.stderr
        assert "starting a private Redis" in result.stdout
        assert redis.Redis(port=port).ping()
    finally:
        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(port=port).shutdown(nosave=True)


@pytest.mark.skipif(
    not list(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl")),
    reason="PostgreSQL server binaries not installed",
)
def test_starts_a_private_postgres_when_none_is_running():
    port = _free_port()
    # Outside pytest's tmp_path: PostgreSQL runs as its own user, who cannot enter root's 0700
    # temporary folders.
    var = Path(tempfile.mkdtemp(prefix="casefile-var-"))
    var.chmod(0o755)
    result = _bootstrap(
        {
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/casefile",
            "CASEFILE_VAR_DIR": str(var),
        }
    )
    try:
        assert result.returncode == 0, result.stderr
        assert "starting a private PostgreSQL" in result.stdout
        assert "created database casefile" in result.stdout
        with psycopg.connect(f"postgres://postgres@127.0.0.1:{port}/casefile") as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        cmd = [str(pg_ctl), "-D", str(var / "postgres"), "stop", "-m", "immediate"]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, capture_output=True, timeout=60)
        shutil.rmtree(var, ignore_errors=True)
