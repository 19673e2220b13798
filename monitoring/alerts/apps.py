from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "monitoring.alerts"
    label = "alerts"
    verbose_name = "Alerts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.alerts.delivery import deliveries_retry_due
        from monitoring.alerts.escalation_check import incidents_escalate
        from monitoring.alerts.evaluation import on_file_polls_stored, on_live_polls_stored
        from monitoring.ingest.signals import file_polls_stored, live_polls_stored
        from monitoring.worker.thread import register_sweep

        # Retries that are due are queued by each worker's background thread (every
        # REPORT_SWEEP_SECONDS), not by django-q2's scheduler, which looks every 30 s.
        register_sweep(deliveries_retry_due)
        # Escalations too: a step is sent within a sweep of becoming due, not a minute.
        register_sweep(incidents_escalate)
        live_polls_stored.connect(on_live_polls_stored, dispatch_uid="alerts-live-polls")
        file_polls_stored.connect(on_file_polls_stored, dispatch_uid="alerts-file-polls")
