"""Issue #15: finished CSVs in the report storage (written, streamed, moved out of the
old column, deleted with their report), reports computed chunk by chunk in store_id
order, and the settings that choose the storage."""

import io
import os
import subprocess
import sys
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone as django_timezone

from monitoring.web.links import report_download_path
from monitoring.models import Report, ReportChunk
from monitoring.reports import report_compute, report_create, report_csv, report_csv_write, report_run, reports_prune
from monitoring.reports.compute import chunked_rows
from monitoring.kernel.storage import report_storage
from tests.factories import make_store, worked_example_store
from tests.processes import ROOT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def report_files(tmp_path, settings):
    folder = tmp_path / "reports"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": folder}},
    }
    return folder


def _stores_out_of_order():
    """Stores whose pk order is not their store_id order (code points: "B" < "a" < "é")."""
    noon = None
    for store_id in ("zeta", "é-accent", "B-upper", "alpha", "+formula", "10", "9", "a"):
        _, noon = worked_example_store(store_id)
    make_store("24x7-no-polls")
    return noon


def test_finished_csv_is_a_file_in_the_storage_not_a_column(report_files):
    noon = _stores_out_of_order()
    report = report_run(report_id=report_create(as_of=noon).id)
    assert report.status == Report.Status.COMPLETE
    expected = report_csv(rows=report_compute(as_of=noon).rows)
    assert Report.objects.filter(pk=report.pk).values_list("csv", flat=True).get() == ""
    assert (report_files / report.csv_file.name).read_text(encoding="utf-8") == expected
    assert report.csv == expected and report.store_count == 9


def test_chunks_follow_store_id_order_and_make_the_same_csv(settings):
    noon = _stores_out_of_order()
    single = report_run(report_id=report_create(as_of=noon).id)
    settings.REPORT_CHUNK_SIZE = 2
    chunked = report_create(as_of=noon)
    report_run(report_id=chunked.id)  # queued chunks (no worker here): run them by hand, last first
    from monitoring.reports import report_chunk_run

    chunks = list(ReportChunk.objects.filter(report=chunked).order_by("index"))
    assert len(chunks) == 5
    for chunk in reversed(chunks):
        report_chunk_run(chunk_id=chunk.pk)
    chunked.refresh_from_db()
    assert chunked.csv == single.csv
    ids_by_chunk = [
        sorted(chunked.rows.filter(store_id__in=_ids(chunk)).values_list("store_id", flat=True))
        for chunk in chunks
    ]
    flat = [store_id for ids in ids_by_chunk for store_id in ids]
    assert flat == sorted(flat)  # each chunk a run of consecutive store ids


def _ids(chunk):
    from monitoring.models import Store

    return list(Store.objects.filter(pk__in=chunk.store_pks).values_list("store_id", flat=True))


def test_streamed_csv_equals_the_whole_report(settings):
    noon = _stores_out_of_order()
    settings.REPORT_CHUNK_SIZE = 3
    out = io.StringIO()
    as_of, count = report_csv_write(out=out, as_of=noon)
    assert (as_of, count) == (noon, 9)
    assert out.getvalue() == report_csv(rows=report_compute(as_of=noon).rows)
    sizes = [len(rows) for rows in chunked_rows(as_of=noon, horizon=timedelta(hours=2))]
    assert sizes == [3, 3, 3]


def test_big_downloads_stream_small_ones_come_whole(client, settings):
    noon = _stores_out_of_order()
    report = report_run(report_id=report_create(as_of=noon).id)
    link = report_download_path(report_id=report.pk)
    small = client.get(link)
    assert not small.streaming and small.content.decode() == report.csv

    settings.REPORT_DOWNLOAD_STREAM_ABOVE = 100
    for response in (client.get(link), client.get("/get_report/", {"report_id": str(report.pk)})):
        assert response.streaming and response["Content-Type"] == "text/csv; charset=utf-8"
        assert int(response["Content-Length"]) == len(report.csv.encode())
        assert b"".join(response.streaming_content).decode() == report.csv


