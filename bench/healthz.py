"""What anonymous /healthz requests cost the rest of the site.

    make bench-healthz                                  # or: .venv/bin/python bench/healthz.py
    .venv/bin/python bench/healthz.py --app-dir DIR     # the same against another checkout

Starts gunicorn as the Procfile does (2 workers x 4 threads) on 127.0.0.1:<free port> against
the casefile_bench database, with a private Celery queue no worker reads (so a /healthz that
waits for workers waits its full HEALTHZ_WORKER_TIMEOUT, as with any worker: a broadcast
waits for the timeout). Measures the login page alone (median of 20), then fires 24
concurrent anonymous /healthz requests and, at the same moment, loads the login page 5 times
in a row: reports each page's latency and the burst's wall time. Writes
bench/out/healthz-<date>.json.
"""

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CONCURRENT = 24
LOGIN_DURING = 5
QUEUE = f"casefile-bench-healthz-{os.getpid()}"
os.environ["CELERY_QUEUE"] = QUEUE

import benchdb  # noqa: E402  (sets up the path and the bench database before Django)
import httpx  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(app_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": benchdb.BENCH_DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "ALLOWED_HOSTS": "127.0.0.1",
        "CELERY_QUEUE": QUEUE,
    }
    process = subprocess.Popen(
        [
            *(str(VENV_BIN / "gunicorn"), "newsroom.wsgi", "--bind", f"127.0.0.1:{port}"),
            *("--workers", "2", "--threads", "4"),
        ],
        cwd=app_dir,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_web(process)
            sys.exit(f"bench: gunicorn did not start; its log:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/accounts/login/", timeout=5).status_code == 200:
                return process, base
        time.sleep(0.2)


def stop_web(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def timed_get(client: httpx.Client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url, timeout=60)
    return time.perf_counter() - started, response.status_code


def measure(base: str) -> dict:
    login = base + "/accounts/login/"
    with httpx.Client() as client:
        for _ in range(5):  # warm every thread's imports and connections
            timed_get(client, login)
            timed_get(client, base + "/healthz")
        alone = [timed_get(client, login)[0] for _ in range(20)]
    healthz: list[tuple[float, int]] = []
    during: list[float] = []
    start = threading.Barrier(CONCURRENT + 2)  # the /healthz threads, the login one, this one

    def one_healthz() -> None:
        with httpx.Client() as client:
            start.wait()
            healthz.append(timed_get(client, base + "/healthz"))

    def logins() -> None:
        with httpx.Client() as client:
            start.wait()
            during.extend(timed_get(client, login)[0] for _ in range(LOGIN_DURING))

    threads = [threading.Thread(target=one_healthz) for _ in range(CONCURRENT)]
    threads.append(threading.Thread(target=logins))
    for thread in threads:
        thread.start()
    start.wait()  # every client is made: the requests start now
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    seconds = sorted(s for s, _ in healthz)
    return {
        "login_alone_median_s": round(statistics.median(alone), 4),
        "healthz_requests": len(healthz),
        "healthz_statuses": sorted({code for _, code in healthz}),
        "healthz_median_s": round(statistics.median(seconds), 4),
        "healthz_max_s": round(seconds[-1], 4),
        "login_during_burst_s": [round(s, 4) for s in during],
        "login_during_burst_max_s": round(max(during), 4),
        "burst_wall_s": round(wall, 3),
    }


def main() -> None:
    import logging

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app-dir", type=Path, default=benchdb.BASE_DIR)
    args = parser.parse_args()
    benchdb.setup()
    logging.getLogger("httpx").setLevel(logging.WARNING)
    benchdb.OUT_DIR.mkdir(exist_ok=True)
    log = benchdb.OUT_DIR / "healthz-gunicorn.log"
    process, base = start_web(args.app_dir.resolve(), log)
    try:
        result = measure(base)
    finally:
        stop_web(process)
    result.update(
        app_dir=str(args.app_dir.resolve()),
        server="gunicorn newsroom.wsgi, 2 workers x 4 threads (the Procfile's)",
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    for key, value in result.items():
        print(f"{key:<28} {value}")
    out = benchdb.OUT_DIR / f"healthz-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
