"""Scheduled reports in GraphQL (docs/rules.md §11): created with the secret once,
listed with their deliveries within the caller's access (staff see all), deleted; input
refused in `userErrors` with codes and argument names; counted as writes; priced."""

from datetime import timedelta

import pytest
from django.test import override_settings

from monitoring.schedules.models import ReportSchedule
from monitoring.schedules.sending import periods_claim
from monitoring.schedules.subscriptions import MAX_SCHEDULES_PER_OWNER, report_schedule_create
from monitoring.stores.access import token_create
from tests.graphql_client import graphql
from tests.schedules.week import MID_WEEK, WEEK_END

pytestmark = pytest.mark.django_db

CREATE = """mutation($period: ReportPeriod!, $zone: String!, $url: String, $email: String, $storeIds: [ID!]) {
  createReportSchedule(period: $period, zone: $zone, url: $url, email: $email, storeIds: $storeIds) {
    schedule { id period zone url email storeIds nextPeriodStart nextPeriodEnd lastPeriodStart }
    secret userErrors { field message code } } }"""
LIST = """{ reportSchedules { id url email deliveries { periodStart periodEnd status attempts reportId storeCount } } }"""
DELETE = "mutation($id: ID!) { deleteReportSchedule(id: $id) { deleted id userErrors { field message code } } }"


def create(client, token, **variables) -> dict:
    answer = graphql(client, CREATE, {"period": "WEEKLY", "zone": "Europe/Paris", **variables}, token=token)
    assert "errors" not in answer, answer
    return answer["data"]["createReportSchedule"]


def test_a_webhook_schedule_is_made_with_its_secret_once(client, schedule_world):
    made = create(client, schedule_world["alice_token"], url="https://hooks.example.com/weekly", storeIds=["a2", "a1"])
    assert made["userErrors"] == [] and made["secret"].startswith("whsec_")
    schedule = made["schedule"]
    assert (schedule["period"], schedule["zone"], schedule["url"], schedule["email"]) == (
        "WEEKLY", "Europe/Paris", "https://hooks.example.com/weekly", None,
    )
    assert schedule["storeIds"] == ["a1", "a2"] and schedule["lastPeriodStart"] is None
    # The current week in Paris: the first one sent, once it is over.
    assert schedule["nextPeriodStart"].endswith("T23:00:00.000000Z") or schedule["nextPeriodStart"].endswith("T22:00:00.000000Z")
    listed = graphql(client, "{ reportSchedules { id } }", token=schedule_world["alice_token"])["data"]
    assert listed == {"reportSchedules": [{"id": schedule["id"]}]}
    assert "secret" not in str(graphql(client, "{ __type(name: \"ReportSchedule\") { fields { name } } }")["data"])


def test_an_email_schedule_has_no_secret(client, schedule_world):
    made = create(client, schedule_world["alice_token"], period="MONTHLY", zone="asia/tokyo", email="ops@example.com")
    assert made["secret"] is None and made["userErrors"] == []
    assert (made["schedule"]["email"], made["schedule"]["url"], made["schedule"]["zone"]) == (
        "ops@example.com", None, "Asia/Tokyo",  # the zone in its canonical spelling
    )


@pytest.mark.parametrize(
    "variables, field, message",
    [
        ({"zone": "Mars/Olympus", "url": "https://x.example.com/"}, "zone", "zone: unknown time zone 'Mars/Olympus'"),
        ({"url": "https://x.example.com/", "email": "a@example.com"}, "url", "url: give either url"),
        ({}, "url", "url: give either url"),
        ({"url": "mailto:a@example.com"}, "url", "url: must be an http(s) URL"),
        ({"url": "ftp://x.example.com/"}, "url", "url: must be an absolute http:// or https:// URL"),
        ({"email": "not-an-address"}, "email", "email: not an email address"),
        ({"url": "https://x.example.com/", "storeIds": ["b1"]}, "storeIds", "storeIds: no such store: b1"),
        ({"url": "https://x.example.com/", "storeIds": []}, "storeIds", "storeIds: when given, must name at least one"),
        ({"url": "https://x.example.com/", "storeIds": ["a1\n"]}, "storeIds[0]", "storeIds[0]: "),
    ],
)
def test_refusals_name_their_argument(client, schedule_world, variables, field, message):
    made = create(client, schedule_world["alice_token"], **variables)
    assert made["schedule"] is None and made["secret"] is None
    (error,) = made["userErrors"]
    assert error["field"] == field and error["code"] == "INVALID_ARGUMENT" and error["message"].startswith(message), error
    assert ReportSchedule.objects.count() == 0