def test_old_csv_text_moves_to_the_storage(report_files):
    noon = _stores_out_of_order()
    report = report_run(report_id=report_create(as_of=noon).id)
    text = report.csv
    # A report finished before issue #15: its CSV in the column, no file.
    report_storage().delete(report.csv_file.name)
    Report.objects.filter(pk=report.pk).update(csv=text, csv_file="")
    assert Report.objects.get(pk=report.pk).csv == text  # read from the column meanwhile

    migration = import_module("monitoring.migrations.0015_report_csv_to_storage")
    migration.move_csv_out(apps, None)
    moved = Report.objects.get(pk=report.pk)
    assert Report.objects.filter(pk=report.pk).values_list("csv", flat=True).get() == ""
    assert (report_files / moved.csv_file.name).read_text(encoding="utf-8") == text == moved.csv


def test_pruned_reports_take_their_files(report_files):
    _, noon = worked_example_store()
    old = report_run(report_id=report_create(as_of=noon).id)
    recent = report_run(report_id=report_create(as_of=noon).id)
    Report.objects.filter(pk=old.pk).update(created_at=django_timezone.now() - timedelta(days=31))
    assert (report_files / old.csv_file.name).exists()
    assert reports_prune() == 1
    assert not (report_files / old.csv_file.name).exists()
    assert (report_files / recent.csv_file.name).exists()


def _settings_in_child(env: dict, expression: str) -> subprocess.CompletedProcess:
    # The settings module alone: django-storages need not be installed to check them.
    code = f"import config.settings as settings; print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_report_storage_is_chosen_by_the_environment(tmp_path):
    default = _settings_in_child({"REPORT_FILES_DIR": str(tmp_path)}, "settings.STORAGES['reports']")
    assert str(tmp_path) in default.stdout and "PerDatabaseFileSystemStorage" in default.stdout
    s3 = _settings_in_child(
        {"REPORT_STORAGE": "s3", "REPORT_S3_BUCKET": "reports", "REPORT_S3_ENDPOINT_URL": "http://minio:9000"},
        "settings.STORAGES['reports']['BACKEND'], settings.STORAGES['reports']['OPTIONS']['endpoint_url']",
    )
    assert s3.stdout.split() == ["storages.backends.s3.S3Storage", "http://minio:9000"]
    refused = _settings_in_child({"REPORT_STORAGE": "s3"}, "1")
    assert "REPORT_S3_BUCKET" in refused.stderr


# --------------------------------------------------------------------------- poll retention


def _hourly_polls(days: int):
    """Three stores polled hourly for `days` days up to 2023-01-25 12:00 UTC; returns that instant."""
    from datetime import datetime, timezone

    from tests.factories import add_polls

    end = datetime(2023, 1, 25, 12, tzinfo=timezone.utc)
    for index in range(3):
        store = make_store(f"hourly-{index}", zone="UTC")
        add_polls(store, [(end - timedelta(hours=hour), (hour + index) % 7 != 0) for hour in range(days * 24)])
    return end


def test_prune_polls_cuts_exactly_and_keeps_the_last_day(capsys):
    from django.core.management import call_command

    from monitoring.models import StatusPoll

    end = _hourly_polls(28)
    before = report_csv(rows=report_compute(as_of=end).rows)
    cut = end - timedelta(days=9, minutes=30)  # between two polls
    kept = StatusPoll.objects.filter(timestamp_utc__gte=cut).count()
    call_command("prune_polls", "--before", cut.isoformat())
    assert f"deleted {3 * 28 * 24 - kept} polls" in capsys.readouterr().out
    assert StatusPoll.objects.count() == kept and not StatusPoll.objects.filter(timestamp_utc__lt=cut).exists()
    # The report over what is kept (the last week and its horizon) is unchanged.
    assert report_csv(rows=report_compute(as_of=end).rows) == before


def test_retention_keeps_days_before_the_latest_poll(settings):
    from monitoring.models import StatusPoll
    from monitoring.stores.retention import polls_prune_by_retention

    end = _hourly_polls(20)
    settings.POLL_RETENTION_DAYS = 10
    # The data's clock, not the wall clock: historical data keeps its last 10 days.
    deleted = polls_prune_by_retention(now=django_timezone.now())
    oldest = StatusPoll.objects.order_by("timestamp_utc").values_list("timestamp_utc", flat=True).first()
    assert oldest == end - timedelta(days=10) and deleted == 3 * (20 * 24 - (10 * 24 + 1))
    assert polls_prune_by_retention(now=django_timezone.now()) == 0


