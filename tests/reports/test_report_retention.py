"""Report retention: old reports are pruned with their rows, daily on the workers; a
pruned report's signed link answers 410 and its id 404."""

import importlib
import json
from datetime import timedelta

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone as django_timezone
from monitoring.models import Owner, Report, ReportChunk, ReportRow
from monitoring.reports import report_create, report_run, reports_prune
from monitoring.stores.access import token_create
from monitoring.web.links import report_download_path

from tests.factories import worked_example_store
from tests.graphql_client import live_request


def _complete_report(*, owner=None, age: timedelta) -> Report:
    report = report_create(owner_id=owner.pk if owner else None)
    report_run(report_id=report.id)
    Report.objects.filter(pk=report.pk).update(created_at=django_timezone.now() - age)
    report.refresh_from_db()
    assert report.status == Report.Status.COMPLETE and report.rows.exists() and report.chunks.exists()
    return report


@pytest.mark.django_db
def test_old_reports_are_pruned_with_their_rows_and_links_answer_410(client):
    worked_example_store("s1")
    owner = Owner.objects.create(name="o")
    store, _ = worked_example_store("o1")
    store.owner = owner
    store.save()
    _, raw = token_create(name="t", owner=owner)
    old = _complete_report(age=timedelta(days=31))
    old_owned = _complete_report(owner=owner, age=timedelta(days=30, minutes=1))
    recent = _complete_report(owner=owner, age=timedelta(days=29))
    links = {report.pk: report_download_path(report_id=report.pk) for report in (old, old_owned, recent)}

    assert reports_prune() == 2
    assert list(Report.objects.values_list("pk", flat=True)) == [recent.pk]
    assert not ReportRow.objects.filter(report_id__in=[old.pk, old_owned.pk]).exists()
    assert not ReportChunk.objects.filter(report_id__in=[old.pk, old_owned.pk]).exists()
    assert reports_prune() == 0

    for pruned in (old, old_owned):
        response = client.get(links[pruned.pk])
        assert response.status_code == 410
        assert response.json()["error"] == "this report has been deleted"
    assert client.get(links[recent.pk]).status_code == 200

    # Its id is as unknown as any: REST, GraphQL and the report page.
    headers = {"Authorization": f"Bearer {raw}"}
    response = client.get("/get_report/", {"report_id": str(old_owned.pk)}, headers=headers)
    assert response.status_code == 404
    answer = client.post(
        "/graphql/",
        {"query": "query($id: ID!) { report(id: $id) { id } }", "variables": {"id": str(old_owned.pk)}},
        content_type="application/json",
        headers=headers,
    ).json()
    assert answer["errors"][0]["message"] == f"report not found: {old_owned.pk}"
    assert client.get(f"/reports/{old_owned.pk}/", headers=headers).status_code == 404
    # A link that never was a report's stays refused as before.
    assert client.get(links[recent.pk][:-3] + "xx/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_pruned_reports_link_answers_410_over_http(live_server):
    """The same rule through a real server: the link worked, the report is pruned, the
    link answers 410 and the report's id 404."""
    owner = Owner.objects.create(name="o")
    store, _ = worked_example_store("o1")
    store.owner = owner
    store.save()
    _, raw = token_create(name="t", owner=owner)
    report = _complete_report(owner=owner, age=timedelta(days=31))
    link = live_server.url + report_download_path(report_id=report.pk)
    assert reports_prune() == 1
    status, _, text = live_request(link)
    assert status == 410 and json.loads(text)["error"] == "this report has been deleted"
    status, _, _ = live_request(f"{live_server.url}/get_report/?report_id={report.pk}", token=raw)
    assert status == 404


@pytest.mark.django_db
def test_retention_is_a_setting_and_now_can_be_given():
    worked_example_store("s1")
    report = _complete_report(age=timedelta(days=3))
    with override_settings(REPORT_RETENTION_DAYS=7):
        assert reports_prune() == 0
        assert reports_prune(now=django_timezone.now() + timedelta(days=5)) == 1
    assert not Report.objects.filter(pk=report.pk).exists()


@pytest.mark.django_db
def test_pruning_runs_daily_on_the_workers():
    from django_q.models import Schedule
    from monitoring import tasks

    migration = importlib.import_module("monitoring.migrations.0011_schedule_report_pruning")
    migration.create_schedule(apps, None)  # idempotent; the test database may have been flushed
    schedule = Schedule.objects.get(name=migration.NAME)
    assert schedule.schedule_type == Schedule.DAILY and schedule.repeats == -1
    module, _, name = schedule.func.rpartition(".")
    assert importlib.import_module(module) is tasks and getattr(tasks, name)() == 0


@pytest.mark.django_db
def test_a_report_deleted_anywhere_takes_its_rows():
    """Rows have no foreign key in the database (models.ReportRow): a report deleted
    through the ORM (the admin, a shell) still takes its weekly and range rows."""
    from monitoring.models import ReportRangeRow

    _, noon = worked_example_store("s1")
    weekly = report_run(report_id=report_create(as_of=noon).id)
    ranged = report_run(report_id=report_create(range_start=noon - timedelta(days=2), as_of=noon).id)
    kept = report_run(report_id=report_create(as_of=noon).id)
    assert weekly.rows.count() == ranged.range_rows.count() == kept.rows.count() == 1
    Report.objects.filter(pk__in=[weekly.pk, ranged.pk]).delete()
    assert not ReportRow.objects.filter(report_id=weekly.pk).exists()
    assert not ReportRangeRow.objects.filter(report_id=ranged.pk).exists()
    assert kept.rows.count() == 1
