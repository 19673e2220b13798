"""Production settings are safe: `check --deploy` passes, a real SECRET_KEY is required."""

import os
import secrets
import subprocess
import sys

from tests.processes import ROOT


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV"}}
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )


def test_production_settings_pass_check_deploy():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="uptime.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", DJANGO_ENV="production")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr


def test_production_turns_anonymous_api_access_off():
    code = "from django.conf import settings; print(settings.API_ANONYMOUS_ACCESS, settings.DEBUG)"
    production = manage("shell", "-c", code, DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(50))
    assert production.stdout.split()[-2:] == ["False", "False"], production.stderr
    development = manage("shell", "-c", code)
    assert development.stdout.split()[-2:] == ["True", "False"], development.stderr
