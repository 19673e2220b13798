"""The proxy's X-Forwarded-Proto is believed only when TRUSTED_PROXY=1: a client cannot
claim HTTPS."""

import os
import secrets
import subprocess
import sys

import pytest
from django.test import override_settings

from tests.processes import ROOT


def _settings_value(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV", "TRUSTED_PROXY"}}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_forwarded_proto_is_believed_only_behind_a_trusted_proxy():
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    production = {"DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50)}
    assert _settings_value(code, **production) == "None"
    assert _settings_value(code, **production, TRUSTED_PROXY="1") == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert _settings_value(code, **production, TRUSTED_PROXY="0") == "None"
    assert _settings_value(code) == "None"  # development
    retention = "from django.conf import settings; print(settings.REPORT_RETENTION_DAYS)"
    assert _settings_value(retention) == "30"
    assert _settings_value(retention, REPORT_RETENTION_DAYS="7") == "7"


@pytest.mark.django_db
def test_a_client_cannot_claim_https_without_a_trusted_proxy(client):
    """With SECURE_PROXY_SSL_HEADER unset, X-Forwarded-Proto: https does not make a
    plain request secure (it would under TRUSTED_PROXY=1)."""
    from django.test import RequestFactory

    request = RequestFactory().get("/", headers={"X-Forwarded-Proto": "https"})
    with override_settings(SECURE_PROXY_SSL_HEADER=None):
        assert not request.is_secure()
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        assert request.is_secure()
