"""Tenancy (issue #12, SPEC §8): per-caller default as_of over real HTTP, retention of
reports (410 for the signed link of a pruned report, 404 for its id), and the proxy
header believed only when TRUSTED_PROXY=1."""

import importlib
import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest
from django.apps import apps
from django.test import override_settings
from django.utils import timezone as django_timezone

from monitoring.stores.access import EVERYTHING, Access, token_create
from monitoring.web.links import report_download_path
from monitoring.models import Owner, Report, ReportChunk, ReportRow
from monitoring.reports import report_create, report_run, reports_prune
from monitoring.stores.selectors import latest_poll_timestamp
from tests.factories import add_polls, make_store, worked_example_store
from tests.processes import ROOT

UTC = timezone.utc
# The worked example's polls are 15:14 and 16:15 UTC on 2023-01-25: T is the later one.
T = datetime(2023, 1, 25, 16, 15, tzinfo=UTC)
LATER = T + timedelta(hours=1)


# --------------------------------------------------------------------------- over HTTP


def http(url: str, *, token: str | None = None, body: dict | None = None, accept: str = "application/json"):
    """(status, headers, body text) of one real HTTP request to the live server."""
    headers = {"Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def graphql(base: str, query: str, *, token: str, variables: dict | None = None) -> dict:
    status, _, text = http(f"{base}/graphql/", token=token, body={"query": query, "variables": variables or {}})
    assert status == 200, text
    answer = json.loads(text)
    assert "errors" not in answer, answer
    return answer["data"]


UPTIME_AS_OF = 'query($id: ID!) { store(id: $id) { uptime { asOf } } }'


def uptime_as_of(base: str, token: str, store_id: str) -> str:
    return graphql(base, UPTIME_AS_OF, token=token, variables={"id": store_id})["store"]["uptime"]["asOf"]


def iso(moment: datetime) -> str:
    """As the API writes an instant (graphql_schema.common.scalars.rfc3339)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def two_owners():
    """Owners A (store a1) and B (stores b1, b2), each with the worked example's polls up
    to T, and a token each, plus a staff token."""
    a, b = Owner.objects.create(name="owner-a"), Owner.objects.create(name="owner-b")
    for store_id, owner in (("a1", a), ("b1", b), ("b2", b)):
        store, _ = worked_example_store(store_id)
        store.owner = owner
        store.save()
    return {
        "a": token_create(name="t", owner=a)[1],
        "b": token_create(name="t", owner=b)[1],
        "staff": token_create(name="t", is_staff=True)[1],
    }


@pytest.mark.django_db(transaction=True)
def test_one_owners_later_poll_moves_only_their_own_as_of(live_server, two_owners):
    base, a, b, staff = live_server.url, two_owners["a"], two_owners["b"], two_owners["staff"]
    assert uptime_as_of(base, b, "b1") == uptime_as_of(base, a, "a1") == iso(T)
    b_page_before = http(f"{base}/stores/b1/", token=b, accept="text/html")
    assert b_page_before[0] == 200 and "2023-01-25 16:15:00 UTC" in b_page_before[2]

    # A records a poll an hour later than everything stored (in the past: polls after
    # now + POLL_MAX_FUTURE are refused).
    recorded = graphql(
        base,
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded rejected } }",
        token=a,
        variables={"polls": [{"storeId": "a1", "timestampUtc": "2023-01-25 17:15:00 UTC", "status": "active"}]},
    )
    assert recorded["recordPolls"] == {"loaded": 1, "rejected": 0}

    # B's uptime, reports and page keep B's as_of; A's and staff's move.
    assert uptime_as_of(base, b, "b1") == iso(T)
    assert uptime_as_of(base, a, "a1") == iso(LATER)
    assert uptime_as_of(base, staff, "b1") == iso(LATER)  # staff sees every store
    page_of_many = graphql(base, "{ stores { results { id uptime { asOf } } } }", token=b)["stores"]["results"]
    assert page_of_many == [{"id": "b1", "uptime": {"asOf": iso(T)}}, {"id": "b2", "uptime": {"asOf": iso(T)}}]

    b_graphql_report = graphql(base, "mutation { triggerReport { id } }", token=b)["triggerReport"]["id"]
    status, _, text = http(f"{base}/trigger_report/", token=b, body={})
    assert status == 200, text
    b_rest_report = json.loads(text)["report_id"]
    status, _, text = http(f"{base}/store/b1/trigger_report/", token=b)
    assert status == 200, text
    b_store_report = json.loads(text)["report_id"]
    a_report = graphql(base, "mutation { triggerReport { id } }", token=a)["triggerReport"]["id"]
    for report_id in (b_graphql_report, b_rest_report, b_store_report, a_report):
        assert report_run(report_id=report_id).status == Report.Status.COMPLETE
    report_as_of = 'query($id: ID!) { report(id: $id) { asOf status } }'
    for report_id in (b_graphql_report, b_rest_report, b_store_report):
        answer = graphql(base, report_as_of, token=b, variables={"id": report_id})["report"]
        assert answer == {"asOf": iso(T), "status": "COMPLETE"}
    answer = graphql(base, report_as_of, token=a, variables={"id": a_report})["report"]
    assert answer == {"asOf": iso(LATER), "status": "COMPLETE"}

    status, _, b_page = http(f"{base}/stores/b1/", token=b, accept="text/html")
    assert status == 200 and "2023-01-25 16:15:00 UTC" in b_page and "2023-01-25 17:15:00 UTC" not in b_page
    status, _, a_page = http(f"{base}/stores/a1/", token=a, accept="text/html")
    assert status == 200 and "2023-01-25 17:15:00 UTC" in a_page


# --------------------------------------------------------------------------- the selector


@pytest.mark.django_db
def test_latest_poll_among_an_owners_stores():
    a, b, c, quiet = (Owner.objects.create(name=name) for name in ("a", "b", "c", "quiet"))
    for store_id, owner, last in (
        ("c1", c, T + timedelta(hours=6, minutes=-1)),  # within 5 minutes of the latest
        ("a1", a, T + timedelta(hours=5)),
        ("b1", b, T),
        ("b2", b, T + timedelta(hours=4)),  # within the recent window below a's latest
        ("q1", quiet, T - timedelta(days=3)),  # far below: the per-store fallback
        ("nobody", None, T + timedelta(hours=6)),
    ):
        store = make_store(store_id)
        store.owner = owner
        store.save()
        add_polls(store, [(last - timedelta(hours=1), True), (last, False)])
    Owner.objects.create(name="empty")
    assert latest_poll_timestamp() == T + timedelta(hours=6)
    assert latest_poll_timestamp(owner_id=c.pk) == T + timedelta(hours=6, minutes=-1)
    assert latest_poll_timestamp(owner_id=a.pk) == T + timedelta(hours=5)
    assert latest_poll_timestamp(owner_id=b.pk) == T + timedelta(hours=4)
    assert latest_poll_timestamp(owner_id=quiet.pk) == T - timedelta(days=3)
    assert latest_poll_timestamp(owner_id=Owner.objects.get(name="empty").pk) is None


@pytest.mark.django_db
def test_owner_without_polls_defaults_to_the_present_not_to_others_data(client):
    store, _ = worked_example_store("staff-only")  # someone's data, not carol's
    carol = Owner.objects.create(name="carol")
    mine = make_store("carol-1")
    mine.owner = carol
    mine.save()
    _, raw = token_create(name="t", owner=carol)
    before = django_timezone.now()
    response = client.post(
        "/graphql/",
        {"query": '{ store(id: "carol-1") { uptime { asOf } } }'},
        content_type="application/json",
        headers={"Authorization": f"Bearer {raw}"},
    )
    as_of = datetime.fromisoformat(response.json()["data"]["store"]["uptime"]["asOf"])
    assert as_of >= before - timedelta(seconds=1)


@pytest.mark.django_db
def test_page_context_uses_the_access_given():
    from monitoring.web.pages import status_page_context

    a, b = Owner.objects.create(name="a"), Owner.objects.create(name="b")
    a1, _ = worked_example_store("a1")
    b1, _ = worked_example_store("b1")
    for store, owner in ((a1, a), (b1, b)):
        store.owner = owner
        store.save()
    add_polls(a1, [(LATER, True)])
    assert status_page_context(store=b1, access=Access(owner_id=b.pk, all_stores=False))["as_of"] == T
    assert status_page_context(store=b1, access=EVERYTHING)["as_of"] == LATER


# --------------------------------------------------------------------------- retention


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
        assert response.json() == {"error": "this report has been deleted"}
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
    status, _, text = http(link)
    assert status == 410 and json.loads(text) == {"error": "this report has been deleted"}
    status, _, _ = http(f"{live_server.url}/get_report/?report_id={report.pk}", token=raw)
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


# --------------------------------------------------------------------------- proxy header


def _settings_value(code: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_ENV", "TRUSTED_PROXY"}}
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_forwarded_proto_is_believed_only_behind_a_trusted_proxy():
    code = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"
    production = {"DJANGO_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(50)}
    assert _settings_value(code, **production) == "None"
    assert _settings_value(code, **production, TRUSTED_PROXY="1") == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert _settings_value(code, **production, TRUSTED_PROXY="0") == "None"
    assert _settings_value(code) == "None"  # development
    retention = "from django.conf import settings; print(settings.REPORT_RETENTION_DAYS)"
    assert _settings_value(retention) == "30"
    assert _settings_value(retention, REPORT_RETENTION_DAYS="7") == "7"


@pytest.mark.django_db
def test_a_client_cannot_claim_https_without_a_trusted_proxy(client):
    """With SECURE_PROXY_SSL_HEADER unset, X-Forwarded-Proto: https does not make a
    plain request secure (it would under TRUSTED_PROXY=1)."""
    from django.test import RequestFactory

    request = RequestFactory().get("/", headers={"X-Forwarded-Proto": "https"})
    with override_settings(SECURE_PROXY_SSL_HEADER=None):
        assert not request.is_secure()
    with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
        assert request.is_secure()
