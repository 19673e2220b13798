from django.db import migrations

NAME = "prune old reports"


def create_schedule(apps, schema_editor):
    # Daily: reports older than REPORT_RETENTION_DAYS are deleted (monitoring.reports.reports_prune).
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "monitoring.tasks.prune_old_reports", "schedule_type": "D", "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0010_statuspoll_time_brin"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
