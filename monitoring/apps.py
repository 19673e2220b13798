from django.apps import AppConfig


def _start_report_failover(**_signal_arguments) -> None:
    from monitoring.reports.failover import start_worker_thread

    start_worker_thread()


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Store monitoring"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        # Each django-q2 worker process runs the report failover thread (heartbeats and the
        # chunk sweep, monitoring.reports.failover) from its start.
        post_spawn.connect(_start_report_failover, dispatch_uid="monitoring.report_failover")
