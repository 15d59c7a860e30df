"""Snapshot capture throughput: 200 local pages through one Celery worker, against wget.

    make bench-snapshots                      # or: .venv/bin/python bench/snapshots.py --help

A loopback HTTP server (a thread of this process) serves 200 distinct company pages of 30-80 KB
(Cyrillic text, tables; the same bytes on every run). One `celery worker --pool prefork
--concurrency 2` on a private queue and the casefile_bench database captures them: 200
Snapshot requests are made with evidence.services.snapshot_request in one transaction, and the
clock runs from the commit (which sends the 200 tasks) until the database says the last one is
done (polled every 0.1 s). This is done 3 times (after a one-page warm-up) and the median batch
is reported. Every WARC is then checked with `warcio check`.

The reference is GNU wget writing a WARC of the same 200 URLs as two concurrent processes (wget
fetches one URL at a time; two processes match the two worker processes), also 3 times. The
goal is at least 0.8x wget's pages per second with every WARC valid. Below that (or with
--profile) a further batch is captured while py-spy (installed into .venv on first use) samples
one worker process, and each stage of a capture is timed in this process, with the SQL of one
task. --latency-ms N makes the server wait N ms before every answer, as a distant site would.

Snapshots go to a temporary MEDIA_ROOT; the benchmark's case files and that directory are
deleted at the end (--keep keeps both). Writes bench/out/snapshots-<date>.json.
"""

import argparse
import contextlib
import html
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

PAGES = 200
CONCURRENCY = 2
TARGET_RATIO = 0.8
SEED = 2026
POLL_SECONDS = 0.1
# Batches of 200 for each side; the median run is reported (the host may be shared).
RUNS = 3
BATCH_TIMEOUT = 240.0

# The worker and this process read these through Django settings, so they are set before
# benchdb sets Django up. The private queue keeps any other worker on this Redis away from the
# benchmark's tasks; loopback is the only private network the SSRF guard lets through.
QUEUE = f"casefile-bench-{os.getpid()}"
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="casefile-bench-media-"))
os.environ.update(
    {
        "CELERY_QUEUE": QUEUE,
        "FETCH_ALLOW_NETWORKS": "127.0.0.1/32",
        "SNAPSHOT_SCREENSHOTS": "false",
        "TSA_URL": "",
        "MEDIA_ROOT": str(MEDIA_ROOT),
    }
)

import benchdb  # noqa: E402  (sets up the path and the bench database before Django)
import namegen  # noqa: E402

VENV_BIN = Path(sys.executable).parent


# --- The pages -------------------------------------------------------------------------------

CITIES = [
    "Алматы",
    "Астана",
    "Шымкент",
    "Караганда",
    "Актобе",
    "Атырау",
    "Москва",
    "Санкт-Петербург",
    "Новосибирск",
    "Екатеринбург",
    "Бишкек",
    "Ташкент",
]
STREETS = ["проспект Абая", "улица Толе би", "проспект Достык", "улица Ленина", "Тверская улица"]
ACTIVITIES = [
    "Оптовая торговля электронным оборудованием и его частями",
    "Оптовая торговля прочими машинами и оборудованием",
    "Деятельность агентов по оптовой торговле топливом, рудами, металлами",
    "Транспортная обработка грузов",
    "Деятельность в области архитектуры, инженерных изысканий",
    "Производство электронных компонентов",
    "Прочая вспомогательная транспортная деятельность",
]
GOODS = [
    ("854231", "Процессоры и контроллеры, интегральные схемы"),
    ("854232", "Схемы памяти электронные интегральные"),
    ("847150", "Блоки обработки данных вычислительных машин"),
    ("851762", "Аппаратура для приёма, преобразования и передачи данных"),
    ("853690", "Аппаратура электрическая для коммутации прочая"),
    ("880730", "Части беспилотных летательных аппаратов"),
    ("901380", "Устройства на жидких кристаллах прочие"),
    ("850440", "Преобразователи статические"),
    ("903289", "Приборы для автоматического регулирования прочие"),
]
SENTENCES = [
    "Компания зарегистрирована в государственном реестре юридических лиц и ведёт деятельность "
    "по месту нахождения исполнительного органа.",
    "По данным таможенной статистики, основная часть поставок приходится на электронные "
    "компоненты двойного назначения.",
    "Учредитель компании также владеет долями в нескольких логистических предприятиях, "
    "зарегистрированных по тому же адресу.",
    "В 2023 году выручка компании выросла более чем в четыре раза по сравнению с предыдущим годом.",
    "Представители компании на запрос редакции не ответили.",
    "Согласно выписке, уставный капитал был увеличен за месяц до первой крупной поставки.",
    "Адрес регистрации совпадает с адресом массовой регистрации, указанным в реестре.",
    "Директор компании ранее руководил торговым домом, ликвидированным в 2021 году.",
]
STYLE = (
    "body{font-family:Arial,sans-serif;margin:0}header,footer{background:#0b3d62;color:#fff;"
    "padding:12px 24px}main{padding:24px}table{border-collapse:collapse;width:100%}"
    "td,th{border:1px solid #ccd;padding:4px 8px;font-size:13px}th{background:#eef}"
    ".muted{color:#667}.badge{background:#e8f4e8;border-radius:3px;padding:2px 6px}"
)


