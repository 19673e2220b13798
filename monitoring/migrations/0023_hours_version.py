"""The hours version (monitoring.stores.data_version.hours_version_read): a sequence that
every statement writing weekly hours bumps, so that the weekly hours of the whole fleet
can be kept in a process while it does not move (zones and special hours are read with
each question; polls bump only the data version of migration 0009)."""

from django.db import migrations

TABLES = ("monitoring_businesshours",)

CREATE = """
CREATE SEQUENCE monitoring_hours_version;
CREATE FUNCTION monitoring_hours_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM nextval('monitoring_hours_version');
    RETURN NULL;
END $$;
""" + "".join(
    f"CREATE TRIGGER {table}_hours_written BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
    f" FOR EACH STATEMENT EXECUTE FUNCTION monitoring_hours_written();\n"
    for table in TABLES
)
DROP = "".join(f"DROP TRIGGER {table}_hours_written ON {table};\n" for table in TABLES) + (
    "DROP FUNCTION monitoring_hours_written();\nDROP SEQUENCE monitoring_hours_version;\n"
)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0022_pruned_polls_and_whole_days")]

    operations = [migrations.RunSQL(CREATE, DROP)]
