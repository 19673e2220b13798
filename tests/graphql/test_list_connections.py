"""The lists that grow, as connections (docs/api.md): webhooks and report schedules
oldest first, a schedule's deliveries and reports newest first, a store's special hours
by date, each walked by cursor with edges and totalCount, within the caller's access;
the plain lists answer as before."""

from datetime import date, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from monitoring.alerts.webhooks import webhook_create
from monitoring.models import Owner, Report
from monitoring.schedules.models import ReportSchedule, ScheduledDelivery
from monitoring.schedules.subscriptions import report_schedule_create
from monitoring.stores.access import token_create
from monitoring.stores.special_hours import special_hours_set

from tests.factories import make_store
from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db


def _walk(client, token, field: str, first: int, inner: str = "") -> tuple[list[str], set[int]]:
    query = f"""query($first: Int, $after: String) {{ {field}(first: $first, after: $after) {{
        totalCount edges {{ cursor node {{ id {inner} }} }} pageInfo {{ endCursor hasNextPage }} }} }}"""
    seen, totals, after = [], set(), None
    for _ in range(50):
        page = graphql(client, query, {"first": first, "after": after}, token=token)["data"][field]
        totals.add(page["totalCount"])
        if page["edges"]:
            assert page["edges"][-1]["cursor"] == page["pageInfo"]["endCursor"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return seen, totals
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("the walk did not end")


def test_webhooks_and_schedules_walk_by_cursor_within_the_callers_access(alert_world):
    alice, bob = alert_world["alice"], alert_world["bob"]
    for n in range(4):
        webhook_create(access=alice, url=f"https://example.com/hook-{n}")
        report_schedule_create(access=alice, period="WEEKLY", zone="UTC", url=f"https://example.com/weekly-{n}")
    webhook_create(access=bob, url="https://example.com/bob")
    report_schedule_create(access=bob, period="MONTHLY", zone="UTC", email="bob@example.com")
    client = Client()
    token = token_create(name="admin", owner=Owner.objects.get(name="alice"))[1]

    listed = [w["id"] for w in graphql(client, "{ webhooks { id } }", token=token)["data"]["webhooks"]]
    walked, totals = _walk(client, token, "webhooksConnection", 2, "url")
    assert walked == listed and len(walked) == 5 and totals == {5}  # the fixture's own webhook, then these four

    listed = [s["id"] for s in graphql(client, "{ reportSchedules { id } }", token=token)["data"]["reportSchedules"]]
    walked, totals = _walk(client, token, "reportSchedulesConnection", 3, "period")
    expected = [str(pk) for pk in ReportSchedule.objects.filter(owner__name="alice").order_by("created_at", "pk").values_list("pk", flat=True)]
    assert walked == listed == expected and totals == {4}

    staff = token_create(name="staff", is_staff=True)[1]
    assert _walk(client, staff, "webhooksConnection", 4)[1] == {6}
    assert _walk(client, staff, "reportSchedulesConnection", 4)[1] == {5}


def test_a_schedules_delivery_log_walks_newest_first(alert_world):
    schedule, _ = report_schedule_create(access=alert_world["alice"], period="WEEKLY", zone="UTC", url="https://example.com/w")
    start = timezone.now().replace(microsecond=0) - timedelta(days=70)
    ScheduledDelivery.objects.bulk_create(
        ScheduledDelivery(schedule=schedule, period_start=start + timedelta(days=7 * k), period_end=start + timedelta(days=7 * k + 7))
        for k in range(9)
    )
    expected = [str(pk) for pk in ScheduledDelivery.objects.filter(schedule=schedule).order_by("-period_start").values_list("pk", flat=True)]
    client = Client()
    token = token_create(name="admin", owner=Owner.objects.get(name="alice"))[1]
    query = """query($first: Int, $after: String) { reportSchedules { deliveries { id }
        deliveryLog(first: $first, after: $after) { totalCount edges { cursor node { id periodStart } } pageInfo { endCursor hasNextPage } } } }"""
    seen, after = [], None
    while True:
        (answer,) = graphql(client, query, {"first": 4, "after": after}, token=token)["data"]["reportSchedules"]
        log = answer["deliveryLog"]
        assert log["totalCount"] == 9
        seen += [edge["node"]["id"] for edge in log["edges"]]
        if not log["pageInfo"]["hasNextPage"]:
            break
        after = log["pageInfo"]["endCursor"]
    assert seen == expected == [d["id"] for d in answer["deliveries"]]
    refused = graphql(client, query, {"first": 4, "after": "bm9wZXxub3Bl"}, token=token)  # "nope|nope"
    assert refused["data"]["reportSchedules"][0]["deliveryLog"] is None
    assert refused["errors"][0]["path"] == ["reportSchedules", 0, "deliveryLog"]
    assert refused["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "after"}


def test_reports_walk_newest_first_by_cursor_within_the_callers_access(alert_world):
    alice, bob = Owner.objects.get(name="alice"), Owner.objects.get(name="bob")
    made = [Report.objects.create(owner=alice) for _ in range(5)]
    Report.objects.create(owner=bob)
    Report.objects.filter(pk__in=[r.pk for r in made[:2]]).update(created_at=made[0].created_at)  # a tie: the id breaks it
    client = Client()
    token = token_create(name="admin", owner=alice)[1]
    walked, totals = _walk(client, token, "reportsConnection", 2, "status")
    offset = graphql(client, "{ reports { totalCount results { id } } }", token=token)["data"]["reports"]
    expected = [str(pk) for pk in Report.objects.filter(owner=alice).order_by("-created_at", "-pk").values_list("pk", flat=True)]
    assert walked == expected and totals == {5} == {offset["totalCount"]}
    assert set(walked) == {r["id"] for r in offset["results"]}


def test_special_hours_walk_by_date_with_no_cap_on_the_range(alert_world):
    store = make_store("holidays")
    first = date(2023, 1, 1)
    for k in range(7):
        special_hours_set(store=store, date=first + timedelta(days=k), shifts=[(time(9), time(12)), (time(13), time(17))][: 1 + k % 2])
    client = Client()
    query = """query($first: Int, $after: String) { store(id: "holidays") {
        specialHours(from: "2023-01-01", to: "2023-12-31") { id date }
        specialHoursConnection(first: $first, after: $after, from: "2023-01-02") {
          totalCount edges { cursor node { id date } } pageInfo { endCursor hasNextPage } } } }"""
    seen, after = [], None
    while True:
        store_data = graphql(client, query, {"first": 3, "after": after})["data"]["store"]
        page = store_data["specialHoursConnection"]
        assert page["totalCount"] == 9  # the rows of 2023-01-02 on: 1 + 2 + 1 + 2 + 1 + 2
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    by_date = [row for row in store_data["specialHours"] if row["date"] >= "2023-01-02"]
    assert sorted(seen, key=lambda r: (r["date"], int(r["id"]))) == seen
    assert sorted(r["id"] for r in seen) == sorted(r["id"] for r in by_date) and len(seen) == 9
    refused = graphql(client, query, {"first": 3, "after": "bm90LWEtZGF0ZXwx"})  # "not-a-date|1"
    assert refused["data"]["store"]["specialHoursConnection"] is None
    assert refused["data"]["store"]["specialHours"] == store_data["specialHours"]
    assert refused["errors"][0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "after"}