def page_url(base: str, index: int) -> str:
    return f"{base}/company/{index:04d}/"


def make_page(index: int) -> bytes:
    """Company page number `index`: 30-80 KB of UTF-8 HTML, the same bytes on every run."""
    rng = random.Random(f"snapshots:{SEED}:{index}")  # noqa: S311  (test data)
    target = rng.randint(30_000, 80_000)
    company = namegen.spec(SEED, index * 3)
    director = namegen.spec(SEED + 1, index)
    founders = [namegen.spec(SEED + 2, index * 5 + k) for k in range(rng.randint(1, 4))]
    partners = [namegen.spec(SEED + 3, index * 40 + k) for k in range(40)]
    city = rng.choice(CITIES)
    bin_number = f"{rng.randint(10**11, 10**12 - 1)}"
    esc = html.escape
    head = [
        "<!DOCTYPE html>",
        '<html lang="ru"><head><meta charset="utf-8">',
        f"<title>{esc(company.name)} — БИН {bin_number} — Реестр компаний</title>",
        f'<meta property="og:title" content="{esc(company.name)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{STYLE}</style>",
        "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        "gtag('js',new Date());</script>",
        "</head><body>",
        '<header><a href="/">Реестр компаний</a> · <a href="/search/">Поиск</a> · '
        '<a href="/about/">О проекте</a></header><main>',
        f"<h1>{esc(company.name)}</h1>",
        f'<p class="muted">Также известна как: {esc(company.other_script)}</p>',
        "<h2>Регистрационные данные</h2><table>",
    ]
    details = [
        ("БИН", bin_number),
        (
            "Дата регистрации",
            f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(1995, 2023)}",
        ),
        ("Статус", "Действующая"),
        (
            "Адрес",
            f"{city}, {rng.choice(STREETS)}, д. {rng.randint(1, 250)}, офис {rng.randint(1, 900)}",
        ),
        ("Руководитель", director.name),
        ("Вид деятельности", rng.choice(ACTIVITIES)),
        ("Уставный капитал", f"{rng.randint(1, 5000) * 1000:,} тенге".replace(",", " ")),
        ("Учредители", "; ".join(f.name for f in founders)),
    ]
    head += [f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in details]
    head.append("</table>")
    head.append("<h2>О компании</h2>")
    head += [f"<p>{' '.join(rng.sample(SENTENCES, 4))}</p>" for _ in range(rng.randint(3, 6))]
    head.append(
        "<h2>Внешнеэкономическая деятельность</h2><table><thead><tr><th>Дата</th>"
        "<th>Декларация</th><th>Контрагент</th><th>Код ТН ВЭД</th><th>Описание</th>"
        "<th>Вес, кг</th><th>Стоимость, USD</th></tr></thead><tbody>"
    )
    tail = (
        "</tbody></table>"
        f'<p class="muted">Источник: открытые данные, обновлено {rng.randint(1, 28):02d}.'
        f"{rng.randint(1, 12):02d}.2026.</p></main>"
        "<footer>© Реестр компаний. Данные приведены в справочных целях.</footer>"
        "</body></html>"
    )
    body = "\n".join(head)
    rows = []
    size = len(body.encode()) + len(tail.encode())
    while size < target:
        code, goods = rng.choice(GOODS)
        row = (
            f"<tr><td>{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{rng.randint(2021, 2025)}"
            f"</td><td>{rng.randint(10**7, 10**8 - 1)}/{rng.randint(100000, 999999)}/"
            f"{rng.randint(1000000, 9999999)}</td><td>{esc(rng.choice(partners).name)}</td>"
            f"<td>{code}</td><td>{esc(goods)}</td><td>{rng.randint(1, 9000):,}</td>"
            f"<td>{rng.randint(500, 2_000_000):,}</td></tr>"
        )
        rows.append(row)
        size += len(row.encode()) + 1
    return (body + "\n" + "\n".join(rows) + tail).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: with Nagle on, a keep-alive client (wget) would wait
    # for the delayed ACK (~40 ms) on every page after the first.
    disable_nagle_algorithm = True
    server_version = "nginx"
    sys_version = ""
    pages: dict[str, bytes] = {}
    counter: Counter = Counter()
    latency = 0.0

    def do_GET(self) -> None:
        if self.latency:
            time.sleep(self.latency)  # a distant site: the same wait for wget and for us
        body = self.pages.get(self.path.split("?", 1)[0])
        self.counter[self.headers.get("User-Agent", "").split("/")[0]] += 1
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Last-Modified", "Tue, 24 Nov 2026 09:00:00 GMT")
        self.send_header("Cache-Control", "max-age=600")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class PageServer:
    """The 200 pages on 127.0.0.1:<free port>, served from memory by a thread."""

    def __init__(self, count: int, latency: float = 0.0) -> None:
        self.bodies = [make_page(i) for i in range(count)]
        handler = type(
            "Handler", (_Handler,), {"pages": {}, "counter": Counter(), "latency": latency}
        )
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.urls = [page_url(self.base, i) for i in range(count)]
        for i, body in enumerate(self.bodies):
            handler.pages[page_url("", i)] = body
        self.handler = handler
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "PageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --- The worker ------------------------------------------------------------------------------


