"""Finished report CSVs live in the report storage: written there, streamed, moved out
of the old column, deleted with their report; the storage chosen by the settings."""

import io
import os
import subprocess
import sys
from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.utils import timezone as django_timezone
from monitoring.kernel.storage import report_storage
from monitoring.models import Report
from monitoring.reports import (
    report_compute,
    report_create,
    report_csv,
    report_csv_write,
    report_run,
    reports_prune,
)
from monitoring.reports.compute import chunked_tables
from monitoring.web.links import report_download_path

from tests.factories import _stores_out_of_order, worked_example_store
from tests.processes import ROOT

pytestmark = pytest.mark.django_db


def test_finished_csv_is_a_file_in_the_storage_not_a_column(report_files):
    noon = _stores_out_of_order()
    report = report_run(report_id=report_create(as_of=noon).id)
    assert report.status == Report.Status.COMPLETE
    expected = report_csv(rows=report_compute(as_of=noon).rows)
    assert Report.objects.filter(pk=report.pk).values_list("csv", flat=True).get() == ""
    assert (report_files / report.csv_file.name).read_text(encoding="utf-8") == expected
    assert report.csv == expected and report.store_count == 9


def test_streamed_csv_equals_the_whole_report(settings):
    noon = _stores_out_of_order()
    settings.REPORT_CHUNK_SIZE = 3
    out = io.StringIO()
    as_of, count = report_csv_write(out=out, as_of=noon)
    assert (as_of, count) == (noon, 9)
    assert out.getvalue() == report_csv(rows=report_compute(as_of=noon).rows)
    sizes = [len(rows) for rows in chunked_tables(as_of=noon, horizon=timedelta(hours=2))]
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
    # A report finished before the report storage: its CSV in the column, no file.
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


def test_a_deferred_csv_read_then_saved_never_copies_the_file_into_the_column():
    _, noon = worked_example_store()
    report = report_run(report_id=report_create(as_of=noon).id)
    loaded = Report.objects.defer("csv").get(pk=report.pk)
    assert loaded.csv == report.csv  # the file's text
    loaded.save()
    assert Report.objects.filter(pk=report.pk).values_list("csv", flat=True).get() == ""
