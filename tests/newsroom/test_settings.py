"""Settings: production mode passes `check --deploy`; bad configuration fails loudly."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "CASEFILE_MODE": "production",
    "SECRET_KEY": "k" * 20 + "-production-secret-for-the-deploy-check-" + "z" * 20,
    "ALLOWED_HOSTS": "casefile.example.org",
    "DJANGO_SETTINGS_MODULE": "newsroom.settings",
}


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_in_production_mode():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_a_missing_secret_key():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


def test_malformed_values_raise_improperly_configured():
    result = _manage(
        "check",
        env={"DATABASE_URL": "sqlite:///x.db", "DJANGO_SETTINGS_MODULE": "newsroom.settings"},
    )
    assert "DATABASE_URL must point at PostgreSQL" in result.stderr
    result = _manage(
        "check", env={"CASEFILE_MODE": "prod", "DJANGO_SETTINGS_MODULE": "newsroom.settings"}
    )
    assert "CASEFILE_MODE must be development or production" in result.stderr


def test_load_demo_refuses_production():
    result = _manage("load_demo", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "not in production" in result.stderr
