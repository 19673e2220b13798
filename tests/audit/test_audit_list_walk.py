"""docs/rules.md §12's audit list walked over every path that changes each item (GraphQL,
the pages, the admin, the commands): each change leaves exactly one row, naming who
made it, with the values before (none for a creation) and after (none for a removal)."""

import io
from datetime import timedelta

import pytest
from django import forms
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from monitoring.alerts.models import EscalationPolicy, Incident, Webhook
from monitoring.audit.models import AuditEntry
from monitoring.ingest import polls_record
from monitoring.models import ApiToken, Owner, Store
from monitoring.organizations.models import Group, Member
from monitoring.organizations.services import stores_place
from monitoring.schedules.models import ReportSchedule
from monitoring.stores.access import token_access

from tests.admin_pages import admin_url
from tests.factories import make_store
from tests.graphql_client import graphql
from tests.organizations.world import build_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _settings():
    with override_settings(API_ANONYMOUS_ACCESS=False, WEBHOOK_ALLOW_PRIVATE=True, RATE_LIMIT_WRITES=100_000):
        yield


@pytest.fixture
def north_admin(client):
    """North's organization-wide ADMIN with every scope, and north's 24×7 store `n-open`."""
    world = build_world()
    caller = next(
        c for c in world["callers"]
        if c.organization == "north" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1
    )
    make_store("n-open")  # no hours: open 24×7, so a live inactive poll opens an incident
    stores_place(organization=Owner.objects.get(name="north"), store_ids=["n-open"], actor="test")
    return caller


def _last() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _one_row(since: int, *, action: str, kind: str, actor: str) -> AuditEntry:
    """The one row written since `since`: `action`, by `actor`, with before and after as
    a `kind` of change has them ("create": nothing before, "change": both, different,
    "delete": nothing after)."""
    rows = list(AuditEntry.objects.filter(id__gt=since))
    assert [row.action for row in rows] == [action], [(row.action, row.object_id) for row in rows]
    (row,) = rows
    assert row.actor == actor, (action, row.actor)
    has_before, has_after = row.before not in (None, [], {}), row.after not in (None, [], {})
    expected = {"create": (False, True), "change": (True, True), "delete": (True, False)}[kind]
    assert (has_before, has_after) == expected, (action, row.before, row.after)
    if kind == "change":
        assert row.before != row.after, action
    return row


class Walk:
    """Makes one change after another, each checked to leave exactly one row."""

    def __init__(self, actor: str):
        self.actor = actor

    def __call__(self, change, *, action: str, kind: str) -> AuditEntry:
        mark = _last()
        result = change()
        row = _one_row(mark, action=action, kind=kind, actor=self.actor)
        row.result = result
        return row


def _token_actor(raw: str) -> str:
    return token_access(raw=raw).actor


def _open_incident(access) -> Incident:
    result = polls_record(polls=[("n-open", (timezone.now() - timedelta(minutes=1)).isoformat(), "inactive")], access=access)
    assert result.rejected == 0
    return Incident.objects.get(store__store_id="n-open", resolved_at__isnull=True)


def test_graphql_changes_leave_one_row_each(client, north_admin):
    token = north_admin.token
    walk = Walk(_token_actor(token))

    def run(query):
        answer = graphql(client, query, token=token)
        assert "errors" not in answer, answer
        payload = next(iter(answer["data"].values()))
        assert not (payload or {}).get("userErrors"), payload
        return payload

    set_hours = 'mutation {{ setSpecialHours(storeId: "n1", date: "2023-12-25", shifts: [{}]) {{ userErrors {{ message }} }} }}'
    walk(lambda: run(set_hours.format('{startTimeLocal: "10:00", endTimeLocal: "14:00"}')), action="special_hours.set", kind="create")
    walk(lambda: run(set_hours.format('{startTimeLocal: "11:00", endTimeLocal: "14:00"}')), action="special_hours.set", kind="change")
    walk(lambda: run('mutation { clearSpecialHours(storeId: "n1", date: "2023-12-25") { cleared } }'), action="special_hours.clear", kind="delete")
    revenue = 'mutation {{ setStoreRevenue(storeId: "n1", rows: [{{dayOfWeek: 0, hour: 12, expectedRevenue: "{}"}}]) {{ userErrors {{ message }} }} }}'
    walk(lambda: run(revenue.format("150.00")), action="revenue.set", kind="create")
    walk(lambda: run(revenue.format("175.00")), action="revenue.set", kind="change")

    hook = walk(lambda: run('mutation { createWebhook(url: "https://example.com/h") { webhook { id } } }'), action="webhook.create", kind="create")
    hook_id = hook.result["webhook"]["id"]
    walk(lambda: run("mutation { setEscalationPolicy(escalateAfterMinutes: 20) { userErrors { message } } }"), action="escalation_policy.set", kind="create")
    walk(
        lambda: run(f'mutation {{ setEscalationPolicy(escalateAfterMinutes: 25, targets: ["{hook_id}"]) {{ userErrors {{ message }} }} }}'),
        action="escalation_policy.set", kind="change",
    )
    walk(lambda: run(f'mutation {{ deleteWebhook(id: "{hook_id}") {{ deleted }} }}'), action="webhook.delete", kind="delete")

    schedule = walk(
        lambda: run('mutation { createReportSchedule(period: WEEKLY, zone: "UTC", url: "https://example.com/r") { schedule { id } userErrors { message } } }'),
        action="schedule.create", kind="create",
    )
    schedule_id = schedule.result["schedule"]["id"]
    walk(lambda: run(f'mutation {{ deleteReportSchedule(id: "{schedule_id}") {{ deleted }} }}'), action="schedule.delete", kind="delete")

    made = walk(lambda: run('mutation { createApiToken(name: "bi", role: VIEWER, scopes: [READ]) { token { id } } }'), action="token.create", kind="create")
    made_id = made.result["token"]["id"]
    walk(lambda: run(f'mutation {{ revokeApiToken(id: "{made_id}") {{ token {{ revokedAt }} }} }}'), action="token.revoke", kind="change")

    walk(lambda: run('mutation { setMember(username: "lea", role: OPERATOR, group: "east") { member { role } } }'), action="member.create", kind="create")
    walk(lambda: run('mutation { setMember(username: "lea", role: VIEWER, group: "east") { member { role } } }'), action="member.role", kind="change")
    walk(lambda: run('mutation { removeMember(username: "lea", group: "east") { removed } }'), action="member.remove", kind="delete")

    incident = _open_incident(token_access(raw=token))
    walk(lambda: run(f'mutation {{ acknowledgeIncident(id: "{incident.pk}") {{ userErrors {{ message }} }} }}'), action="incident.acknowledge", kind="change")
    walk(lambda: run(f'mutation {{ addIncidentNote(id: "{incident.pk}", text: "the till is down") {{ userErrors {{ message }} }} }}'), action="incident.note", kind="create")


