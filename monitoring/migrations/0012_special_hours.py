"""Special hours (docs/rules.md §9): one row per special shift of a store on a local date (both
times null: closed all day); writes to it bump the data version like business hours
(migration 0009's trigger function)."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "monitoring_specialhours"


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0011_schedule_report_pruning"),
    ]

    operations = [
        migrations.CreateModel(
            name="SpecialHours",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                ("start_time_local", models.TimeField(blank=True, null=True)),
                ("end_time_local", models.TimeField(blank=True, null=True)),
                (
                    "store",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="special_hours",
                        to="monitoring.store",
                    ),
                ),
            ],
            options={
                "verbose_name_plural": "special hours",
                "ordering": ["store", "date", "start_time_local"],
                "indexes": [models.Index(fields=["date"], name="special_hours_date")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("store", "date", "start_time_local", "end_time_local"),
                        name="special_hours_unique_shift",
                        nulls_distinct=False,
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("end_time_local__isnull", True), ("start_time_local__isnull", True)),
                            models.Q(("end_time_local__isnull", False), ("start_time_local__isnull", False)),
                            _connector="OR",
                        ),
                        name="special_hours_both_times_or_neither",
                    ),
                ],
            },
        ),
        migrations.RunSQL(
            f"CREATE TRIGGER {TABLE}_data_written BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION monitoring_data_written();",
            f"DROP TRIGGER {TABLE}_data_written ON {TABLE};",
        ),
    ]
