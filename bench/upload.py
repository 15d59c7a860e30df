"""Memory of the web process during a 100 MB document upload, and a refused 150 MB one.

    make bench-upload

Starts the app as a real process, gunicorn with one sync worker on 127.0.0.1:<free port>,
against the casefile_bench database (DOCUMENT_MAX_BYTES=200000000, a temporary MEDIA_ROOT and
TMPDIR, a private Celery queue that no worker reads). Logs in as bench-uploader through the
login form, then uploads through the case's document form, with a streamed multipart body
(httpx reads the file as it sends it):

1. a 1 MB file, so every module of the upload path is imported (its growth is reported too);
2. a 100 MB file: the worker's peak RSS during the upload (VmHWM, reset just before through
   /proc/<pid>/clear_refs, and VmRSS polled every 20 ms as a cross-check) minus its RSS just
   before. Goal: under 50 MB. The document row must have the file's SHA-256 and size, and the
   stored file must be the same 100 MB.
3. gunicorn again with DOCUMENT_MAX_BYTES=104857600 (100 MB), and a 150 MB upload: the answer
   (status and message), that no row, stored file or temporary file is left, and memory.

The generated files, the temporary directories, the benchmark's case file and its queue are
deleted at the end. Writes bench/out/upload-<date>.json.
"""

import contextlib
import hashlib
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

MB = 1024 * 1024
BIG = 100 * MB
TOO_BIG = 150 * MB
WARM_UP = 1 * MB
GOAL_MB = 50.0
QUEUE = f"casefile-bench-upload-{os.getpid()}"
USERNAME = "bench-uploader"
PASSWORD = "bench-upload-password-7f3c"  # noqa: S105  (the bench database's own account)
POLL_SECONDS = 0.02

os.environ["CELERY_QUEUE"] = QUEUE

import benchdb  # noqa: E402  (sets up the path and the bench database before Django)
import httpx  # noqa: E402

VENV_BIN = Path(sys.executable).parent


def make_file(path: Path, size: int, seed: int) -> str:
    """Incompressible pseudo-random bytes, written 1 MB at a time; returns their SHA-256."""
    rng = random.Random(seed)  # noqa: S311  (test data)
    digest = hashlib.sha256()
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = rng.randbytes(min(MB, left))
            digest.update(chunk)
            fh.write(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(MB):
            digest.update(chunk)
    return digest.hexdigest()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} for {pid}")


