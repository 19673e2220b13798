"""What the ingest tests write and read back: a file in a folder, the stored polls,
hours and zones, and a load's rejections."""

from datetime import datetime, time, timezone
from pathlib import Path

from django.db import connection
from monitoring.models import BusinessHours, SpecialHours, StatusPoll, Store

ROOT = Path(__file__).resolve().parent.parent


UTC = timezone.utc


T0 = datetime(2023, 1, 22, 12, 9, 39, 388884, tzinfo=UTC)


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def polls() -> list[tuple[str, datetime, bool]]:
    return sorted(StatusPoll.objects.values_list("store__store_id", "timestamp_utc", "is_active"))


def poll_rows_with_versions() -> list[tuple]:
    """The stored polls with their row versions (xmin): unchanged rows were not rewritten."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT store_id, timestamp_utc, is_active, xmin::text FROM monitoring_statuspoll")
        return sorted(cursor.fetchall())


def hours() -> list[tuple[str, int, time, time]]:
    return sorted(
        BusinessHours.objects.values_list("store__store_id", "day_of_week", "start_time_local", "end_time_local")
    )


def zones() -> dict[str, str | None]:
    return dict(Store.objects.values_list("store_id", "timezone_name"))


def rejections(result) -> list[tuple[int, str]]:
    return [(r.line, r.field) for r in result.rejections]


PLAIN = "store_id,timestamp_utc,status\n1,2023-01-22 12:09:39.388884 UTC,active\n2,2023-01-22 13:00:00 UTC,inactive\n"


HOURS_FILE = (
    "store_id,dayOfWeek,start_time_local,end_time_local\n"
    "1,0,09:00,17:00\n"  # 2
    "1,1,09:00:00,12:00:00\n"  # 3 split shift
    "1,1,13:30:00.500000,24:00\n"  # 4 … until the end of the day
    "1,2,22:00:00,02:00:00\n"  # 5 past midnight
    "1,3,00:00,24:00:00\n"  # 6 the whole day
    "2,6,7:00,23:59:59\n"  # 7 one-digit hour
    "3,7,09:00,17:00\n"  # 8 day out of range
    "3,Mon,09:00,17:00\n"  # 9 not a number
    "3,1,24:00,17:00\n"  # 10 24:00 as a start
    "3,1,9h,17:00\n"  # 11 unparsable
    "3,1,09:00,25:00\n"  # 12 out of range
    "3,,09:00,17:00\n"  # 13 missing day
    "1,0,09:00,17:00\n"  # 14 exact duplicate of line 2
)


def specials() -> list[tuple]:
    return sorted(
        SpecialHours.objects.values_list("store__store_id", "date", "start_time_local", "end_time_local"),
        key=lambda row: (row[0], row[1], row[2] or time(0), row[3] or time(0)),
    )
