from django.apps import AppConfig


class SchedulesConfig(AppConfig):
    name = "monitoring.schedules"
    label = "schedules"
    verbose_name = "Scheduled reports"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from monitoring.schedules.sending import schedules_sweep
        from monitoring.worker.thread import register_sweep

        # Every worker's background thread (every REPORT_SWEEP_SECONDS): periods that
        # have ended get their report, finished reports their delivery, retries that
        # are due their task. Each step claims what it takes in the database.
        register_sweep(schedules_sweep)
