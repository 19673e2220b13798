"""The poll table becomes partitioned by range of timestamp_utc: one
partition per UTC week (monitoring.stores.partitions names and creates them), a DEFAULT
partition for strays. The existing rows are copied week by week into a new
partitioned table, which then takes the old one's name, primary key, BRIN index, the
data-version trigger (migration 0009; statement triggers on the parent fire for
every write through it) and the admin's view (migration 0008), which is bound to the
old table and is created again."""

from django.db import migrations

TABLE = "monitoring_statuspoll"
OLD = "monitoring_statuspoll_unpartitioned"
VIEW = """
CREATE VIEW monitoring_statuspoll_rows AS
SELECT store_id || '@' || ((extract(epoch FROM timestamp_utc - '2000-01-01 00:00:00+00') * 1000000)::bigint) AS key,
       store_id, timestamp_utc, is_active
FROM monitoring_statuspoll;
"""
TRIGGER = (
    f"CREATE TRIGGER {TABLE}_data_written BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE"
    f" ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION monitoring_data_written();"
)
BRIN = f"CREATE INDEX status_poll_time_brin ON {TABLE} USING brin (timestamp_utc) WITH (autosummarize = on, pages_per_range = 32);"

TO_PARTITIONED = f"""
DROP VIEW monitoring_statuspoll_rows;
ALTER TABLE {TABLE} RENAME TO {OLD};
ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey;
DROP INDEX status_poll_time_brin;
DROP TRIGGER {TABLE}_data_written ON {OLD};
CREATE TABLE {TABLE} (
    store_id bigint NOT NULL,
    timestamp_utc timestamp with time zone NOT NULL,
    is_active boolean NOT NULL,
    CONSTRAINT {TABLE}_pkey PRIMARY KEY (store_id, timestamp_utc)
) PARTITION BY RANGE (timestamp_utc);
{BRIN}
CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT;
DO $$
DECLARE
    week timestamptz;
BEGIN
    -- One partition per UTC week holding polls (monitoring.stores.partitions.partition_name).
    FOR week IN
        SELECT generate_series(date_trunc('week', min(timestamp_utc) AT TIME ZONE 'UTC'),
                               max(timestamp_utc) AT TIME ZONE 'UTC', interval '7 days') AT TIME ZONE 'UTC'
        FROM {OLD} HAVING count(*) > 0
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF {TABLE} FOR VALUES FROM (%L) TO (%L)',
                       '{TABLE}_p' || to_char(week AT TIME ZONE 'UTC', 'IYYY"w"IW'), week, week + interval '7 days');
    END LOOP;
END $$;
INSERT INTO {TABLE} (store_id, timestamp_utc, is_active)
    SELECT store_id, timestamp_utc, is_active FROM {OLD} ORDER BY timestamp_utc;
DROP TABLE {OLD};
{TRIGGER}
{VIEW}
ANALYZE {TABLE};
"""

TO_PLAIN = f"""
DROP VIEW monitoring_statuspoll_rows;
ALTER TABLE {TABLE} RENAME TO {OLD};
ALTER TABLE {OLD} RENAME CONSTRAINT {TABLE}_pkey TO {OLD}_pkey;
ALTER INDEX status_poll_time_brin RENAME TO {OLD}_time_brin;
CREATE TABLE {TABLE} (
    store_id bigint NOT NULL,
    timestamp_utc timestamp with time zone NOT NULL,
    is_active boolean NOT NULL,
    CONSTRAINT {TABLE}_pkey PRIMARY KEY (store_id, timestamp_utc)
);
INSERT INTO {TABLE} SELECT store_id, timestamp_utc, is_active FROM {OLD} ORDER BY timestamp_utc;
DROP TABLE {OLD};
{BRIN}
{TRIGGER}
{VIEW}
"""


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0016_schedule_poll_pruning"),
    ]

    operations = [migrations.RunSQL(TO_PARTITIONED, TO_PLAIN)]
