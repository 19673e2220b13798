import os
import signal
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monitoring.tools.processes import (
    kill_group,
    port_problem,
    server_address,
    start_child,
    stop_process_group,
    write_run_record,
)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    help = (
        "Serve the app (runserver) with its django-q2 worker (qcluster) alongside: what `make run` runs. "
        "Both are child processes in process groups of their own; Ctrl-C, SIGTERM (`make stop`) or "
        "either child exiting stops both."
    )
    requires_system_checks = []  # runserver runs them, in its own process

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, host, port, **options):
        # Fail fast, before anything starts: a second `make run` must leave nothing behind.
        problem = port_problem(host, port)
        if problem:
            raise CommandError(problem)

        children = {}
        stop_signal = None

        def request_stop(signum, frame):
            nonlocal stop_signal
            if stop_signal is None:
                stop_signal = signum  # the loop below notices within 0.2 s
            else:  # a second signal while stopping: no more waiting
                for child in children.values():
                    kill_group(child.pid)

        # Set explicitly: a parent may have ignored SIGINT (nohup, `&` in some shells).
        for signum in STOP_SIGNALS:
            signal.signal(signum, request_stop)

        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        runserver = [*manage, "runserver", server_address(host, port), "--noreload"]
        if "whitenoise.middleware.WhiteNoiseMiddleware" not in settings.MIDDLEWARE:
            runserver.append("--insecure")  # serve the admin's and GraphiQL's static files without DEBUG
        record = None
        try:
            children["worker"] = start_child([*manage, "qcluster"])
            children["web server"] = start_child(runserver)
            record = write_run_record(
                settings.DATA_DIR, host=host, port=int(port),
                web=children["web server"].pid, worker=children["worker"].pid,
            )
            self.stdout.write(
                f"serving http://{server_address(host, port)}/ (web server pid {children['web server'].pid}, "
                f"worker pid {children['worker'].pid}); Ctrl-C or `make stop` stops both",
            )
            self.stdout.flush()
            while stop_signal is None:
                for name, child in children.items():
                    if child.poll() is not None:
                        raise CommandError(f"the {name} exited (code {child.returncode}); stopping the rest")
                time.sleep(0.2)
        finally:
            # Web server first (no new requests), then the worker (finishes or hands back
            # its task); each signalled, waited for, then its whole group killed.
            for name in ("web server", "worker"):
                if name in children:
                    stop_process_group(children[name])
            if record is not None:
                record.unlink(missing_ok=True)
        self.stdout.write(f"stopped ({signal.Signals(stop_signal).name}): web server and worker")