@override_settings(WEBHOOK_ALLOW_PRIVATE=False)
def test_private_addresses_are_refused_in_production(client, schedule_world):
    (error,) = create(client, schedule_world["alice_token"], url="http://127.0.0.1:9/r")["userErrors"]
    assert error["field"] == "url" and "private" in error["message"]


def test_an_unknown_period_is_refused_by_the_schema(client, schedule_world):
    answer = graphql(client, CREATE, {"period": "DAILY", "zone": "UTC", "url": "https://x.example.com/"}, token=schedule_world["alice_token"])
    assert answer["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


def test_an_owner_has_at_most_so_many_schedules(client, schedule_world):
    for _ in range(MAX_SCHEDULES_PER_OWNER):
        report_schedule_create(access=schedule_world["alice"], period="WEEKLY", zone="UTC", url="https://x.example.com/")
    (error,) = create(client, schedule_world["alice_token"], url="https://x.example.com/")["userErrors"]
    assert error["field"] is None and error["message"].startswith(f"at most {MAX_SCHEDULES_PER_OWNER} report schedules")


def test_owners_see_and_delete_only_their_own_staff_see_all(client, schedule_world):
    alices = report_schedule_create(access=schedule_world["alice"], period="WEEKLY", zone="UTC", url="https://a.example.com/", now=MID_WEEK)[0]
    bobs = report_schedule_create(access=schedule_world["bob"], period="WEEKLY", zone="UTC", email="bob@example.com", now=MID_WEEK)[0]
    periods_claim(now=WEEK_END)
    alice, bob = schedule_world["alice_token"], schedule_world["bob_token"]
    listed = graphql(client, LIST, token=alice)["data"]["reportSchedules"]
    assert [s["id"] for s in listed] == [str(alices.pk)]
    (delivery,) = listed[0]["deliveries"]
    assert delivery["status"] == "WAITING" and delivery["reportId"] and delivery["storeCount"] is None
    assert delivery["periodEnd"] == "2023-01-23T00:00:00.000000Z"
    # Alice's period report is hers to read, not bob's.
    query = "query($id: ID!) { report(id: $id) { id } }"
    assert graphql(client, query, {"id": delivery["reportId"]}, token=alice)["data"]["report"]["id"] == delivery["reportId"]
    assert graphql(client, query, {"id": delivery["reportId"]}, token=bob)["data"]["report"] is None
    staff = token_create(name="staff", is_staff=True)[1]
    assert {s["id"] for s in graphql(client, LIST, token=staff)["data"]["reportSchedules"]} == {str(alices.pk), str(bobs.pk)}
    # Bob cannot delete alice's schedule: it does not exist for him.
    assert graphql(client, DELETE, {"id": str(alices.pk)}, token=bob)["data"]["deleteReportSchedule"]["deleted"] is False
    assert graphql(client, DELETE, {"id": str(alices.pk)}, token=alice)["data"]["deleteReportSchedule"] == {
        "deleted": True, "id": str(alices.pk), "userErrors": [],
    }
    assert not ReportSchedule.objects.filter(pk=alices.pk).exists() and ReportSchedule.objects.filter(pk=bobs.pk).exists()
    refused = graphql(client, DELETE, {"id": "nope"}, token=alice)["data"]["deleteReportSchedule"]
    assert refused["userErrors"] == [{"field": "id", "message": "id: not a report schedule id: 'nope'", "code": "INVALID_ARGUMENT"}]


def test_schedule_writes_count_as_writes(client, schedule_world, settings):
    settings.RATE_LIMIT_WRITES = 2
    token = schedule_world["alice_token"]
    schedule_id = create(client, token, url="https://x.example.com/")["schedule"]["id"]
    assert graphql(client, DELETE, {"id": schedule_id}, token=token)["data"]["deleteReportSchedule"]["deleted"]
    answer = graphql(client, CREATE, {"period": "WEEKLY", "zone": "UTC", "url": "https://x.example.com/"}, token=token)
    assert answer["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


def test_the_list_is_priced_by_its_caps(client, schedule_world):
    from graphql_schema.limits import pricing

    answer = graphql(client, LIST, token=schedule_world["alice_token"])
    caps = pricing.LIST_CAPS
    assert answer["extensions"]["cost"]["nodes"] == caps["Query.reportSchedules"] * (1 + caps["ReportSchedule.deliveries"])
    assert caps["ReportSchedule.storeIds"] == 100
