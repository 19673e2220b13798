"""recordPolls: validated as the loader validates, its time a DateTime, its batch capped."""

from datetime import timedelta

import pytest

from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db


def test_record_polls_validates_like_the_loader(gql):
    from monitoring.models import StatusPoll

    store, noon = worked_example_store()
    mutation = """mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) {
        received loaded replaced unchanged superseded rejected rejections { index field reason } userErrors { field } } }"""
    polls = [
        {"storeId": "worked-example", "timestampUtc": "2023-01-25 18:00:00.5 UTC", "status": "ACTIVE"},
        {"storeId": "worked-example", "timestampUtc": "2099-01-25T18:00:00Z", "status": "active"},
        {"storeId": "new-store", "timestampUtc": "2023-01-25T18:05:00Z", "status": "sleeping"},
        {"storeId": "worked-example", "timestampUtc": "2023-01-25T16:15:00+00:00", "status": "active"},
    ]
    result = gql.query(mutation, {"polls": polls}).data["recordPolls"]
    assert result["received"] == 4 and result["loaded"] == 1 and result["replaced"] == 1
    assert result["rejected"] == 2 and result["userErrors"] == []
    # The rejected field in PollInput's own spelling.
    assert [(r["index"], r["field"]) for r in result["rejections"]] == [(1, "timestampUtc"), (2, "status")]
    # 16:15 UTC is 11:15 New York: the stored inactive poll was replaced (later wins).
    assert StatusPoll.objects.get(store=store, timestamp_utc=noon - timedelta(minutes=45)).is_active is True
    again = gql.query(mutation, {"polls": polls[:1]}).data["recordPolls"]
    assert again["unchanged"] == 1 and again["loaded"] == 0


def test_record_polls_time_is_a_date_time(gql):
    """PollInput.timestampUtc is the DateTime scalar: text it cannot read refuses the
    request (nothing stored), naming the poll and its field."""
    from monitoring.models import StatusPoll

    worked_example_store()
    before = StatusPoll.objects.count()
    for text in ("not a time", "2023-01-25T18:00:00"):
        polls = [
            {"storeId": "worked-example", "timestampUtc": "2023-01-25T17:00:00Z", "status": "active"},
            {"storeId": "worked-example", "timestampUtc": text, "status": "active"},
        ]
        result = gql.query(
            "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { loaded } }", {"polls": polls},
            assert_no_errors=False,
        )
        (error,) = result.errors
        assert error["extensions"] == {"code": "INVALID_ARGUMENT", "variable": "polls", "argument": "polls[1].timestampUtc"}
        assert text in error["message"]
    assert StatusPoll.objects.count() == before


def test_record_polls_batch_is_capped(gql):
    polls = [{"storeId": "s", "timestampUtc": "2023-01-25 18:00:00 UTC", "status": "active"}] * 5001
    result = gql.query(
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { received } }", {"polls": polls},
        assert_no_errors=False,
    )
    assert result.errors[0]["message"] == "at most 5000 polls per request"
    assert result.errors[0]["extensions"] == {"code": "INVALID_ARGUMENT", "argument": "polls"}
    selected = gql.query(
        "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { received loaded userErrors { field message code } } }",
        {"polls": polls},
    ).data["recordPolls"]
    assert selected == {"received": 5001, "loaded": 0, "userErrors": [
        {"field": "polls", "message": "at most 5000 polls per request", "code": "INVALID_ARGUMENT"}]}
