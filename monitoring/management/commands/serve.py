import os
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monitoring.tools.processes import (
    kill_group,
    port_problem,
    server_address,
    start_child,
    stop_process_group,
    web_server_command,
    write_run_record,
)
from monitoring.worker.supervisor import ClusterSupervisor, cluster_names, supervisors_stop

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    help = (
        "Serve the app (uvicorn: HTTP and the GraphQL WebSocket on one port) with its django-q2 worker clusters "
        "(qcluster: reports, and alerts) "
        "alongside, each cluster under a supervisor that restarts it when it exits or stops making progress "
        "(monitoring.worker.supervisor): what `make run` runs. Each is a child process in a process group of its "
        "own; Ctrl-C, SIGTERM (`make stop`) or the web server exiting stops them all."
    )
    requires_system_checks = []  # not needed to start children; each loads the settings itself

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, host, port, **options):
        # Fail fast, before anything starts: a second `make run` must leave nothing behind.
        problem = port_problem(host, port)
        if problem:
            raise CommandError(problem)

        children = {}
        clusters = []
        stop_signal = None

        def request_stop(signum, frame):
            nonlocal stop_signal
            if stop_signal is None:
                stop_signal = signum  # the loop below notices within 0.2 s
            else:  # a second signal while stopping: no more waiting
                for child in children.values():
                    kill_group(child.pid)
                for cluster in clusters:
                    if cluster.pgid is not None:
                        kill_group(cluster.pgid)

        # Set explicitly: a parent may have ignored SIGINT (nohup, `&` in some shells).
        for signum in STOP_SIGNALS:
            signal.signal(signum, request_stop)

        # Static files (the admin's, GraphiQL's) are served by WhiteNoise, DEBUG or not.
        web_server = web_server_command(host, port)
        record = None
        clusters.extend(
            ClusterSupervisor(name=name, data_dir=settings.DATA_DIR, say=self._say) for name in cluster_names()
        )

        def record_children():
            # Rewritten whenever a cluster is replaced: `make stop` kills the groups recorded.
            return write_run_record(
                settings.DATA_DIR, host=host, port=int(port), web=children["web server"].pid,
                workers=[cluster.pgid for cluster in clusters if cluster.pgid is not None],
            )

        try:
            for cluster in clusters:
                cluster.start()
            children["web server"] = start_child(web_server, cwd=settings.BASE_DIR)
            record = record_children()
            self.stdout.write(
                f"serving http://{server_address(host, port)}/ and ws://{server_address(host, port)}/graphql/ "
                f"(web server pid {children['web server'].pid}, "
                f"worker clusters {', '.join(f'{c.name} pid {c.pgid}' for c in clusters)}, supervised); "
                "Ctrl-C or `make stop` stops them all",
            )
            self.stdout.flush()
            while stop_signal is None:
                web = children["web server"]
                if web.poll() is not None:
                    raise CommandError(f"the web server exited (code {web.returncode}); stopping the rest")
                if any([cluster.watch() for cluster in clusters]):
                    record = record_children()
                time.sleep(0.2)
        finally:
            # Web server first (no new requests), then the clusters together (each finishes
            # or hands back its tasks); each signalled, waited for, then its group killed.
            if "web server" in children:
                stop_process_group(children["web server"])
            supervisors_stop(clusters, timeout=30)
            if record is not None:
                record.unlink(missing_ok=True)
        self.stdout.write(f"stopped ({signal.Signals(stop_signal).name}): web server and workers")

    def _say(self, message: str) -> None:
        self.stderr.write(message)
        self.stderr.flush()