def test_page_changes_leave_one_row_each(client, north_admin):
    walk = Walk(_token_actor(north_admin.token))
    headers = {"Authorization": f"Bearer {north_admin.token}", "Accept": "text/html"}

    def post(path, data, status):
        response = client.post(path, data, headers=headers)
        assert response.status_code == status, (path, data, response.content[:500])

    walk(lambda: post("/organization/tokens/", {"name": "from-page", "role": "OPERATOR", "scopes": ["reports"]}, 200), action="token.create", kind="create")
    token = ApiToken.objects.get(name="from-page")
    walk(lambda: post("/organization/tokens/", {"revoke": str(token.pk)}, 302), action="token.revoke", kind="change")
    walk(lambda: post("/organization/members/", {"username": "noa", "role": "OPERATOR", "group": ""}, 200), action="member.create", kind="create")
    walk(lambda: post("/organization/members/", {"username": "noa", "role": "ADMIN", "group": ""}, 200), action="member.role", kind="change")
    walk(lambda: post("/organization/members/", {"remove": "noa", "group": ""}, 302), action="member.remove", kind="delete")


def _admin_form(admin_client, url: str) -> tuple[dict, object]:
    """The data the admin's form at `url` would post unchanged, and its response."""
    response = admin_client.get(url)
    assert response.status_code == 200, url
    every_form = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        every_form += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in every_form:
        for field in form:
            value = field.value()
            if isinstance(field.field.widget, forms.CheckboxInput):
                if value:
                    data[field.html_name] = "on"
            elif isinstance(value, (list, tuple)):
                data[field.html_name] = [str(item) for item in value]
            elif value is not None:
                data[field.html_name] = str(value)
    return data, response


