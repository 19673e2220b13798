"""Bad input, generated: the loader and the API never crash, say why they refuse, and
never lose what was stored before. Bounded example counts keep CI fast."""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitoring.ingest import (
    LoadError,
    load_business_hours_file,
    load_status_file,
    load_timezones_file,
)
from monitoring.models import BusinessHours, StatusPoll, Store
from tests.factories import worked_example_store

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))

HEADERS = {
    load_status_file: ["store_id,timestamp_utc,status", "store_id,status,timestamp_utc", "\ufeffstore_id, status ,timestamp_utc"],
    load_business_hours_file: ["store_id,dayOfWeek,start_time_local,end_time_local", "store_id,day,start_time_local,end_time_local"],
    load_timezones_file: ["store_id,timezone_str"],
}

# Plausible-looking cells mixed with garbage: the interesting inputs are near-misses.
cells = st.one_of(
    st.sampled_from([
        "", " ", "1", "abc", "active", "INACTIVE", "inactiv", "2023-01-25 18:13:22.388884 UTC",
        "2023-02-30 10:00:00 UTC", "2023-01-25T18:13:22Z", "2023-01-25 25:00:00", "99999-01-01",
        "0", "6", "7", "-1", "09:00", "24:00", "23:59:59.999999", "25:61", "America/New_York",
        "Mars/Olympus", "9223372036854775807", "1e19", "\"quoted, comma\"", "\"unterminated",
        "\x00", "é", "\u202e", "x" * 5000,
    ]),
    st.text(alphabet=string.printable, max_size=40),
    st.text(max_size=20),
)
rows = st.lists(st.lists(cells, min_size=0, max_size=6).map(",".join), max_size=30)
line_ends = st.sampled_from(["\n", "\r\n", "\r"])
raw_bytes = st.binary(max_size=2000)


def snapshot() -> tuple:
    return (
        sorted(StatusPoll.objects.filter(store__store_id="baseline").values_list("timestamp_utc", "is_active")),
        sorted(BusinessHours.objects.filter(store__store_id="baseline").values_list("day_of_week", "start_time_local")),
        Store.objects.get(store_id="baseline").timezone_name,
    )


@pytest.fixture
def baseline():
    store, _ = worked_example_store("baseline")
    store.timezone_name = "America/New_York"
    store.save()
    return snapshot()


def check_result(result) -> None:
    accounted = result.loaded + result.replaced + result.unchanged + result.superseded + result.skipped + result.rejected
    assert accounted == result.rows
    for rejection in result.rejections:
        assert rejection.reason and rejection.line is not None and rejection.line >= 2


@pytest.mark.parametrize("loader", list(HEADERS), ids=lambda f: f.__name__)
@FUZZ
@given(data=st.data(), body=rows, end=line_ends, as_bytes=st.booleans(), garbage=raw_bytes)
def test_loader_survives_generated_files(loader, baseline, tmp_path_factory, data, body, end, as_bytes, garbage):
    header = data.draw(st.sampled_from(HEADERS[loader]))
    lines = [line for line in body if "baseline" not in line]
    content = (end.join([header, *lines])).encode("utf-8", "surrogatepass") if not as_bytes else header.encode() + b"\n" + garbage
    path = tmp_path_factory.mktemp("fuzz") / "input.csv"
    path.write_bytes(content)
    try:
        result = loader(path=path)
    except LoadError as error:
        assert str(error)  # refused whole, with a reason
    else:
        check_result(result)
    assert snapshot() == baseline


@FUZZ
@given(content=raw_bytes)
def test_loader_refuses_arbitrary_bytes_cleanly(baseline, tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "store_status.csv"
    path.write_bytes(content)
    try:
        check_result(load_status_file(path=path))
    except LoadError as error:
        assert "store_status.csv" in str(error)
    assert snapshot() == baseline


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