def test_prune_polls_refuses_an_instant_without_offset():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--before: .*offset"):
        call_command("prune_polls", "--before", "2023-01-25T12:00:00")


# --------------------------------------------------------------------------- ready for Citus


#: Store-scoped tables whose keys do not lead to the store yet (docs/scaling.md says what
#: to change before distributing them by store): model label → what is missing.
KNOWN_CITUS_GAPS = {
    "monitoring.BusinessHours": {"primary key (id)"},
    "monitoring.SpecialHours": {"primary key (id)"},
    "alerts.Delivery": {"primary key (id)"},
}


def _citus_gaps() -> dict[str, set[str]]:
    """For every model with a foreign key to Store (the distribution column): its primary
    key and each unique constraint or unique field must include that column."""
    from monitoring.models import Store

    gaps: dict[str, set[str]] = {}
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        store_fields = {
            field.name
            for field in model._meta.concrete_fields
            if field.is_relation and field.related_model is Store
        }
        if not store_fields:
            continue
        missing = set()
        pk = model._meta.pk
        pk_names = {field.name for field in pk.fields} if hasattr(pk, "fields") else {pk.name}
        if not pk_names & store_fields:
            missing.add(f"primary key ({', '.join(sorted(pk_names))})")
        for constraint in model._meta.constraints:
            fields = set(getattr(constraint, "fields", ()) or ())
            if fields and not fields & store_fields:
                missing.add(f"unique constraint {constraint.name}")
        for field in model._meta.concrete_fields:
            if field.unique and not field.primary_key and field.name not in store_fields:
                missing.add(f"unique field {field.name}")
        if missing:
            gaps[model._meta.label] = missing
    return gaps


def test_store_scoped_tables_have_the_store_in_their_keys():
    """Citus distributes a table by a column that must be in its primary key and every
    unique constraint. The gaps found are exactly the known ones: a new gap fails here,
    and so does a fixed one (take it off KNOWN_CITUS_GAPS)."""
    assert _citus_gaps() == KNOWN_CITUS_GAPS


# --------------------------------------------------------------------------- read replicas

REPLICA_PROBE = """
import django
django.setup()
from django.db import connections
from django.test import RequestFactory
from config.db_router import GraphQLReplicaReadsMiddleware
from monitoring.models import Owner, Store

used = []

def spy(alias):
    def wrapper(execute, sql, params, many, context):
        if "monitoring_" in sql:  # not django.contrib.postgres's type lookups on connecting
            used.append((alias, sql.split()[0]))
        return execute(sql, params, many, context)
    return wrapper

def view(request):
    Store.objects.count()
    Owner.objects.filter(name="nobody").update(name="nobody")  # a write: later reads on the primary
    Store.objects.count()
    return None

with connections["default"].execute_wrapper(spy("default")), connections["replica"].execute_wrapper(spy("replica")):
    GraphQLReplicaReadsMiddleware(view)(RequestFactory().post("/graphql/"))
    print(used)
    used.clear()
    GraphQLReplicaReadsMiddleware(view)(RequestFactory().post("/trigger_report/"))
    print(used)
"""


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_graphql_reads_go_to_the_replica_until_the_request_writes():
    from tests.processes import test_database_url

    url = test_database_url()
    child = subprocess.run(
        [sys.executable, "-c", REPLICA_PROBE],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": url,
            "DATABASE_REPLICA_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 0, child.stderr
    graphql, other = child.stdout.strip().splitlines()
    assert graphql == str([("replica", "SELECT"), ("default", "UPDATE"), ("default", "SELECT")])
    assert other == str([("default", "SELECT"), ("default", "UPDATE"), ("default", "SELECT")])


def test_a_deferred_csv_read_then_saved_never_copies_the_file_into_the_column():
    _, noon = worked_example_store()
    report = report_run(report_id=report_create(as_of=noon).id)
    loaded = Report.objects.defer("csv").get(pk=report.pk)
    assert loaded.csv == report.csv  # the file's text
    loaded.save()
    assert Report.objects.filter(pk=report.pk).values_list("csv", flat=True).get() == ""
