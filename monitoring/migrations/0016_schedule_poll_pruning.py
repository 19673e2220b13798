from django.db import migrations

NAME = "prune old polls"


def create_schedule(apps, schema_editor):
    # Daily: polls older than POLL_RETENTION_DAYS are deleted (monitoring.stores.retention).
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults={"func": "monitoring.tasks.prune_old_polls", "schedule_type": "D", "repeats": -1},
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0015_report_csv_to_storage"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