class Gunicorn:
    """`gunicorn newsroom.wsgi`, one sync worker, on a free loopback port."""

    settings_module = "newsroom.settings"
    timeout = 120  # seconds; gunicorn's default (30, the Procfile's) is short for 150 MB

    def __init__(self, workdir: Path, *, max_bytes: int, media: Path, tmp: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"gunicorn-{self.port}.log"
        env = {
            **os.environ,
            "DATABASE_URL": benchdb.BENCH_DATABASE_URL,
            "DJANGO_SETTINGS_MODULE": self.settings_module,
            "ALLOWED_HOSTS": "127.0.0.1",
            "DOCUMENT_MAX_BYTES": str(max_bytes),
            "MEDIA_ROOT": str(media),
            "TMPDIR": str(tmp),  # Django's upload temporary files (FILE_UPLOAD_TEMP_DIR unset)
            "CELERY_QUEUE": QUEUE,
        }
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "gunicorn"),
                "newsroom.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--worker-class",
                "sync",
                "--timeout",
                str(self.timeout),
                "--access-logfile",
                "-",
            ],
            cwd=benchdb.BASE_DIR,
            env=env,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"bench: gunicorn did not start; its log:\n{self.output()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base + "/healthz", timeout=5).status_code in (200, 503):
                    break
            time.sleep(0.2)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pid(self) -> int:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        children = [int(p) for p in path.read_text().split()]
        if len(children) != 1:
            raise RuntimeError(f"expected one gunicorn worker, found {children}")
        return children[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class RssWatch:
    """Peak RSS of one process while a block runs: VmHWM (reset first) and 20 ms polling."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def __enter__(self) -> "RssWatch":
        self.before_kb = _status_kb(self.pid, "VmRSS")
        try:
            # "5" resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+).
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
            self.hwm_reset = _status_kb(self.pid, "VmHWM") <= self.before_kb + 1024
        except OSError:
            self.hwm_reset = False
        self.polled_kb = self.before_kb
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def _poll(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            with contextlib.suppress(OSError, RuntimeError):
                self.polled_kb = max(self.polled_kb, _status_kb(self.pid, "VmRSS"))

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.after_kb = _status_kb(self.pid, "VmRSS")
        self.hwm_kb = _status_kb(self.pid, "VmHWM")

    def result(self) -> dict:
        peak = max(self.polled_kb, self.hwm_kb if self.hwm_reset else 0)
        return {
            "rss_before_mb": round(self.before_kb / 1024, 1),
            "peak_polled_mb": round(self.polled_kb / 1024, 1),
            "peak_vmhwm_mb": round(self.hwm_kb / 1024, 1) if self.hwm_reset else None,
            "rss_after_mb": round(self.after_kb / 1024, 1),
            "growth_mb": round((peak - self.before_kb) / 1024, 1),
        }


def _csrf(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


def login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=httpx.Timeout(120.0))
    page = client.get("/accounts/login/")
    page.raise_for_status()
    answer = client.post(
        "/accounts/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page.text)},
        headers={"Referer": base + "/accounts/login/"},
    )
    if answer.status_code != 302:
        raise RuntimeError(f"login failed: {answer.status_code}")
    return client


def upload(client: httpx.Client, url: str, path: Path, token: str) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    with path.open("rb") as fh:
        response = client.post(
            url,
            data={"csrfmiddlewaretoken": token, "title": path.name},
            files={"file": (path.name, fh, "application/octet-stream")},
            headers={"Referer": str(client.base_url) + url},
        )
    return response, time.perf_counter() - started


def _message(page: str) -> str:
    match = re.search(r">([^<>]*(?:larger than|limit)[^<>]*)<", page)
    return " ".join(match.group(1).split()) if match else ""


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _purge_queue() -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # The queue and kombu's bindings of its exchange (named after it): this run's keys only.
    client.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")


def main() -> None:
    benchdb.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model

    from evidence.models import Document
    from investigations.models import Investigation
    from investigations.services import investigation_create

    workdir = Path(tempfile.mkdtemp(prefix="casefile-bench-upload-"))
    media, tmp = workdir / "media", workdir / "tmp"
    media.mkdir()
    tmp.mkdir()
    user, _ = get_user_model().objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    case = investigation_create(
        title=f"Bench upload {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        summary="Made by bench/upload.py; deleted at the end of the run.",
        created_by=user,
    )
    url = f"/cases/{case.public_id}/documents/"
    results: dict = {"load_average_before": os.getloadavg()[0]}
    server = None
    try:
        t = time.perf_counter()
        small, big = workdir / "warm-up-1mb.bin", workdir / "upload-100mb.bin"
        small_sha = make_file(small, WARM_UP, seed=1)
        big_sha = make_file(big, BIG, seed=2)
        print(f"generated the 1 MB and 100 MB files in {time.perf_counter() - t:.1f} s")
        client_rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        # 1 and 2: limit 200,000,000 bytes.
        server = Gunicorn(workdir, max_bytes=200_000_000, media=media, tmp=tmp)
        client = login(server.base)
        page = client.get(url)  # the warm-up request
        page.raise_for_status()
        pid = server.worker_pid()
        cold_kb = _status_kb(pid, "VmRSS")
        with RssWatch(pid) as watch_small:
            response, _ = upload(client, url, small, _csrf(page.text))
        small_status = response.status_code
        if response.status_code != 302:
            raise RuntimeError(f"warm-up upload: {response.status_code}\n{response.text[:500]}")
        page = client.get(url)
        with RssWatch(pid) as watch:
            response, seconds = upload(client, url, big, _csrf(page.text))
        client_rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if response.status_code != 302:
            raise RuntimeError(f"100 MB upload: {response.status_code}\n{response.text[:500]}")
        doc = Document.objects.get(investigation=case, sha256=big_sha)
        stored = media / doc.file
        big_result = {
            "bytes": BIG,
            "status": response.status_code,
            "seconds": round(seconds, 2),
            "mb_per_second": round(BIG / MB / seconds, 1),
            **watch.result(),
            "growth_since_first_request_mb": round((watch.hwm_kb - cold_kb) / 1024, 1)
            if watch.hwm_reset
            else None,
            "document_row": {"sha256_matches": doc.sha256 == big_sha, "size": doc.size},
            "stored_file": {
                "size": stored.stat().st_size,
                "sha256_matches": sha256_of(stored) == big_sha,
            },
            "client_maxrss_growth_mb": round((client_rss_after - client_rss_before) / 1024, 1),
        }
        results["warm_up_1mb"] = {"status": small_status, **watch_small.result()}
        results["warm_up_1mb"]["sha256_row"] = Document.objects.filter(
            investigation=case, sha256=small_sha
        ).exists()
        results["upload_100mb"] = big_result
        server.stop()
        server = None
        big.unlink()

        # 3: limit 100 MB, a 150 MB file.
        huge = workdir / "upload-150mb.bin"
        make_file(huge, TOO_BIG, seed=3)
        rows_before = Document.objects.filter(investigation=case).count()
        files_before = _files(media)
        server = Gunicorn(workdir, max_bytes=100 * MB, media=media, tmp=tmp)
        client = login(server.base)
        page = client.get(url)
        pid = server.worker_pid()
        with RssWatch(pid) as watch_huge:
            response, seconds = upload(client, url, huge, _csrf(page.text))
        results["upload_150mb_over_100mb_limit"] = {
            "bytes": TOO_BIG,
            "status": response.status_code,
            "message": _message(response.text),
            "seconds": round(seconds, 2),
            "rows_added": Document.objects.filter(investigation=case).count() - rows_before,
            "stored_files_added": sorted(set(_files(media)) - set(files_before)),
            "temporary_files_left": _files(tmp),
            **watch_huge.result(),
        }
        server.stop()
        server = None
    finally:
        if server is not None:
            server.stop()
        with contextlib.suppress(Exception):
            _purge_queue()
        with contextlib.suppress(Exception):
            Investigation.objects.filter(pk=case.pk).delete()
        shutil.rmtree(workdir, ignore_errors=True)

    big_result = results["upload_100mb"]
    refused = results["upload_150mb_over_100mb_limit"]
    met = (
        big_result["growth_mb"] < GOAL_MB
        and big_result["document_row"]["sha256_matches"]
        and big_result["document_row"]["size"] == BIG
        and big_result["stored_file"]["size"] == BIG
        and big_result["stored_file"]["sha256_matches"]
    )
    refused_ok = (
        refused["status"] == 413
        and not refused["rows_added"]
        and not refused["stored_files_added"]
        and not refused["temporary_files_left"]
    )
    print()
    print("gunicorn sync worker, one process; RSS in MB")
    print(f"{'':32} {'before':>8} {'peak':>8} {'growth':>8} {'status':>7} {'seconds':>8}")
    for name, key in (
        ("1 MB upload (warm-up)", "warm_up_1mb"),
        ("100 MB upload", "upload_100mb"),
        ("150 MB upload, 100 MB limit", "upload_150mb_over_100mb_limit"),
    ):
        r = results[key]
        peak = max(r["peak_polled_mb"], r["peak_vmhwm_mb"] or 0)
        print(
            f"{name:32} {r['rss_before_mb']:8.1f} {peak:8.1f} {r['growth_mb']:8.1f} "
            f"{r['status']:>7} {r.get('seconds', ''):>8}"
        )
    print(
        f"\n100 MB upload: {big_result['mb_per_second']} MB/s; row sha256 "
        f"{'matches' if big_result['document_row']['sha256_matches'] else 'DIFFERS'}, row size "
        f"{big_result['document_row']['size']:,}, stored file {big_result['stored_file']['size']:,}"
        f" bytes, sha256 {'matches' if big_result['stored_file']['sha256_matches'] else 'DIFFERS'}"
        f"; client max RSS grew {big_result['client_maxrss_growth_mb']} MB"
    )
    print(
        f"goal: worker peak grows by under {GOAL_MB:.0f} MB -> "
        f"{'MET' if met else 'NOT MET'} ({big_result['growth_mb']} MB)"
    )
    print(
        f"150 MB with a 100 MB limit: {refused['status']} {refused['message']!r}; rows added "
        f"{refused['rows_added']}, stored files added {len(refused['stored_files_added'])}, "
        f"temporary files left {len(refused['temporary_files_left'])} -> "
        f"{'as expected' if refused_ok else 'NOT as expected'}"
    )

    benchdb.OUT_DIR.mkdir(exist_ok=True)
    out = benchdb.OUT_DIR / f"upload-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "goal": f"peak RSS of the web worker grows by under {GOAL_MB:.0f} MB (100 MB)",
                "met": met,
                "refused_as_expected": refused_ok,
                "server": "gunicorn newsroom.wsgi, 1 sync worker",
                **results,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwrote {out.relative_to(benchdb.BASE_DIR)}")


if __name__ == "__main__":
    main()
