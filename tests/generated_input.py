"""Generated bad input: the bounded Hypothesis settings, the files' headers, what was
stored before and how a refusal must read."""

import string

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from monitoring.ingest import (
    load_business_hours_file,
    load_status_file,
    load_timezones_file,
)
from monitoring.models import BusinessHours, StatusPoll, Store

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


raw_bytes = st.binary(max_size=2000)


def snapshot() -> tuple:
    return (
        sorted(StatusPoll.objects.filter(store__store_id="baseline").values_list("timestamp_utc", "is_active")),
        sorted(BusinessHours.objects.filter(store__store_id="baseline").values_list("day_of_week", "start_time_local")),
        Store.objects.get(store_id="baseline").timezone_name,
    )


def check_result(result) -> None:
    accounted = result.loaded + result.replaced + result.unchanged + result.superseded + result.skipped + result.rejected
    assert accounted == result.rows
    for rejection in result.rejections:
        assert rejection.reason and rejection.line is not None and rejection.line >= 2
