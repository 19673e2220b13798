"""Every change of SPEC §12's list, through the API, the pages, the admin or a command,
leaves exactly one audit row with who, what, before and after; the log is append-only."""

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import InternalError
from django.test import override_settings

from monitoring.audit.models import AuditEntry
from monitoring.models import ApiToken, Owner, Store

from tests.admin_pages import admin_url
from tests.factories import worked_example_store
from tests.graphql_client import graphql
from tests.organizations.world import build_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _settings():
    with override_settings(API_ANONYMOUS_ACCESS=False, WEBHOOK_ALLOW_PRIVATE=True):
        yield


@pytest.fixture
def admin(client):
    world = build_world()
    caller = next(
        c for c in world["callers"]
        if c.organization == "north" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1
    )
    return caller


def _one_new(since: int, **expected) -> AuditEntry:
    """The one row written since `since` (an id), matching `expected`."""
    (entry,) = AuditEntry.objects.filter(id__gt=since)
    for name, value in expected.items():
        assert getattr(entry, name) == value, (name, getattr(entry, name), value)
    return entry


def _last() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _north() -> int:
    return Owner.objects.get(name="north").pk


def test_special_hours_set_and_clear_over_graphql(client, admin):
    actor = f"token:{ApiToken.objects.get(key_prefix=admin.token[:8]).pk} matrix"
    mark = _last()
    set_hours = 'mutation { setSpecialHours(storeId: "n1", date: "2023-12-25", shifts: [{startTimeLocal: "10:00", endTimeLocal: "14:00"}]) { specialHours { date } } }'
    graphql(client, set_hours, token=admin.token)
    _one_new(
        mark, actor=actor, action="special_hours.set", object_type="special_hours", object_id="n1 2023-12-25",
        before=None, after={"closed": False, "shifts": [["10:00:00", "14:00:00"]]}, organization_id=_north(),
    )
    mark = _last()
    graphql(client, set_hours, token=admin.token)  # the same again: nothing changed, no row
    assert AuditEntry.objects.filter(id__gt=mark).count() == 0
    closed = 'mutation { setSpecialHours(storeId: "n1", date: "2023-12-25", shifts: []) { specialHours { date } } }'
    graphql(client, closed, token=admin.token)
    _one_new(mark, before={"closed": False, "shifts": [["10:00:00", "14:00:00"]]}, after={"closed": True, "shifts": []})
    mark = _last()
    graphql(client, 'mutation { clearSpecialHours(storeId: "n1", date: "2023-12-25") { cleared } }', token=admin.token)
    _one_new(mark, action="special_hours.clear", before={"closed": True, "shifts": []}, after=None)