class Worker:
    """One `celery worker` subprocess on the private queue and the bench database."""

    def __init__(self, log: Path) -> None:
        self.log = log
        env = {
            **os.environ,
            "DATABASE_URL": benchdb.BENCH_DATABASE_URL,
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "newsroom",
                "worker",
                "--loglevel",
                "INFO",
                "--pool",
                "prefork",
                "--concurrency",
                str(CONCURRENCY),
                "--queues",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"bench-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=benchdb.BASE_DIR,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while "ready." not in self.output():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                sys.exit(f"bench: the worker did not start; its log:\n{self.output()[-3000:]}")
            time.sleep(0.1)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(p) for p in path.read_text().split()]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # warm shutdown: children exit too
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# --- Capturing through Casefile ---------------------------------------------------------------


def _owner():
    from django.contrib.auth import get_user_model

    owner, _ = get_user_model().objects.get_or_create(username="bench-owner")
    return owner


def capture_batch(urls: list[str], label: str, on_start=None) -> dict:
    """Request a snapshot of every URL in a new case file; time until the last is finished."""
    from django.db import transaction

    from evidence import services
    from evidence.models import Snapshot
    from investigations.services import investigation_create

    owner = _owner()
    case = investigation_create(
        title=f"Bench snapshots {label} {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        summary="Made by bench/snapshots.py; deleted at the end of the run.",
        created_by=owner,
    )
    requested = time.perf_counter()
    with transaction.atomic():
        for url in urls:
            services.snapshot_request(investigation=case, url=url, actor=owner)
        # The tasks are sent by on_commit hooks when this block commits: the clock starts here.
        if on_start:
            on_start()
        started = time.perf_counter()
        started_at = datetime.now(UTC)
    sent = time.perf_counter()
    rows = Snapshot.objects.filter(investigation=case)
    deadline = started + BATCH_TIMEOUT
    finished = None
    while time.perf_counter() < deadline:
        if not rows.filter(status__in=["pending", "running"]).exists():
            finished = time.perf_counter()
            break
        time.sleep(POLL_SECONDS)
    statuses = Counter(rows.values_list("status", flat=True))
    details = list(
        rows.values(
            "status",
            "error",
            "attempts",
            "queued_at",
            "started_at",
            "finished_at",
            "warc_file",
            "warc_size",
            "body_size",
            "text",
        )
    )
    done = [d for d in details if d["status"] == "done"]
    in_task = [(d["finished_at"] - d["started_at"]).total_seconds() for d in done]
    last_finished = max((d["finished_at"] for d in done), default=None)
    elapsed = (finished or time.perf_counter()) - started
    return {
        "case": case,
        "requests_seconds": started - requested,
        "enqueue_seconds": sent - started,
        "elapsed_seconds": elapsed,
        "timed_out": finished is None,
        "db_elapsed_seconds": (last_finished - started_at).total_seconds()
        if last_finished
        else None,
        "statuses": dict(statuses),
        "errors": Counter(d["error"] for d in details if d["status"] != "done").most_common(5),
        "attempts_over_1": sum(1 for d in details if d["attempts"] > 1),
        "pages_per_second": len(done) / elapsed if elapsed else 0.0,
        "task_ms_p50": benchdb.percentile(in_task, 50) * 1000 if in_task else None,
        "task_ms_p95": benchdb.percentile(in_task, 95) * 1000 if in_task else None,
        "task_ms_mean": sum(in_task) / len(in_task) * 1000 if in_task else None,
        "body_bytes": sum(d["body_size"] or 0 for d in done),
        "warc_bytes": sum(d["warc_size"] or 0 for d in done),
        "text_chars_mean": sum(len(d["text"]) for d in done) // max(1, len(done)),
        "warc_files": [MEDIA_ROOT / d["warc_file"] for d in done if d["warc_file"]],
    }