def test_admin_changes_leave_one_row_each(admin_client, north_admin):
    walk = Walk("user:admin")
    north = Owner.objects.get(name="north")
    n1, n2 = Store.objects.get(store_id="n1"), Store.objects.get(store_id="n2")

    def post(url, data):
        response = admin_client.post(url, data)
        assert response.status_code == 302, (url, response.content.decode()[:3000])

    def change(model, obj, **values):
        url = admin_url(model, "change", obj.pk)
        data, _ = _admin_form(admin_client, url)
        post(url, {**data, **values})

    def delete(model, obj):
        post(admin_url(model, "delete", obj.pk), {"post": "yes"})

    # Zones, weekly hours and a store's organization: the store's page.
    walk(lambda: change(Store, n1, timezone_name="Europe/Paris"), action="store.change", kind="change")
    walk(lambda: change(Store, n1, **{"business_hours-0-end_time_local": "13:00:00"}), action="store.change", kind="change")
    walk(lambda: change(Store, n2, owner=Owner.objects.get(name="south").pk), action="store.change", kind="change")

    # Organizations.
    walk(lambda: post(admin_url(Owner, "add"), {"name": "east-co"}), action="organization.create", kind="create")
    walk(lambda: change(Owner, Owner.objects.get(name="east-co"), name="east-company"), action="organization.change", kind="change")

    # Groups and their stores.
    walk(lambda: post(admin_url(Group, "add"), {"name": "west", "organization": north.pk, "stores": [n1.pk]}), action="group.create", kind="create")
    group = Group.objects.get(organization=north, name="west")
    walk(lambda: change(Group, group, stores=[str(n1.pk), str(Store.objects.get(store_id="n-open").pk)]), action="group.change", kind="change")

    # Members and their roles.
    user = User.objects.create(username="ines")
    walk(lambda: post(admin_url(Member, "add"), {"user": user.pk, "organization": north.pk, "group": group.pk, "role": "VIEWER"}), action="member.create", kind="create")
    member = Member.objects.get(user=user)
    walk(lambda: change(Member, member, role="OPERATOR"), action="member.change", kind="change")
    walk(lambda: delete(Member, member), action="member.delete", kind="delete")
    walk(lambda: delete(Group, group), action="group.delete", kind="delete")

    # Tokens.
    walk(lambda: _admin_token_add(admin_client, north), action="token.create", kind="create")
    token = ApiToken.objects.get(name="from-admin")
    walk(lambda: post(admin_url(ApiToken, "changelist"), {"action": "revoke", "_selected_action": [str(token.pk)]}), action="token.revoke", kind="change")

    # Webhooks, their escalation policy, report schedules.
    access = token_access(raw=north_admin.token)
    graphql_made = graphql(admin_client, 'mutation { createWebhook(url: "https://example.com/a") { webhook { id } } }', token=north_admin.token)
    hook = Webhook.objects.get(pk=graphql_made["data"]["createWebhook"]["webhook"]["id"])
    walk(lambda: change(Webhook, hook, confirm_polls="2"), action="webhook.change", kind="change")
    walk(
        lambda: post(admin_url(EscalationPolicy, "add"), {
            "owner": north.pk, "escalate_after_minutes": 15, "remind_every_minutes": 10, "max_reminders": 2,
            "quiet_before_close_minutes": 0, "targets": [str(hook.pk)],
        }),
        action="escalation_policy.create", kind="create",
    )
    policy = EscalationPolicy.objects.get(owner=north)
    walk(lambda: change(EscalationPolicy, policy, targets=[]), action="escalation_policy.change", kind="change")
    walk(lambda: delete(Webhook, hook), action="webhook.delete", kind="delete")
    made = graphql(
        admin_client, 'mutation { createReportSchedule(period: WEEKLY, zone: "UTC", url: "https://example.com/r") { schedule { id } } }',
        token=north_admin.token,
    )
    schedule = ReportSchedule.objects.get(pk=made["data"]["createReportSchedule"]["schedule"]["id"])
    walk(lambda: delete(ReportSchedule, schedule), action="schedule.delete", kind="delete")

    # Incidents: acknowledged, and a note added.
    incident = _open_incident(access)
    walk(lambda: post(admin_url(Incident, "changelist"), {"action": "acknowledge", "_selected_action": [str(incident.pk)]}), action="incident.acknowledge", kind="change")
    url = admin_url(Incident, "change", incident.pk)
    data, response = _admin_form(admin_client, url)
    (notes,) = [inline.formset for inline in response.context["inline_admin_formsets"] if inline.formset.prefix == "notes"]
    index = int(data[f"{notes.prefix}-TOTAL_FORMS"])
    data.update({f"{notes.prefix}-TOTAL_FORMS": str(index + 1), f"{notes.prefix}-{index}-text": "from the admin"})
    row = walk(lambda: post(url, data), action="incident.note", kind="create")
    assert row.after["text"] == "from the admin"
    # Saving the page again without a new note changes nothing and writes nothing.
    mark = _last()
    data, _ = _admin_form(admin_client, url)
    post(url, data)
    assert AuditEntry.objects.filter(id__gt=mark).count() == 0


def _admin_token_add(admin_client, north):
    response = admin_client.post(
        admin_url(ApiToken, "add"), {"name": "from-admin", "owner": north.pk, "role": "VIEWER", "scopes": "read"}
    )
    assert response.status_code == 200 and b'id="new-token"' in response.content, response.content.decode()[:3000]


def test_command_changes_leave_one_row_each(north_admin, tmp_path):
    walk = Walk("command:create_webhook")
    walk(
        lambda: call_command("create_webhook", "https://example.com/c", "--owner", "north", stdout=io.StringIO()),
        action="webhook.create", kind="create",
    )
    walk = Walk("command:create_api_token")
    make_token = lambda role: call_command(  # noqa: E731
        "create_api_token", "ops", "--org", "north", "--role", role, stdout=io.StringIO(), stderr=io.StringIO()
    )
    mark = _last()
    make_token("VIEWER")  # a member and the member's token: two changes, a row each
    assert list(AuditEntry.objects.filter(id__gt=mark).order_by("id").values_list("action", flat=True)) == [
        "member.create", "token.create",
    ]
    walk(lambda: make_token("VIEWER"), action="token.create", kind="create")
    (tmp_path / "special_hours.csv").write_text("store_id,date,start_time_local,end_time_local\nn1,2023-12-24,10:00,12:00\n")
    mark = _last()
    call_command("load_data", str(tmp_path), "--no-rejects-file", stdout=io.StringIO(), stderr=io.StringIO())
    row = _one_row(mark, action="special_hours.load", kind="create", actor="command:load_data")
    assert row.after["loaded"] == 1