def test_revenue_webhooks_schedules_and_tokens_over_graphql(client, admin):
    mark = _last()
    answer = graphql(
        client,
        'mutation { setStoreRevenue(storeId: "n1", rows: [{dayOfWeek: 0, hour: 12, expectedRevenue: "150.00"}]) { userErrors { message } } }',
        token=admin.token,
    )
    assert answer["data"]["setStoreRevenue"]["userErrors"] == []
    _one_new(mark, action="revenue.set", object_id="n1", before=[], after=[[0, 12, "150.00", "USD"]])

    mark = _last()
    created = graphql(client, 'mutation { createWebhook(url: "https://example.com/h") { webhook { id } secret } }', token=admin.token)
    entry = _one_new(mark, action="webhook.create", object_type="webhook", before=None, organization_id=_north())
    assert entry.after["url"] == "https://example.com/h" and "secret" not in json.dumps(entry.after)
    assert created["data"]["createWebhook"]["secret"] not in json.dumps(entry.after)
    mark = _last()
    webhook_id = created["data"]["createWebhook"]["webhook"]["id"]
    graphql(client, f'mutation {{ deleteWebhook(id: "{webhook_id}") {{ deleted }} }}', token=admin.token)
    _one_new(mark, action="webhook.delete", object_id=webhook_id, after=None)

    mark = _last()
    schedule = graphql(
        client,
        'mutation { createReportSchedule(period: WEEKLY, zone: "UTC", url: "https://example.com/r") { schedule { id } userErrors { message } } }',
        token=admin.token,
    )["data"]["createReportSchedule"]["schedule"]
    _one_new(mark, action="schedule.create", object_id=schedule["id"])
    mark = _last()
    graphql(client, f'mutation {{ deleteReportSchedule(id: "{schedule["id"]}") {{ deleted }} }}', token=admin.token)
    _one_new(mark, action="schedule.delete", object_id=schedule["id"], after=None)

    mark = _last()
    made = graphql(
        client, 'mutation { createApiToken(name: "bi", role: VIEWER, scopes: [READ]) { token { id } secret } }',
        token=admin.token,
    )["data"]["createApiToken"]
    entry = _one_new(mark, action="token.create", object_id=made["token"]["id"], before=None)
    assert entry.after["role"] == "VIEWER" and entry.after["scopes"] == ["read"]
    assert made["secret"] not in json.dumps(entry.after)
    mark = _last()
    graphql(client, f'mutation {{ revokeApiToken(id: "{made["token"]["id"]}") {{ token {{ revokedAt }} }} }}', token=admin.token)
    entry = _one_new(mark, action="token.revoke", object_id=made["token"]["id"])
    assert entry.before["revoked_at"] is None and entry.after["revoked_at"] is not None
    # Revoked: refused on its next request.
    graphql(client, "{ stores { totalCount } }", token=made["secret"], status=401)


def test_members_and_roles_over_graphql(client, admin):
    mark = _last()
    graphql(client, 'mutation { setMember(username: "lea", role: OPERATOR, group: "east") { member { role } } }', token=admin.token)
    actions = list(AuditEntry.objects.filter(id__gt=mark).order_by("id").values_list("action", "after"))
    assert actions == [("member.create", {"user": "lea", "group": "east", "role": "OPERATOR"})]
    mark = _last()
    graphql(client, 'mutation { setMember(username: "lea", role: VIEWER, group: "east") { member { role } } }', token=admin.token)
    entry = _one_new(mark, action="member.role")
    assert (entry.before["role"], entry.after["role"]) == ("OPERATOR", "VIEWER")
    mark = _last()
    answer = graphql(client, 'mutation { removeMember(username: "lea", group: "east") { removed } }', token=admin.token)
    assert answer["data"]["removeMember"]["removed"] is True
    _one_new(mark, action="member.remove", after=None)


def test_tokens_page_creates_and_revokes_with_one_row_each(client, admin):
    headers = {"Authorization": f"Bearer {admin.token}", "Accept": "text/html"}
    mark = _last()
    response = client.post("/organization/tokens/", {"name": "from-page", "role": "OPERATOR", "scopes": ["reports"]}, headers=headers)
    assert response.status_code == 200 and b'id="new-token"' in response.content
    token = ApiToken.objects.get(name="from-page")
    _one_new(mark, action="token.create", object_id=str(token.pk))
    mark = _last()
    assert client.post("/organization/tokens/", {"revoke": str(token.pk)}, headers=headers).status_code == 302
    _one_new(mark, action="token.revoke", object_id=str(token.pk))
    page = client.get("/organization/audit/", headers=headers).content.decode()
    assert "token.revoke" in page and "token.create" in page


