"""`storeEvents` is a subscription over WebSocket (tests/e2e/test_live_updates.py): sent
over HTTP it is refused with INVALID_ARGUMENT saying where to send it, not failed."""

import pytest

from tests.graphql_client import graphql

pytestmark = pytest.mark.django_db


def test_a_subscription_over_http_is_refused_with_where_to_send_it(client):
    body = graphql(client, "subscription { storeEvents { id event } }")
    (error,) = body["errors"]
    assert body["data"] is None
    assert error["extensions"]["code"] == "INVALID_ARGUMENT"
    assert "over WebSocket" in error["message"] and "graphql-transport-ws" in error["message"]
