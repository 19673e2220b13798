import os

from django.conf import settings
from django.core.management.base import BaseCommand

from monitoring.tools.processes import stop_everything


class Command(BaseCommand):
    help = (
        "Stop what `make run` started: every `serve` recorded under DATA_DIR/run/ (with its web "
        "server and worker) and, when DATABASE_URL is unset, the embedded PostgreSQL. "
        "`make stop` runs the same code as `python -m monitoring.tools.processes stop`, which does not "
        "load the settings (loading them starts the embedded PostgreSQL)."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        embedded = not os.environ.get("DATABASE_URL", "").strip()
        stop_everything(settings.DATA_DIR, embedded=embedded, say=self.stdout.write)
