"""Expected revenue per store and local hour (docs/rules.md §13): writes to it bump the data
version like hours (migration 0009's trigger function), so cached figures never outlive
them; range report rows gain lost revenue, and a range report whether its CSV has those
columns."""

import django.db.models.deletion
from django.db import migrations, models

TABLE = "monitoring_storerevenue"


class Migration(migrations.Migration):

    dependencies = [
        ('monitoring', '0023_hours_version'),
    ]

    operations = [
        migrations.AddField(
            model_name='report',
            name='revenue_columns',
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name='reportrangerow',
            name='lost_revenue_cents',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='reportrangerow',
            name='revenue_at_risk_cents',
            field=models.BigIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name='reportrangerow',
            name='revenue_currency',
            field=models.CharField(blank=True, max_length=3, null=True),
        ),
        migrations.CreateModel(
            name='StoreRevenue',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day_of_week', models.PositiveSmallIntegerField()),
                ('hour', models.PositiveSmallIntegerField()),
                ('expected_revenue', models.DecimalField(decimal_places=2, max_digits=12)),
                ('currency', models.CharField(default='USD', max_length=3)),
                ('store', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='revenue', to='monitoring.store')),
            ],
            options={
                'verbose_name': 'expected revenue',
                'verbose_name_plural': 'expected revenue',
                'ordering': ['store', 'day_of_week', 'hour'],
                'constraints': [models.UniqueConstraint(fields=('store', 'day_of_week', 'hour'), name='store_revenue_unique_hour'), models.CheckConstraint(condition=models.Q(('day_of_week__gte', 0), ('day_of_week__lte', 6)), name='store_revenue_day_of_week_range'), models.CheckConstraint(condition=models.Q(('hour__gte', 0), ('hour__lte', 23)), name='store_revenue_hour_range'), models.CheckConstraint(condition=models.Q(('expected_revenue__gte', 0)), name='store_revenue_not_negative'), models.CheckConstraint(condition=models.Q(('currency__regex', '^[A-Z]{3}$')), name='store_revenue_currency_code')],
            },
        ),
        migrations.RunSQL(
            f"CREATE TRIGGER {TABLE}_data_written BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE"
            f" ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION monitoring_data_written();",
            f"DROP TRIGGER {TABLE}_data_written ON {TABLE};",
        ),
    ]
