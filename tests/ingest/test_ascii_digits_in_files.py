"""Every kind of file refuses a value written with another script's digits (docs/rules.md §7),
line by line."""

from datetime import time
from pathlib import Path

import pytest
from monitoring.ingest import (
    load_business_hours_file,
    load_special_hours_file,
    load_status_file,
)
from monitoring.models import BusinessHours, SpecialHours, StatusPoll

pytestmark = pytest.mark.django_db


def write(directory: Path, name: str, content: str) -> Path:
    path = directory / name
    path.write_text(content, encoding="utf-8")
    return path


def test_special_hours_file_rejects_other_digits(tmp_path):
    path = write(
        tmp_path,
        "special_hours.csv",
        "store_id,date,start_time_local,end_time_local\n"
        "a,2023-01-25,10:00,11:00\n"
        "b,2023-01-25,０９:００,17:00\n"  # line 3
        "c,2023-01-25,09:00,١٧:٠٠\n"  # line 4
        "d,2023-01-25,09:0०,17:00\n"  # line 5
        "e,٢٠٢٣-01-25,09:00,17:00\n",  # line 6
    )
    result = load_special_hours_file(path=path)
    assert [(r.line, r.field) for r in result.rejections] == [
        (3, "start_time_local"), (4, "end_time_local"), (5, "start_time_local"), (6, "date"),
    ]
    assert all(r.reason.startswith("unparsable") for r in result.rejections)
    assert result.loaded == 1
    assert list(SpecialHours.objects.values_list("store__store_id", "start_time_local")) == [("a", time(10))]


def test_business_hours_file_rejects_other_digits(tmp_path):
    path = write(
        tmp_path,
        "menu_hours.csv",
        "store_id,dayOfWeek,start_time_local,end_time_local\n"
        "a,0,09:00,17:00\n"
        "b,0,０９:００,17:00\n"  # line 3
        "c,٣,09:00,17:00\n"  # line 4
        "d,1,09:00,١٧:٠٠\n",  # line 5
    )
    result = load_business_hours_file(path=path)
    assert [(r.line, r.field) for r in result.rejections] == [
        (3, "start_time_local"), (4, "dayOfWeek"), (5, "end_time_local"),
    ]
    assert result.loaded == 1
    assert list(BusinessHours.objects.values_list("store__store_id", flat=True)) == ["a"]


def test_status_file_rejects_other_digits(tmp_path):
    path = write(
        tmp_path,
        "store_status.csv",
        "store_id,timestamp_utc,status\n"
        "a,2023-01-25 18:13:22 UTC,active\n"
        "b,2023-01-25 １８:13:22 UTC,active\n"  # line 3
        "c,2023-01-25 18:13:22.٥ UTC,active\n",  # line 4
    )
    result = load_status_file(path=path)
    assert [(r.line, r.field) for r in result.rejections] == [(3, "timestamp_utc"), (4, "timestamp_utc")]
    assert all(r.reason.startswith("unparsable ") for r in result.rejections)
    assert list(StatusPoll.objects.values_list("store__store_id", flat=True)) == ["a"]