# --- WARC validation ----------------------------------------------------------------------


def warcio_check(files: list[Path]) -> dict:
    """`warcio check -v` over the files: valid = records read, every digest present passed."""
    per_file: dict[str, dict] = {}
    failures: dict[str, str] = {}
    for start in range(0, len(files), 50):
        batch = [str(f) for f in files[start : start + 50]]
        result = subprocess.run(
            [str(VENV_BIN / "warcio"), "check", "-v", *batch],
            capture_output=True,
            text=True,
        )
        current = None
        for line in result.stdout.splitlines():
            if not line.startswith(" "):
                current = line.strip()
                per_file.setdefault(current, Counter())
            elif current is None:
                continue
            elif "WARC-Record-ID" in line:
                per_file[current]["records"] += 1
            elif line.strip() == "digest pass":
                per_file[current]["digest pass"] += 1
            elif line.strip() == "no digest to check":
                per_file[current]["no digest"] += 1
            else:
                per_file[current]["problems"] += 1
                failures.setdefault(current, line.strip())
        if result.returncode != 0 and not any(f in failures for f in batch):
            # A crash rather than a report: check the batch file by file.
            for name in batch:
                one = subprocess.run(
                    [str(VENV_BIN / "warcio"), "check", name], capture_output=True, text=True
                )
                if one.returncode != 0:
                    failures[name] = (one.stdout + one.stderr).strip()[-300:]
    for name in map(str, files):
        counts = per_file.get(name)
        if counts is None or counts["records"] == 0:
            failures.setdefault(name, "no records read")
        elif counts["digest pass"] == 0:
            failures.setdefault(name, "no digest checked")
    totals = Counter()
    for counts in per_file.values():
        totals.update(counts)
    return {
        "files": len(files),
        "failed": len(failures),
        "records": totals["records"],
        "digests_passed": totals["digest pass"],
        "records_without_digest": totals["no digest"],
        "first_failures": dict(list(failures.items())[:5]),
    }


# --- The reference: wget ------------------------------------------------------------------


