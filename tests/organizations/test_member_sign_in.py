"""A member signs in with username and password and sees exactly what their role
reaches; a wrong password, a removed role or a changed password signs nobody in."""

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from monitoring.models import Owner
from monitoring.organizations.models import Group, Member
from monitoring.organizations.roles import ADMIN, VIEWER
from monitoring.organizations.services import member_set

from tests.graphql_client import graphql
from tests.organizations.world import LAYOUT, build_world

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _settings():
    with override_settings(API_ANONYMOUS_ACCESS=False):
        yield


def _sign_in(client: Client, username: str, password: str):
    page = client.get("/sign-in/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    return client.post(
        "/sign-in/", {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"}
    )


def test_a_group_viewer_signs_in_and_reads_only_its_group():
    build_world()
    user = User.objects.get(username="north-viewer-group")
    user.set_password("a long member password")
    user.save()
    browser = Client(enforce_csrf_checks=True)
    assert _sign_in(browser, "north-viewer-group", "wrong password").status_code == 401
    assert _sign_in(browser, "north-viewer-group", "a long member password").status_code == 302
    home = browser.get("/", headers={"Accept": "text/html"}).content.decode()
    assert "north-viewer-group" in home
    for store_id in LAYOUT["north"][2]:
        assert browser.get(f"/stores/{store_id}/", headers={"Accept": "text/html"}).status_code == 200
    for store_id in ("n2", "s1", "s2"):
        assert browser.get(f"/stores/{store_id}/", headers={"Accept": "text/html"}).status_code == 404
    csrf = browser.cookies["csrftoken"].value
    stores = graphql(browser, "{ stores { results { id } } }", headers={"X-CSRFToken": csrf})
    assert [row["id"] for row in stores["data"]["stores"]["results"]] == LAYOUT["north"][2]
    refused = graphql(
        browser,
        'mutation { setSpecialHours(storeId: "n1", date: "2023-01-26", shifts: []) { userErrors { code } } }',
        headers={"X-CSRFToken": csrf},
    )
    assert refused["data"]["setSpecialHours"]["userErrors"] == [{"code": "FORBIDDEN"}]
    # A new password signs the old session out.
    user.set_password("another long password")
    user.save()
    assert browser.get("/", headers={"Accept": "text/html"}).status_code == 302


def _signed_in_with_two_roles() -> tuple[Client, User, Group]:
    """A person "both" holding ADMIN on north's group east (made first, so first by id)
    and VIEWER on all of south, signed in: (their browser, the person, east)."""
    build_world()
    north, south = (Owner.objects.get(name=name) for name in ("north", "south"))
    east = Group.objects.get(organization=north)
    member_set(username="both", organization=north, group=east, role=ADMIN, actor="test")
    member_set(username="both", organization=south, group=None, role=VIEWER, actor="test")
    user = User.objects.get(username="both")
    user.set_password("a long member password")
    user.save()
    browser = Client(enforce_csrf_checks=True)
    assert _sign_in(browser, "both", "a long member password").status_code == 302
    return browser, user, east


def test_a_person_with_roles_in_several_places_signs_in_to_the_organization_wide_one():
    browser, _, _ = _signed_in_with_two_roles()
    csrf = browser.cookies["csrftoken"].value
    stores = graphql(browser, "{ stores { results { id } } }", headers={"X-CSRFToken": csrf})
    assert [row["id"] for row in stores["data"]["stores"]["results"]] == LAYOUT["south"][0]


def test_a_person_with_roles_in_several_places_switches_between_them_and_only_theirs():
    browser, user, east = _signed_in_with_two_roles()
    home = browser.get("/", headers={"Accept": "text/html"}).content.decode()
    picker = re.search(r'<form method="post" action="/session/role/".*?</form>', home, re.S).group(0)
    choices = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', picker))
    on_east = Member.objects.get(user=user, group=east).pk
    assert set(choices.values()) == {"Viewer · south", f"Admin · north / {east.name}"}
    assert re.search(r'<option value="\d+" selected>Viewer · south<', picker)

    def stores(browser) -> list[str]:
        csrf = browser.cookies["csrftoken"].value
        answer = graphql(browser, "{ stores { results { id } } }", headers={"X-CSRFToken": csrf})
        return [row["id"] for row in answer["data"]["stores"]["results"]]

    def switch(browser, member, **extra):
        return browser.post("/session/role/", {"member": member, "next": "/reports/",
                                               "csrfmiddlewaretoken": browser.cookies["csrftoken"].value, **extra})

    assert stores(browser) == LAYOUT["south"][0]
    assert browser.post("/session/role/", {"member": on_east}).status_code == 403  # no CSRF token
    answer = switch(browser, on_east)
    assert answer.status_code == 302 and answer["Location"] == "/reports/"
    assert stores(browser) == LAYOUT["north"][2]
    # Someone else's role, or no id at all: refused, and the role stays as it was.
    someone_else = Member.objects.exclude(user=user).first().pk
    assert switch(browser, someone_else).status_code == 403
    for not_an_id in ("east", "٣", "9" * 30, ""):
        assert switch(browser, not_an_id).status_code == 400
    assert stores(browser) == LAYOUT["north"][2]
    # Not signed in with a password: nothing to switch.
    stranger = Client()
    stranger.get("/sign-in/")
    assert switch(stranger, on_east).status_code == 403


def test_a_removed_role_signs_the_member_out():
    build_world()
    user = User.objects.get(username="south-admin-org")
    user.set_password("a long member password")
    user.save()
    browser = Client()
    assert _sign_in(browser, "south-admin-org", "a long member password").status_code == 302
    assert browser.get("/organization/audit/", headers={"Accept": "text/html"}).status_code == 200
    Member.objects.filter(user=user).delete()
    assert browser.get("/organization/audit/", headers={"Accept": "text/html"}).status_code == 302


def test_a_person_without_a_role_cannot_sign_in():
    User.objects.create_user("nobody", password="a long member password")
    response = _sign_in(Client(), "nobody", "a long member password")
    assert response.status_code == 401 and "no role in any organization" in response.content.decode()


def test_an_invited_member_sets_a_password_once_through_the_link_and_signs_in(client):
    world = build_world()
    admin = next(c for c in world["callers"] if c.organization == "north" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1)
    answer = graphql(
        client, 'mutation { setMember(username: "zoe", role: VIEWER, group: "east") { inviteLink member { username } } }',
        token=admin.token,
    )
    link = answer["data"]["setMember"]["inviteLink"]
    assert link.startswith("/set-password/")
    assert not _audit_mentions(link)
    browser = Client()
    assert browser.get(link).status_code == 200
    response = browser.post(link, {"new_password1": "a long new password", "new_password2": "a long new password"})
    assert response.status_code == 302
    assert browser.get(link).status_code == 400  # once only
    assert _sign_in(Client(), "zoe", "a long new password").status_code == 302
    again = graphql(client, 'mutation { setMember(username: "zoe", role: VIEWER, group: "east") { inviteLink } }', token=admin.token)
    assert again["data"]["setMember"]["inviteLink"] is None
    assert Client().get("/set-password/MQ/not-a-token/").status_code == 400


def _audit_mentions(text: str) -> bool:
    from monitoring.audit.models import AuditEntry

    return any(text in str(entry.after) + str(entry.before) for entry in AuditEntry.objects.all())


def test_an_invite_is_emailed_from_the_alerts_queue_and_its_link_sets_a_password(
    client, mailoutbox, django_capture_on_commit_callbacks, settings
):
    from django_q.models import OrmQ

    from monitoring.organizations.tasks import send_invite

    settings.PUBLIC_URL = "https://uptime.example.com"
    world = build_world()
    admin = next(c for c in world["callers"] if c.organization == "north" and c.role == "ADMIN" and c.group is None and len(c.scopes) > 1)
    mutation = """mutation($email: String) { setMember(username: "yann", role: OPERATOR, email: $email) {
        inviteLink inviteEmailedTo member { username } userErrors { field code } } }"""
    refused = graphql(client, mutation, {"email": "not an address"}, token=admin.token)["data"]["setMember"]
    assert refused["userErrors"] == [{"field": "email", "code": "INVALID_ARGUMENT"}] and refused["member"] is None
    assert not User.objects.filter(username="yann").exists()  # a refused address changes nothing

    with django_capture_on_commit_callbacks(execute=True):
        answer = graphql(client, mutation, {"email": "yann@example.com"}, token=admin.token)["data"]["setMember"]
    assert answer["inviteEmailedTo"] == "yann@example.com" and answer["inviteLink"].startswith("/set-password/")
    assert mailoutbox == []  # not from the request: from a worker
    queued = [entry.task for entry in OrmQ.objects.filter(key=settings.Q_ALERT_CLUSTER)]
    member = Member.objects.get(user__username="yann")
    assert [(task["func"], task["args"]) for task in queued] == [("monitoring.organizations.tasks.send_invite", (member.pk,))]

    assert send_invite(member.pk) is True
    (mail,) = mailoutbox
    assert mail.to == ["yann@example.com"] and "north" in mail.subject
    link = re.search(r"https://uptime\.example\.com(/set-password/\S+/)", mail.body).group(1)
    browser = Client()
    response = browser.post(link, {"new_password1": "a long new password", "new_password2": "a long new password"})
    assert response.status_code == 302
    assert _sign_in(Client(), "yann", "a long new password").status_code == 302
    assert send_invite(member.pk) is False and len(mailoutbox) == 1  # a password set: nothing more to send
    # Someone with a password is not emailed, address or not.
    again = graphql(client, mutation, {"email": "yann@example.com"}, token=admin.token)["data"]["setMember"]
    assert again["inviteEmailedTo"] is None and again["inviteLink"] is None
    # The members page: the same, from its form.
    headers = {"Authorization": f"Bearer {admin.token}", "Accept": "text/html"}
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post("/organization/members/", {"username": "ines", "role": "VIEWER", "group": "", "email": "ines@example.com"}, headers=headers)
    assert page.status_code == 200 and '<span id="invite-emailed">ines@example.com</span>' in page.content.decode()
    assert client.post("/organization/members/", {"username": "jo", "role": "VIEWER", "email": "jo@"}, headers=headers).status_code == 400
    assert not User.objects.filter(username="jo").exists()
    assert send_invite(Member.objects.get(user__username="ines").pk) is True and mailoutbox[-1].to == ["ines@example.com"]
