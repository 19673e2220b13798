"""Finished CSVs kept in the report row's text column go to the report storage
; the column is emptied. Reading `report.csv` works from either place
meanwhile (monitoring.models.StoredCsvField), so a report missed here still downloads."""

from django.core.files.base import ContentFile
from django.db import migrations

_BATCH = 50


def move_csv_out(apps, schema_editor):
    from monitoring.kernel.storage import report_storage

    Report = apps.get_model("monitoring", "Report")
    storage = report_storage()
    while True:
        batch = list(Report.objects.exclude(csv="").only("pk", "csv")[:_BATCH])  # one batch of texts in memory
        if not batch:
            return
        for report in batch:
            name = f"{report.pk}.csv"
            if storage.exists(name):
                storage.delete(name)
            saved = storage.save(name, ContentFile(report.csv.encode("utf-8"), name=name))
            Report.objects.filter(pk=report.pk).update(csv_file=saved, csv="")


def move_csv_back(apps, schema_editor):
    from monitoring.kernel.storage import report_storage

    Report = apps.get_model("monitoring", "Report")
    storage = report_storage()
    for pk, name in Report.objects.exclude(csv_file="").values_list("pk", "csv_file").iterator():
        with storage.open(name, "rb") as handle:
            Report.objects.filter(pk=pk).update(csv=handle.read().decode("utf-8"), csv_file="")
        storage.delete(name)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0014_report_files_and_chunk_heartbeats")]

    operations = [migrations.RunPython(move_csv_out, move_csv_back)]
