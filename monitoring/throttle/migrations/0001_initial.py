from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="RateCounter",
            fields=[
                ("key", models.TextField(primary_key=True, serialize=False)),
                ("window_index", models.BigIntegerField()),
                ("hits", models.IntegerField()),
                ("previous_hits", models.IntegerField()),
            ],
            options={"verbose_name": "rate counter"},
        ),
        # Counters need no crash safety: no WAL, so a hit's commit waits for no flush.
        migrations.RunSQL(
            "ALTER TABLE throttle_ratecounter SET UNLOGGED",
            reverse_sql="ALTER TABLE throttle_ratecounter SET LOGGED",
        ),
    ]