def run_wget(urls: list[str], workdir: Path) -> dict:
    """Two wget processes, each writing a WARC of half the URLs; time until both exit."""
    wget = shutil.which("wget")
    if wget is None:
        sys.exit("bench: wget is missing (apt-get install -y wget)")
    version = subprocess.run([wget, "--version"], capture_output=True, text=True).stdout
    halves = [urls[k::CONCURRENCY] for k in range(CONCURRENCY)]
    commands = []
    for k, half in enumerate(halves):
        listing = workdir / f"urls-{k}.txt"
        listing.write_text("\n".join(half) + "\n")
        commands.append(
            [
                wget,
                f"--warc-file={workdir / f'ref-{k}'}",
                "--no-verbose",
                f"--input-file={listing}",
                f"--output-document={os.devnull}",
                "--tries=1",
            ]
        )
    started = time.perf_counter()
    processes = [
        subprocess.Popen(c, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for c in commands
    ]
    outputs = [p.communicate()[0].decode(errors="replace") for p in processes]
    elapsed = time.perf_counter() - started
    fetched = sum(len(re.findall(r"URL:\S+ \[\d+", out)) for out in outputs)
    warcs = sorted(workdir.glob("ref-*.warc.gz"))
    return {
        "version": version.splitlines()[0] if version else "",
        "command": " ".join(commands[0]).replace(str(workdir), "<tmp>"),
        "processes": CONCURRENCY,
        "elapsed_seconds": elapsed,
        "exit_codes": [p.returncode for p in processes],
        "pages_fetched": fetched,
        "pages_per_second": fetched / elapsed if elapsed else 0.0,
        "warc_bytes": sum(w.stat().st_size for w in warcs),
        "warc_files": warcs,
    }


# --- Profiling one worker process ------------------------------------------------------------

# Each py-spy sample is put in the bucket of its innermost frame that matches one ("function
# (file:line)" frames; C code such as zlib counts towards the Python frame that called it).
BUCKETS = [
    ("fetch: building a TLS context (ssl.create_default_context)", ("ssl.py", "certifi/")),
    ("fetch: SSRF check / resolve", ("ssrf.py",)),
    ("fetch: httpx / httpcore", ("httpx/", "httpcore/", "h11/")),
    ("fetch: other", ("evidence/fetch.py",)),
    ("WARC writing (warcio, gzip, hashing)", ("evidence/warc.py", "warcio/")),
    ("text extraction (selectolax)", ("evidence/extract.py", "selectolax")),
    ("type detection", ("evidence/detect.py",)),
    ("storage (file save)", ("evidence/storage.py", "django/core/files/")),
    ("SQL (psycopg execute / fetch)", ("psycopg/",)),
    ("Django ORM (building queries, models)", ("django/db/",)),
    ("activity log / signals", ("investigations/activity.py", "django/dispatch/")),
    ("job claim / finish", ("investigations/jobs.py",)),
    ("logging", ("logging/",)),
    ("Celery / kombu / billiard (task dispatch)", ("celery/", "kombu/", "billiard/")),
]


def _bucket(stack: list[str]) -> str:
    for frame in reversed(stack):  # innermost first
        for name, needles in BUCKETS:
            if any(n in frame for n in needles):
                return name
    return "other"


def summarise_profile(raw: Path, top: int = 15) -> dict:
    """Buckets and hottest functions from py-spy's collapsed stacks ('f1;f2;f3 count')."""
    buckets: Counter = Counter()
    sql_by_caller: Counter = Counter()
    self_time: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        stack = [f for f in stack_text.split(";") if f]
        if not stack:
            continue
        total += count
        bucket = _bucket(stack)
        buckets[bucket] += count
        if bucket.startswith(("SQL", "Django ORM")):
            ours = [f for f in stack if re.search(r"\((evidence|investigations)/", f)]
            sql_by_caller[_short(ours[-1]) if ours else "(outside Casefile code)"] += count
        self_time[_short(stack[-1])] += count
        for frame in {_short(f) for f in stack}:
            inclusive[frame] += count
    pct = (lambda n: round(100 * n / total, 1)) if total else (lambda n: 0.0)
    task_frames = [
        (f, n) for f, n in inclusive.most_common() if re.search(r"\((evidence|investigations)/", f)
    ]
    return {
        "samples": total,
        "buckets_pct": {k: pct(v) for k, v in buckets.most_common()},
        "self_pct": {k: pct(v) for k, v in self_time.most_common(top)},
        "sql_and_orm_by_casefile_caller_pct": {
            k: pct(v) for k, v in sql_by_caller.most_common(top)
        },
        "casefile_inclusive_pct": {k: pct(v) for k, v in task_frames[:top]},
    }


def _short(frame: str) -> str:
    # "write_warc (evidence/warc.py:123)" -> "write_warc (evidence/warc.py)"
    frame = re.sub(r":\d+\)$", ")", frame)
    return re.sub(r"\(.*?site-packages/", "(", frame)


def profile_batch(urls: list[str], workdir: Path) -> dict:
    """Capture another batch while py-spy samples one of the two worker processes."""
    pyspy = VENV_BIN / "py-spy"
    if not pyspy.exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "py-spy"], check=True)
    worker = Worker(workdir / "worker-profile.log")
    raw = workdir / "profile.txt"
    spy = None
    try:
        child = worker.children()[0]

        def start_spy() -> None:
            nonlocal spy
            spy = subprocess.Popen(
                [
                    str(pyspy),
                    "record",
                    "--pid",
                    str(child),
                    "--rate",
                    "250",
                    "--format",
                    "raw",
                    "--output",
                    str(raw),
                    "--nonblocking",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(1.0)  # py-spy attaches

        batch = capture_batch(urls, "profile", on_start=start_spy)
        sampled_seconds = batch["elapsed_seconds"]
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                spy.kill()
        worker.stop()
    if not raw.exists():
        return {"error": (spy.stderr.read().decode() if spy else "py-spy did not start")[-500:]}
    summary = summarise_profile(raw)
    summary["pages_per_second_while_profiled"] = round(batch["pages_per_second"], 1)
    # Idle samples (waiting for the next task) are not recorded by py-spy without --idle.
    summary["busy_fraction"] = round(summary["samples"] / (250 * sampled_seconds), 2)
    summary["case"] = batch["case"]
    return summary


# --- Stage by stage, in this process ---------------------------------------------------------


def breakdown(urls: list[str]) -> dict:
    """Median ms of each stage of a capture, run here (not in the worker), and the SQL of one.

    The whole task body is run the way the worker runs it (claim, capture, finish) after
    closing the database connection, as Celery's Django fixup does before every task.
    """
    import io
    from unittest import mock

    import httpx
    from django.db import connection

    from evidence import services, ssrf
    from evidence.models import Snapshot
    from evidence.warc import write_warc
    from investigations import activity, jobs
    from investigations.services import investigation_create

    owner = _owner()
    case = investigation_create(
        title=f"Bench snapshots breakdown {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        summary="Made by bench/snapshots.py; deleted at the end of the run.",
        created_by=owner,
    )
    times: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, fn):
        started = time.perf_counter()
        result = fn()
        times[name].append((time.perf_counter() - started) * 1000)
        return result

    def open_client() -> None:
        with ssrf.guarded_client():
            pass

    def reconnect() -> None:
        connection.close()
        connection.ensure_connection()

    metadata = {"requested_by": "bench", "requested_at": "2026-01-01T00:00:00+00:00"}
    for url in urls:
        timed("httpx.create_ssl_context()", lambda: httpx.create_ssl_context(trust_env=False))
        timed("ssrf.guarded_client() set-up and close", open_client)
        capture = timed(
            "fetch_for_snapshot() (set-up included)", lambda u=url: services.fetch_for_snapshot(u)
        )
        timed(
            "write_warc() to memory",
            lambda c=capture: write_warc(c, io.BytesIO(), filename="x.warc.gz", metadata=metadata),
        )
        timed(
            "_snapshot_text() (selectolax)",
            lambda c=capture: services._snapshot_text(c.final, "text/html; charset=utf-8"),
        )
        timed("a new database connection", reconnect)
    statements: list[str] = []

    def run_tasks(label: str, *, reconnect_each: bool) -> None:
        nonlocal statements
        for url in urls:
            snapshot = Snapshot.objects.create(investigation=case, url=url, requested_by=owner)
            if reconnect_each:
                connection.close()  # as Celery's Django fixup does around every task
            sql: list[tuple[float, str]] = []

            def timer(execute, query, params, many, context, sql=sql):
                started = time.perf_counter()
                try:
                    return execute(query, params, many, context)
                finally:
                    sql.append(((time.perf_counter() - started) * 1000, query))

            with connection.execute_wrapper(timer):
                started = time.perf_counter()
                task_id = f"bench-{snapshot.pk}"
                claimed = jobs.job_claim(Snapshot, snapshot.pk, task_id=task_id)
                with activity.acting_as(owner):
                    services.snapshot_capture(snapshot=claimed)
                jobs.job_finish(claimed, task_id=task_id)
                times[label].append((time.perf_counter() - started) * 1000)
            times[f"  {label}: SQL statements ({len(sql)}, client-side time)"].append(
                sum(ms for ms, _ in sql)
            )
            if not statements:  # the first task's, as the worker runs it
                statements = [f"{ms:6.1f} ms  " + " ".join(q.split())[:100] for ms, q in sql]

    cached = httpx.create_ssl_context(trust_env=False)
    run_tasks("whole task body (claim, capture, finish)", reconnect_each=True)
    with mock.patch.object(httpx, "create_ssl_context", lambda **kwargs: cached):
        for url in urls:
            timed(
                "what-if, one TLS context per process: fetch_for_snapshot()",
                lambda u=url: services.fetch_for_snapshot(u),
            )
        run_tasks("what-if, one TLS context per process: task body", reconnect_each=True)
        run_tasks(
            "what-if, one TLS context and a kept DB connection: task body", reconnect_each=False
        )
    return {
        "pages": len(urls),
        "median_ms": {k: round(benchdb.percentile(v, 50), 2) for k, v in times.items()},
        "queries_per_task": len(statements),
        "statements_of_one_task": statements,
        "case": case,
    }


# --- Main ------------------------------------------------------------------------------------


def _purge_queue() -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # The queue and kombu's bindings of its exchange (named after it): this run's keys only.
    client.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")


def _delete_cases(cases) -> None:
    from investigations.models import Investigation

    Investigation.objects.filter(pk__in=[c.pk for c in cases]).delete()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", action="store_true", help="profile even when on target")
    parser.add_argument("--keep", action="store_true", help="keep the case files and WARCs")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="the server waits this long before every answer (a distant site); default 0",
    )
    args = parser.parse_args()

    benchdb.setup()
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="casefile-bench-snapshots-"))
    cases = []
    worker = None
    try:
        with PageServer(PAGES, latency=args.latency_ms / 1000) as server:
            sizes = [len(b) for b in server.bodies]
            if args.latency_ms:
                print(f"the server waits {args.latency_ms:g} ms before every answer")
            print(
                f"{PAGES} pages at {server.base}/company/NNNN/: "
                f"{min(sizes) / 1024:.0f}-{max(sizes) / 1024:.0f} KB, "
                f"{sum(sizes) / 1024 / 1024:.1f} MB in all"
            )
            load_before = os.getloadavg()[0]

            # Warm-up: one page through the worker, so imports and connections are made.
            worker = Worker(workdir / "worker.log")
            warm = capture_batch([server.base + "/company/0000/?warm-up"], "warm-up")
            cases.append(warm["case"])
            ours_runs = []
            for run in range(1, RUNS + 1):
                ours_runs.append(capture_batch(server.urls, f"run {run}"))
                cases.append(ours_runs[-1]["case"])
            worker.stop()
            worker = None
            check = warcio_check([f for r in ours_runs for f in r["warc_files"]])

            ref_runs = []
            for run in range(1, RUNS + 1):
                (workdir / f"wget-{run}").mkdir()
                ref_runs.append(run_wget(server.urls, workdir / f"wget-{run}"))
            ref_check = warcio_check([f for r in ref_runs for f in r["warc_files"]])
            ours = sorted(ours_runs, key=lambda r: r["pages_per_second"])[RUNS // 2]
            ref = sorted(ref_runs, key=lambda r: r["pages_per_second"])[RUNS // 2]
            ratio = ours["pages_per_second"] / ref["pages_per_second"]

            prof = stages = None
            if ratio < TARGET_RATIO or args.profile:
                print("profiling one worker process during a second batch ...")
                prof = profile_batch(server.urls, workdir)
                if "case" in prof:
                    cases.append(prof.pop("case"))
                stages = breakdown(server.urls[:20])
                cases.append(stages.pop("case"))
            served = dict(server.handler.counter)
        load_after = os.getloadavg()[0]

        done = ours["statuses"].get("done", 0)
        outside_ms = (CONCURRENCY * ours["elapsed_seconds"] * 1000 / max(1, done)) - ours[
            "task_ms_mean"
        ]
        ours["outside_task_ms_per_page"] = outside_ms
        all_done = all(r["statuses"].get("done", 0) == PAGES for r in ours_runs)
        met = ratio >= TARGET_RATIO and check["failed"] == 0 and all_done
        rows = [
            ("pages", f"{PAGES}", f"{PAGES}"),
            ("page size", f"{sum(sizes) / PAGES / 1024:.0f} KB mean", ""),
            ("processes", f"{CONCURRENCY} (one prefork worker)", f"{CONCURRENCY} wget"),
            (
                "captured",
                " / ".join(str(r["statuses"].get("done", 0)) for r in ours_runs) + " done",
                " / ".join(str(r["pages_fetched"]) for r in ref_runs),
            ),
            (
                "pages/s, runs",
                " / ".join(f"{r['pages_per_second']:.1f}" for r in ours_runs),
                " / ".join(f"{r['pages_per_second']:.0f}" for r in ref_runs),
            ),
            (
                "wall time, median",
                f"{ours['elapsed_seconds']:.2f} s",
                f"{ref['elapsed_seconds']:.2f} s",
            ),
            (
                "pages/s, median",
                f"{ours['pages_per_second']:.1f}",
                f"{ref['pages_per_second']:.1f}",
            ),
            (
                "WARC bytes",
                f"{ours['warc_bytes'] / 1e6:.1f} MB",
                f"{ref['warc_bytes'] / 1e6:.1f} MB",
            ),
            (
                "warcio check",
                f"{check['failed']} of {check['files']} failed",
                f"{ref_check['failed']} of {ref_check['files']} failed",
            ),
        ]
        print()
        print(f"{'':18} {'Casefile':>30} {'wget':>22}")
        for name, a, b in rows:
            print(f"{name:18} {a:>30} {b:>22}")
        print(
            f"\nratio Casefile/wget: {ratio:.3f}x (goal >= {TARGET_RATIO}x) -> "
            f"{'MET' if met else 'NOT MET'}"
        )
        print(
            f"in-task time per page: p50 {ours['task_ms_p50']:.1f} ms, p95 "
            f"{ours['task_ms_p95']:.1f} ms, mean {ours['task_ms_mean']:.1f} ms; "
            f"{CONCURRENCY} processes x wall time {CONCURRENCY * ours['elapsed_seconds']:.1f} s, "
            f"of which in tasks (claim to finish) {ours['task_ms_mean'] * done / 1000:.1f} s: "
            f"{outside_ms:.1f} ms per page outside the task body (Celery delivery and ack, "
            "connection set-up, the ramp at start and end)"
        )
        print(
            f"making the {PAGES} requests: {ours['requests_seconds']:.2f} s (not timed); "
            f"sending the tasks on commit: {ours['enqueue_seconds']:.3f} s (timed); "
            f"load average before/after: {load_before:.2f}/{load_after:.2f}"
        )
        if ours["errors"]:
            print(f"errors: {ours['errors']}")
        if prof and "buckets_pct" in prof:
            print(
                f"\nwhere one worker process spends its time ({prof['samples']} py-spy samples at "
                f"250/s, busy {prof['busy_fraction']:.0%} of the batch, which ran at "
                f"{prof['pages_per_second_while_profiled']} pages/s; innermost matching bucket "
                "per sample):"
            )
            for name, pct in prof["buckets_pct"].items():
                print(f"  {pct:5.1f}%  {name}")
            print("SQL and ORM time by the Casefile function that caused it:")
            for name, pct in list(prof["sql_and_orm_by_casefile_caller_pct"].items())[:8]:
                print(f"  {pct:5.1f}%  {name}")
            print("hottest Casefile functions (inclusive):")
            for name, pct in list(prof["casefile_inclusive_pct"].items())[:12]:
                print(f"  {pct:5.1f}%  {name}")
            print("hottest functions (self):")
            for name, pct in list(prof["self_pct"].items())[:10]:
                print(f"  {pct:5.1f}%  {name}")
        elif prof:
            print(f"\nprofile failed: {prof['error']}")
        if stages:
            print(
                f"\nstage by stage, in the benchmark process (median ms over {stages['pages']} "
                "pages):"
            )
            for name, ms in stages["median_ms"].items():
                print(f"  {ms:7.2f}  {name}")
            print(f"SQL statements of one task ({stages['queries_per_task']}):")
            for line in stages["statements_of_one_task"]:
                print(f"  {line}")

        for result in (*ours_runs, *ref_runs):
            result.pop("warc_files", None)
            result.pop("case", None)
        benchdb.OUT_DIR.mkdir(exist_ok=True)
        suffix = f"-latency{args.latency_ms:g}ms" if args.latency_ms else ""
        out = benchdb.OUT_DIR / f"snapshots-{datetime.now(UTC):%Y-%m-%d}{suffix}.json"
        out.write_text(
            json.dumps(
                {
                    "date": datetime.now(UTC).isoformat(timespec="seconds"),
                    "goal": f">= {TARGET_RATIO}x wget pages/s, every WARC valid",
                    "met": met,
                    "ratio": ratio,
                    "pages": {
                        "count": PAGES,
                        "bytes_min": min(sizes),
                        "bytes_max": max(sizes),
                        "bytes_total": sum(sizes),
                    },
                    "worker": {
                        "pool": "prefork",
                        "concurrency": CONCURRENCY,
                        "screenshots": False,
                        "tsa": False,
                    },
                    "runs": RUNS,
                    "casefile": ours,
                    "casefile_runs_pages_per_second": [r["pages_per_second"] for r in ours_runs],
                    "casefile_warcio_check": check,
                    "wget": ref,
                    "wget_runs_pages_per_second": [r["pages_per_second"] for r in ref_runs],
                    "wget_warcio_check": ref_check,
                    "requests_served_by_user_agent": served,
                    "load_average": {"before": load_before, "after": load_after},
                    "cpus": os.cpu_count(),
                    "server_latency_ms": args.latency_ms,
                    "profile": prof,
                    "stages": stages,
                },
                indent=2,
                ensure_ascii=False,
                default=str,
            )
        )
        print(f"\nwrote {out.relative_to(benchdb.BASE_DIR)}")
    finally:
        if worker is not None:
            worker.stop()
        with contextlib.suppress(Exception):
            _purge_queue()
        if not args.keep:
            with contextlib.suppress(Exception):
                _delete_cases(cases)
            shutil.rmtree(MEDIA_ROOT, ignore_errors=True)
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept: media {MEDIA_ROOT}, wget output {workdir}")


if __name__ == "__main__":
    main()
