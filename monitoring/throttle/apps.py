from django.apps import AppConfig


class ThrottleConfig(AppConfig):
    name = "monitoring.throttle"
    label = "throttle"
    verbose_name = "Abuse limits"
    default_auto_field = "django.db.models.BigAutoField"