def test_the_command_records_organization_group_member_role_stores_and_token(client):
    worked_example_store("c1")
    worked_example_store("c2")
    mark = _last()
    call_command(
        "create_api_token", "maria", "--org", "acme", "--group", "paris", "--role", "OPERATOR", "--scopes", "read,reports",
        "--store", "c1", "c2", stdout=io.StringIO(), stderr=io.StringIO(),
    )
    actions = list(AuditEntry.objects.filter(id__gt=mark).order_by("id").values_list("action", flat=True))
    assert actions == [
        "organization.create", "group.create", "store.assign", "store.assign", "group.stores", "member.create", "token.create",
    ]
    assert set(AuditEntry.objects.filter(id__gt=mark).values_list("actor", flat=True)) == {"command:create_api_token"}
    mark = _last()
    out = io.StringIO()
    call_command("create_api_token", "maria", "--org", "acme", "--group", "paris", "--role", "VIEWER", stdout=out, stderr=io.StringIO())
    actions = list(AuditEntry.objects.filter(id__gt=mark).order_by("id").values_list("action", flat=True))
    assert actions == ["member.role", "token.create"]
    role_change = AuditEntry.objects.get(id__gt=mark, action="member.role")
    assert (role_change.before["role"], role_change.after["role"]) == ("OPERATOR", "VIEWER")
    # The member's earlier token follows the demotion: a viewer cannot run reports.
    answer = graphql(client, "mutation { triggerReport { userErrors { code } } }", token=out.getvalue().strip())
    assert answer["data"]["triggerReport"]["userErrors"] == [{"code": "FORBIDDEN"}]


def test_admin_store_change_records_zone_and_hours_before_and_after(admin_client):
    store, _ = worked_example_store("adm")
    mark = _last()
    response = admin_client.post(
        admin_url(Store, "change", store.pk),
        {
            "store_id": "adm", "timezone_name": "Europe/Paris", "owner": "",
            "business_hours-TOTAL_FORMS": "1", "business_hours-INITIAL_FORMS": "0", "business_hours-MIN_NUM_FORMS": "0",
            "business_hours-MAX_NUM_FORMS": "1000", "business_hours-0-day_of_week": "2",
            "business_hours-0-start_time_local": "09:00", "business_hours-0-end_time_local": "17:00",
            "revenue-TOTAL_FORMS": "0", "revenue-INITIAL_FORMS": "0", "revenue-MIN_NUM_FORMS": "0", "revenue-MAX_NUM_FORMS": "1000",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    entry = _one_new(mark, action="store.change", object_type="store", actor="user:admin")
    assert entry.before["timezone_name"] != "Europe/Paris" and entry.after["timezone_name"] == "Europe/Paris"
    assert [2, "09:00:00", "17:00:00"] in entry.after["hours"] and [2, "09:00:00", "17:00:00"] not in entry.before["hours"]


def test_the_log_is_append_only_in_the_database():
    entry = AuditEntry.objects.create(actor="t", action="x", object_type="y", object_id="1")
    for statement in (
        "UPDATE monitoring_auditentry SET actor = 'someone else' WHERE id = %s",
        "DELETE FROM monitoring_auditentry WHERE id = %s",
    ):
        with pytest.raises(InternalError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    with pytest.raises(ValueError):
        entry.delete()
    assert AuditEntry.objects.get(pk=entry.pk).actor == "t"


def test_loading_hours_and_zones_is_one_entry_per_file(tmp_path):
    (tmp_path / "store_status.csv").write_text("store_id,timestamp_utc,status\na,2023-01-25 10:00:00 UTC,active\n")
    (tmp_path / "menu_hours.csv").write_text("store_id,dayOfWeek,start_time_local,end_time_local\na,2,09:00,17:00\n")
    (tmp_path / "timezones.csv").write_text("store_id,timezone_str\na,Asia/Tokyo\n")
    mark = _last()
    call_command("load_data", str(tmp_path), "--no-rejects-file", stdout=io.StringIO(), stderr=io.StringIO())
    entries = {entry.action: entry for entry in AuditEntry.objects.filter(id__gt=mark)}
    assert set(entries) == {"hours.load", "timezones.load"}  # polls are not audited
    assert entries["hours.load"].actor == "command:load_data" and entries["hours.load"].after["loaded"] == 1
    assert entries["timezones.load"].object_id.endswith("timezones.csv")
