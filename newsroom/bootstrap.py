"""Before the app starts (make run / make test): are PostgreSQL and Redis there, and the database?

Run as `python -m newsroom.bootstrap`. It needs no Django settings. Where a service is not
reachable on a local address but its server binaries are installed, it starts a private
instance under var/. Anything it cannot fix ends in one line saying what to set, exit code 1.
"""

import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from glob import glob
from pathlib import Path
from urllib.parse import urlparse

import environ
import psycopg
import redis
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("CASEFILE_VAR_DIR", BASE_DIR / "var"))
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/casefile"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}


def fail(message: str) -> None:
    print(f"casefile: {message}", file=sys.stderr)
    sys.exit(1)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host or "127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _wait(host: str, port: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(host, port):
            return True
        time.sleep(0.2)
    return False


def _as_postgres_user(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_private_postgres(port: int) -> bool:
    bins = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    pg_ctl = bins[-1] if bins else shutil.which("pg_ctl")
    if not pg_ctl:
        return False
    bindir = Path(pg_ctl).parent
    data = VAR / "postgres"
    VAR.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        if subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(VAR)]).returncode:
            fail(
                f"PostgreSQL would run as user postgres, which cannot enter {VAR}; start "
                "PostgreSQL yourself or set CASEFILE_VAR_DIR to a folder it can reach."
            )
        data.mkdir(exist_ok=True)
        shutil.chown(data, "postgres", "postgres")
        os.chmod(data, 0o700)
    if not (data / "PG_VERSION").exists():
        subprocess.run(
            _as_postgres_user(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
    print(f"casefile: starting a private PostgreSQL in {data} on port {port}")
    subprocess.run(
        _as_postgres_user(
            [
                str(pg_ctl),
                "-D",
                str(data),
                "-l",
                str(data / "server.log"),
                "-o",
                f"-p {port} -c listen_addresses=127.0.0.1 -k {data}",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return _wait("127.0.0.1", port)


def start_private_redis(port: int) -> bool:
    server = shutil.which("redis-server")
    if not server:
        return False
    data = VAR / "redis"
    data.mkdir(parents=True, exist_ok=True)
    print(f"casefile: starting a private Redis in {data} on port {port}")
    subprocess.run(
        [
            server,
            "--daemonize",
            "yes",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(data),
            "--logfile",
            str(data / "redis.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return _wait("127.0.0.1", port)


def ensure_postgres(database_url: str) -> None:
    url = urlparse(database_url)
    host, port = url.hostname or "127.0.0.1", url.port or 5432
    if not _port_open(host, port) and not (host in LOCAL_HOSTS and start_private_postgres(port)):
        fail(
            f"PostgreSQL is not reachable at {host}:{port}; start it or set DATABASE_URL "
            "(e.g. postgres://user@host:5432/casefile)."
        )
    dbname = url.path.lstrip("/") or "casefile"
    admin_url = url._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [dbname]
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
                print(f"casefile: created database {dbname}")
    except psycopg.Error as exc:
        fail(f"PostgreSQL at {host}:{port} refused us ({str(exc).strip()}); check DATABASE_URL.")


def ensure_redis(redis_url: str) -> None:
    url = urlparse(redis_url)
    host, port = url.hostname or "127.0.0.1", url.port or 6379
    if not _port_open(host, port) and not (host in LOCAL_HOSTS and start_private_redis(port)):
        fail(
            f"Redis is not reachable at {host}:{port}; start it or set REDIS_URL "
            "(e.g. redis://host:6379/0)."
        )
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        fail(f"Redis at {host}:{port} did not answer a ping ({exc}); check REDIS_URL.")


def drop_test_database(database_url: str) -> None:
    """Drop test_<name> even if a stray session (a killed run's worker) still holds it.

    pytest-django recreates the test database at every run; a leftover connection would make
    that fail with "database is being accessed by other users".
    """
    url = urlparse(database_url)
    name = "test_" + (url.path.lstrip("/") or "casefile")
    with psycopg.connect(
        url._replace(path="/postgres").geturl(), autocommit=True, connect_timeout=5
    ) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def ensure_browser_user(name: str) -> None:
    """As root, create the system user Chromium runs as (evidence/browser.py), if missing.

    Without it the browser runs as nobody, which other daemons may share.
    """
    if os.geteuid() != 0:
        return  # the worker is unprivileged already; Chromium runs as its user
    try:
        pwd.getpwnam(name)
        return
    except KeyError:
        pass
    useradd = shutil.which("useradd")
    if useradd is None:
        print(f"casefile: no useradd to create {name}; the browser will run as nobody")
        return
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
    )
    print(f"casefile: created the system user {name}, which runs the browser")


def main() -> None:
    env = environ.Env()
    ensure_browser_user(env.str("BROWSER_USER", default="casefile-render"))
    ensure_postgres(env.str("DATABASE_URL", default=DEFAULT_DATABASE_URL))
    if "--fresh-test-db" in sys.argv:
        drop_test_database(env.str("DATABASE_URL", default=DEFAULT_DATABASE_URL))
    ensure_redis(
        env.str("CELERY_BROKER_URL", default=env.str("REDIS_URL", default=DEFAULT_REDIS_URL))
    )


if __name__ == "__main__":
    main()
