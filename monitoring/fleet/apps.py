from django.apps import AppConfig


class FleetConfig(AppConfig):
    name = "monitoring.fleet"
    label = "fleet"
    verbose_name = "Fleet summary"
    default_auto_field = "django.db.models.BigAutoField"
