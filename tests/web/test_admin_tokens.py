"""API tokens in the admin: a token made here is shown once and stored only as a hash,
it belongs to an owner or is staff, never both, and it can be revoked."""

import hashlib
import re

import pytest
from monitoring.models import ApiToken

from tests.admin_pages import admin_url

pytestmark = pytest.mark.django_db


def test_token_created_in_admin_is_shown_once_and_stored_hashed(admin_client, admin_world):
    response = admin_client.post(
        admin_url(ApiToken, "add"), {"name": "poller", "owner": admin_world["owner"].pk, "is_staff": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    raw = re.search(r'<code id="new-token">(sum_[\w-]+)</code>', html).group(1)
    assert html.count(raw) == 1
    assert "no-store" in response["Cache-Control"]
    token = ApiToken.objects.get(name="poller")
    assert token.owner == admin_world["owner"] and not token.is_staff
    assert token.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert token.key_prefix == raw[:8]
    stored = [str(value) for value in ApiToken.objects.filter(pk=token.pk).values().get().values()]
    assert not any(raw in value for value in stored)
    # Not kept for later: not in a cookie, not on any later page.
    assert not any(raw in morsel.value for morsel in response.cookies.values())
    for url in (admin_url(ApiToken, "changelist"), admin_url(ApiToken, "change", token.pk), "/admin/"):
        assert raw not in admin_client.get(url).content.decode()
    # It works as a bearer token, with the owner's scope.
    response = admin_client.get("/stores/1234567890123456789/", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200


def test_token_admin_rejects_owner_and_staff_together(admin_client, admin_world):
    response = admin_client.post(
        admin_url(ApiToken, "add"), {"name": "both", "owner": admin_world["owner"].pk, "is_staff": "on"}
    )
    assert response.status_code == 200
    assert "choose exactly one" in response.content.decode()
    assert not ApiToken.objects.filter(name="both").exists()
    response = admin_client.post(admin_url(ApiToken, "add"), {"name": "staff", "is_staff": "on"})
    assert re.search(r'<code id="new-token">sum_', response.content.decode())
    assert ApiToken.objects.get(name="staff").is_staff


def test_revoke_action(admin_client, admin_world):
    response = admin_client.post(
        admin_url(ApiToken, "changelist"),
        {"action": "revoke", "_selected_action": [admin_world["token"].pk]},
        follow=True,
    )
    assert "1 token(s) revoked." in response.content.decode()
    assert ApiToken.objects.get(pk=admin_world["token"].pk).revoked_at is not None
