"""Admin names only (no schema change): "business hours" (not "business hourss") and
"API token" (not "api token")."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0012_special_hours"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="apitoken",
            options={"ordering": ["-created_at"], "verbose_name": "API token"},
        ),
        migrations.AlterModelOptions(
            name="businesshours",
            options={
                "ordering": ["store", "day_of_week", "start_time_local"],
                "verbose_name": "business hours",
                "verbose_name_plural": "business hours",
            },
        ),
    ]
