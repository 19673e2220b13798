"""No admin URL filters on a secret: a change list filtered on a webhook's signing secret
or a token's hash would answer yes or no to a guess, one character at a time."""

import pytest
from monitoring.alerts.webhooks import webhook_create
from monitoring.models import Owner
from monitoring.stores.access import EVERYTHING, token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def secrets_kept():
    owner = Owner.objects.create(name="alice")
    token, _ = token_create(name="dashboard", owner=owner)
    webhook, secret = webhook_create(access=EVERYTHING, url="https://example.com/hook")
    return {"owner": owner, "token": token, "webhook": webhook, "secret": secret}


def test_change_lists_refuse_filters_on_secrets(admin_client, secrets_kept):
    secret, key_hash = secrets_kept["secret"], secrets_kept["token"].key_hash
    refused = [
        f"/admin/alerts/webhook/?secret__startswith={secret[:8]}",
        f"/admin/alerts/webhook/?secret={secret}",
        "/admin/alerts/webhook/?secret__gt=whsec_",
        f"/admin/alerts/delivery/?webhook__secret__startswith={secret[:8]}",
        f"/admin/monitoring/apitoken/?key_hash__startswith={key_hash[:2]}",
        f"/admin/monitoring/apitoken/?key_hash__regex=^{key_hash[:2]}",
        f"/admin/monitoring/owner/?tokens__key_hash__startswith={key_hash[:2]}",
    ]
    for url in refused:
        response = admin_client.get(url)
        assert response.status_code == 400, url
    # The filters the lists offer still work.
    owner_filter = f"/admin/monitoring/apitoken/?owner__id__exact={secrets_kept['owner'].pk}"
    assert admin_client.get(owner_filter).status_code == 200
    assert admin_client.get("/admin/alerts/webhook/?q=example.com").status_code == 200
