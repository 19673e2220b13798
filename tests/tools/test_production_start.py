"""A production start without SECRET_KEY says so in one line and exits non-zero: from
manage.py (runserver, qcluster, migrate …) and from the WSGI and ASGI modules a server imports."""

import os
import subprocess
import sys

import pytest

from tests.processes import ROOT


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env["DJANGO_ENV"] = "production"
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("manage.py", "check"), ("manage.py", "migrate", "--check")])
def test_manage_py_says_it_in_one_line(args):
    result = run(*args)
    assert result.returncode == 1
    assert result.stderr == (
        "manage.py: SECRET_KEY must be set when DJANGO_ENV=production (see README, Configuration)\n"
    )


def test_the_wsgi_module_says_it_in_one_line_and_stops_gunicorn():
    result = run("-c", "import config.wsgi")
    assert result.returncode == 3  # gunicorn: "worker failed to boot", the server stops
    assert result.stderr == (
        "config.wsgi: SECRET_KEY must be set when DJANGO_ENV=production (see README, Configuration)\n"
    )


def test_the_asgi_module_says_it_in_one_line_and_stops_the_server():
    result = run("-c", "import config.asgi")
    assert result.returncode == 3
    assert result.stderr == (
        "config.asgi: SECRET_KEY must be set when DJANGO_ENV=production (see README, Configuration)\n"
    )
