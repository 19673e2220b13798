import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monitoring.tools.processes import kill_group
from monitoring.worker.supervisor import ClusterSupervisor, cluster_names, supervisors_stop

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    help = (
        "Run the django-q2 worker clusters (reports and alerts, or the ones named with --cluster), each "
        "under a supervisor that restarts it when it exits, has a stopped or unreplaced dead process, or "
        "leaves tasks waiting while none starts (monitoring.worker.supervisor). For production, e.g. as a systemd "
        "service (KillMode=mixed: SIGTERM reaches this process, which stops the clusters in order). "
        "SIGTERM or Ctrl-C stops the clusters and exits."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--cluster", action="append", choices=cluster_names(), dest="names",
            help="a cluster to run (repeatable; default: all of them)",
        )

    def handle(self, *args, names=None, **options):
        clusters = [ClusterSupervisor(name=name, data_dir=settings.DATA_DIR, say=self._say) for name in names or cluster_names()]
        stop_signal = None

        def request_stop(signum, frame):
            nonlocal stop_signal
            if stop_signal is None:
                stop_signal = signum
            else:  # a second signal while stopping: no more waiting
                for cluster in clusters:
                    if cluster.pgid is not None:
                        kill_group(cluster.pgid)

        for signum in STOP_SIGNALS:
            signal.signal(signum, request_stop)
        try:
            for cluster in clusters:
                cluster.start()
            self._say("supervising " + ", ".join(f"the {c.name} cluster (pid {c.pgid})" for c in clusters))
            while stop_signal is None:
                for cluster in clusters:
                    cluster.watch()
                time.sleep(0.2)
        except KeyboardInterrupt:  # a signal before the handlers were set
            raise CommandError("interrupted") from None
        finally:
            supervisors_stop(clusters, timeout=30)
        self._say(f"stopped ({signal.Signals(stop_signal).name}): " + ", ".join(c.name for c in clusters))

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
