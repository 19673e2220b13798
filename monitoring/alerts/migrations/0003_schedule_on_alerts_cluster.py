from django.conf import settings
from django.db import migrations

NAME = "alerts every minute"


def to_alerts_cluster(apps, schema_editor):
    # Run by the alerts cluster's scheduler: its tasks (the silence check, lost deliveries
    # queued again) go to the alerts queue, never between reports.
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).update(cluster=settings.Q_ALERT_CLUSTER)


def to_default_cluster(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).update(cluster=None)


class Migration(migrations.Migration):
    dependencies = [("alerts", "0002_schedule_every_minute")]

    operations = [migrations.RunPython(to_alerts_cluster, to_default_cluster)]
