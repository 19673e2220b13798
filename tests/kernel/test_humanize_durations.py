"""One rule for every duration shown to people (kernel/humanize.duration): the two
largest units, cut down, never rounded up; coverage uses it too, so an amount and the
business time beside it read alike."""

import pytest

from monitoring.kernel import humanize

H = 3600


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0, "0 min"),
        (0.4, "under 1 s"),
        (59.9, "59 s"),
        (104.5 * 60, "1 h 44 min"),
        (10.5 * H, "10 h 30 min"),
        (73.9 * H, "3 d 1 h"),
        (74 * H, "3 d 2 h"),
        (7 * 24 * H, "7 d"),
        (24 * H - 1, "23 h 59 min"),
    ],
)
def test_duration_is_cut_down_never_rounded_up(seconds, text):
    assert humanize.duration(seconds) == text


def test_coverage_reads_like_the_business_time_beside_it():
    day = humanize.coverage(10.5 * H, 0, 0)
    assert day["coverage"] == "10 h 30 min of 10 h 30 min known"
    assert day["coverage"].endswith(f"of {humanize.duration(10.5 * H)} known")
    week = humanize.coverage(50 * H, 0, 23.9 * H)  # 73.9 h of business time
    assert week["coverage"] == f"2 d 2 h of {humanize.duration(73.9 * H)} known" == "2 d 2 h of 3 d 1 h known"


def test_known_never_reads_more_than_the_window():
    for known in range(0, 48 * H, 7 * 60 + 13):
        business = known + 59  # a minute's unknown at most
        text = humanize.coverage(known, 0, business - known)["coverage"] or ""
        if text:
            shown_known, shown_business = text.removesuffix(" known").split(" of ")
            assert shown_known == humanize.duration(known) and shown_business == humanize.duration(business)
