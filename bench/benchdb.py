"""The benchmarks' own database: casefile_bench, created and migrated on demand.

Import this module before anything from Django: it points DATABASE_URL at the bench database
(never the dev database `casefile` or a test database) and then sets Django up.
"""

import math
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = Path(__file__).resolve().parent / "out"
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

BENCH_DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/casefile_bench"
)


def _check_name(url: str) -> str:
    name = urlparse(url).path.lstrip("/")
    # A typo in BENCH_DATABASE_URL must not load a million rows into real or test data.
    if name == "casefile" or name.startswith("test") or "bench" not in name:
        sys.exit(f"bench: refusing to use database {name!r}; its name must contain 'bench'")
    return name


def setup(*, migrate: bool = True) -> None:
    """Create and migrate the bench database, then django.setup() against it."""
    _check_name(BENCH_DATABASE_URL)
    # Overrides an inherited DATABASE_URL on purpose: the dev database is never the target.
    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    from newsroom.bootstrap import ensure_postgres

    ensure_postgres(BENCH_DATABASE_URL)
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
            cwd=BASE_DIR,
            env={**os.environ, "DATABASE_URL": BENCH_DATABASE_URL},
            check=True,
        )
    import django

    django.setup()
    from django.conf import settings

    # The test client's host; the only setting the benchmarks change.
    if "testserver" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]
