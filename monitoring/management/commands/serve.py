import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from monitoring.processes import stop_process_group


class Command(BaseCommand):
    help = "Serve the app with its django-q2 worker (qcluster) alongside: what `make run` runs."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, host, port, **options):
        # Ctrl-C and SIGTERM (e.g. from a process manager) both unwind through `finally`, so
        # the worker is stopped too (SIGINT is set explicitly: a parent may have ignored it).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        # Its own process group: on the way out, nothing of the cluster can be left behind.
        worker = subprocess.Popen(
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "qcluster"], start_new_session=True
        )
        self.stdout.write(f"worker started (pid {worker.pid}); open http://{host}:{port}/")
        try:
            # --insecure: serve the admin's and GraphiQL's static files without DEBUG.
            call_command("runserver", f"{host}:{port}", use_reloader=False, insecure_serving=True)
        finally:
            stop_process_group(worker)
