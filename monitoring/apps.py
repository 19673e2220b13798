from django.apps import AppConfig


def _start_report_failover(**_signal_arguments) -> None:
    from monitoring.reports.failover import start_worker_thread

    start_worker_thread()


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Store monitoring"

    def ready(self) -> None:
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute

        from monitoring import worker_beats

        # Each django-q2 worker process runs the report failover thread (heartbeats and the
        # chunk sweep, monitoring.reports.failover) from its start.
        post_spawn.connect(_start_report_failover, dispatch_uid="monitoring.report_failover")
        # A supervised cluster's workers beat for their supervisor (monitoring.supervisor).
        post_spawn.connect(worker_beats.beats_start, dispatch_uid="monitoring.worker_beats")
        pre_execute.connect(worker_beats.task_started, dispatch_uid="monitoring.worker_beats.start")
        post_execute_in_worker.connect(worker_beats.task_finished, dispatch_uid="monitoring.worker_beats.end")
