"""The first thing a process does: load the settings, and when they are wrong (a
production start without SECRET_KEY, an unknown DJANGO_ENV) say so in one line and exit
non-zero, instead of the traceback Django prints for an error raised at import."""

import os
import sys


def settings_or_exit(program: str, *, status: int = 1) -> None:
    """Loads the settings; on `ImproperlyConfigured`, writes `<program>: <why>` to
    stderr and exits with `status` (manage.py; the WSGI and ASGI modules a server imports)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    try:
        settings.INSTALLED_APPS  # noqa: B018  (loads config.settings)
    except ImproperlyConfigured as error:
        sys.stderr.write(f"{program}: {error} (see README, Configuration)\n")
        sys.stderr.flush()
        raise SystemExit(status) from None
