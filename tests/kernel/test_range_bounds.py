"""A page's range bound (values.range_bound): a local date or an instant with its offset,
by the one grammar; and the instant a local date begins (periods.local_midnight), a
missing midnight mapped as docs/rules.md §3 says."""

from datetime import date, datetime, timezone

import pytest
from monitoring.kernel import values
from monitoring.kernel.periods import local_midnight

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023-03-12", date(2023, 3, 12)),
        ("2023-03-12T00:00:00-05:00", datetime(2023, 3, 12, 5, tzinfo=UTC)),
        ("2023-03-12 05:00 UTC", datetime(2023, 3, 12, 5, tzinfo=UTC)),
        ("2023-03-12T05:00:00.5Z", datetime(2023, 3, 12, 5, 0, 0, 500_000, tzinfo=UTC)),
    ],
)
def test_a_bound_is_a_date_or_an_instant(text, expected):
    bound = values.range_bound(text, field="from")
    assert bound == expected and type(bound) is type(expected)


@pytest.mark.parametrize(
    "text, says",
    [
        ("2023-03-12T00:00:00", "has no offset"),
        ("12/03/2023", "unparsable"),
        ("2023-3-12", "unparsable"),
        ("２０２３-03-12", "unparsable"),  # fullwidth digits
        ("2023-02-29", "no such date"),
        ("1999-12-31", "years 2000–2100"),
        ("2101-01-01T00:00:00Z", "years 2000–2100"),
        ("", "missing"),
        (" 2023-03-12", "unparsable"),
    ],
)
def test_a_bad_bound_is_refused_naming_its_field(text, says):
    with pytest.raises(values.InvalidValue) as refused:
        values.range_bound(text, field="to")
    assert refused.value.field == "to" and says in refused.value.reason


def test_a_local_date_begins_at_its_midnight_in_the_zone():
    assert local_midnight(date(2023, 3, 12), "America/New_York") == datetime(2023, 3, 12, 5, tzinfo=UTC)
    assert local_midnight(date(2023, 3, 13), "America/New_York") == datetime(2023, 3, 13, 4, tzinfo=UTC)
    assert local_midnight(date(2023, 1, 20), "Asia/Kolkata") == datetime(2023, 1, 19, 18, 30, tzinfo=UTC)
    assert local_midnight(date(2023, 1, 20), None) == datetime(2023, 1, 20, 6, tzinfo=UTC)  # Chicago, the default
    # Santiago springs forward at midnight: 00:00 does not exist on 11 September 2022. It
    # maps under the offset before the change (-04:00), i.e. to 01:00 of the new time.
    assert local_midnight(date(2022, 9, 11), "America/Santiago") == datetime(2022, 9, 11, 4, tzinfo=UTC)
