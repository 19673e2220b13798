"""A data version for cached reads (monitoring.stores.data_version): every statement that
writes stores, business hours or polls bumps a sequence, holding an advisory lock
until its transaction ends, so a reader can tell whether the version it read has
all its writes committed."""

from django.db import migrations

TABLES = ("monitoring_store", "monitoring_businesshours", "monitoring_statuspoll")
# Taken BEFORE the statement touches a row: a writer waiting here holds no row locks.
FUNCTION = """
CREATE FUNCTION monitoring_data_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(%(key)s);
    PERFORM nextval('monitoring_data_version');
    RETURN NULL;
END $$;
"""
WRITER_LOCK_KEY = 0x75707469  # must equal monitoring.stores.data_version.WRITER_LOCK_KEY


def triggers(action: str) -> str:
    statements = []
    for table in TABLES:
        if action == "create":
            statements.append(
                f"CREATE TRIGGER {table}_data_written BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE"
                f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION monitoring_data_written();"
            )
        else:
            statements.append(f"DROP TRIGGER {table}_data_written ON {table};")
    return "\n".join(statements)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0008_statuspoll_natural_primary_key"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE monitoring_data_version;\n" + FUNCTION % {"key": WRITER_LOCK_KEY} + triggers("create"),
            triggers("drop") + "\nDROP FUNCTION monitoring_data_written();\nDROP SEQUENCE monitoring_data_version;",
        ),
    ]
