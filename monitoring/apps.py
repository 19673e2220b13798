from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Store monitoring"

    def ready(self) -> None:
        # Models of the app kept in their own packages, registered before anything runs.
        import monitoring.audit.models  # noqa: F401
        import monitoring.organizations.models  # noqa: F401
        from django_q.signals import post_execute_in_worker, post_spawn, pre_execute

        from monitoring.reports.failover import chunks_sweep
        from monitoring.worker import beats
        from monitoring.worker import thread as worker_thread

        # Each django-q2 worker process runs the background thread from its start: it
        # beats for the report chunk at hand and sweeps for chunks gone silent.
        worker_thread.register_sweep(chunks_sweep)
        post_spawn.connect(worker_thread.start, dispatch_uid="monitoring.worker_thread")
        # A supervised cluster's workers beat for their supervisor (monitoring.worker.supervisor).
        post_spawn.connect(beats.beats_start, dispatch_uid="monitoring.worker.beats")
        pre_execute.connect(beats.task_started, dispatch_uid="monitoring.worker.beats.start")
        post_execute_in_worker.connect(beats.task_finished, dispatch_uid="monitoring.worker.beats.end")
