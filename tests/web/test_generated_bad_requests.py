"""Bad requests, generated: recordPolls and the REST endpoints never answer 500 and
never lose what was stored before."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.generated_input import FUZZ, cells, raw_bytes, snapshot

pytestmark = pytest.mark.django_db


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)


poll_fields = st.fixed_dictionaries(
    {},
    optional={"storeId": json_values | cells, "timestampUtc": json_values | cells, "status": json_values | cells},
)


@FUZZ
@given(polls=st.lists(poll_fields, max_size=8) | json_values)
def test_record_polls_never_500(client, baseline, polls):
    mutation = "mutation($polls: [PollInput!]!) { recordPolls(polls: $polls) { rejected rejections { index reason } } }"
    response = client.post(
        "/graphql/", {"query": mutation, "variables": {"polls": polls}}, content_type="application/json"
    )
    assert response.status_code in (200, 400)
    body = response.json()
    if body.get("errors"):
        assert all(error["message"] for error in body["errors"])
    else:
        result = body["data"]["recordPolls"]
        assert result["rejected"] == len(result["rejections"])
        assert all(r["reason"] for r in result["rejections"])
    assert snapshot() == baseline


@FUZZ
@given(body=raw_bytes | json_values.map(lambda v: json.dumps(v).encode()), path=st.sampled_from(
    ["/trigger_report/", "/get_report/", "/store/get_report/", "/store/baseline/trigger_report/"]
), content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
def test_rest_endpoints_never_500(client, baseline, body, path, content_type):
    response = client.post(path, body, content_type=content_type)
    assert response.status_code in (200, 400, 404)
    if response.status_code != 200:
        assert response.json()["error"]
