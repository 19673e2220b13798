"""Special hours of one store (docs/rules.md §9), read and edited one date at a time (the GraphQL
API; files go through monitoring.ingest). On a date with special rows those rows are the
store's shifts that day, its weekly hours do not apply; a date given no shifts is closed
all day (one row with both times null). Clearing a date gives it back to the weekly hours.

Values arrive already read by the grammar (monitoring.kernel.values: `local_date`,
`local_time`); the writes take the writer lock (monitoring.stores.data_version) as every other
writer of store data does, so cached reads never outlive them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from monitoring.audit import audit_record
from monitoring.stores.data_version import writer_lock
from monitoring.kernel.values import InvalidValue
from monitoring.models import SpecialHours, Store

#: Most shifts one date may be given (a split day has two or three).
MAX_SHIFTS_PER_DATE = 10


def special_hours_between(
    *, store: Store, start: date | None = None, end: date | None = None, limit: int | None = None
) -> list[SpecialHours]:
    """The store's special rows with start <= date <= end (either bound optional), by
    date and start time (a closed day's row first), at most `limit`."""
    rows = special_hours_rows(store=store, start=start, end=end).order_by("date", "start_time_local", "end_time_local")
    return list(rows[:limit] if limit is not None else rows)


def special_hours_rows(*, store: Store, start: date | None = None, end: date | None = None) -> QuerySet[SpecialHours]:
    """The store's special rows with start <= date <= end (either bound optional), unordered."""
    rows = SpecialHours.objects.filter(store_id=store.pk)
    if start is not None:
        rows = rows.filter(date__gte=start)
    if end is not None:
        rows = rows.filter(date__lte=end)
    return rows


def special_hours_set(
    *, store: Store, date: date, shifts: Sequence[tuple[time, time]], actor: str = "system"
) -> list[SpecialHours]:
    """Makes `date`'s special rows exactly `shifts` ((start, end) local times; no shift:
    closed all day). Rows already stored as asked stay untouched; returns the date's rows.
    A store holds at most SPECIAL_HOURS_MAX_ROWS_PER_STORE rows (counted under the writer
    lock, so concurrent writes cannot pass it together). A change is written to the audit
log as done by `actor`."""
    wanted = list(dict.fromkeys(shifts)) or [(None, None)]
    if len(wanted) > MAX_SHIFTS_PER_DATE:
        raise InvalidValue("shifts", f"at most {MAX_SHIFTS_PER_DATE} shifts a date")
    with transaction.atomic():
        with connection.cursor() as cursor:
            writer_lock(cursor)
        ceiling = settings.SPECIAL_HOURS_MAX_ROWS_PER_STORE
        others = SpecialHours.objects.filter(store_id=store.pk).exclude(date=date).count()
        if others + len(wanted) > ceiling:
            raise InvalidValue(
                "date",
                f"the store already has {others} special-hours rows on other dates; at most {ceiling} a store"
                " (clear dates that are past first)",
            )
        stored = {(row.start_time_local, row.end_time_local): row for row in _rows_of(store, date)}
        gone = [row.pk for key, row in stored.items() if key not in wanted]
        if gone:
            SpecialHours.objects.filter(pk__in=gone).delete()
        new = [key for key in wanted if key not in stored]
        if new:
            SpecialHours.objects.bulk_create(
                SpecialHours(store=store, date=date, start_time_local=start, end_time_local=end) for start, end in new
            )
        rows = _rows_of(store, date)
        if gone or new:
            _audit(store, date, actor=actor, action="special_hours.set", before=list(stored), after=rows)
        return rows


def special_hours_clear(*, store: Store, date: date, actor: str = "system") -> int:
    """Removes `date`'s special rows: the weekly hours apply again. Returns how many."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            writer_lock(cursor)
        before = _rows_of(store, date)
        removed, _ = SpecialHours.objects.filter(store_id=store.pk, date=date).delete()
        if removed:
            _audit(store, date, actor=actor, action="special_hours.clear", before=before, after=[])
    return removed


def _shifts(rows) -> dict | None:
    """A date's rows as the audit log shows them; None: no special hours (the weekly ones)."""
    pairs = [(row.start_time_local, row.end_time_local) if isinstance(row, SpecialHours) else row for row in rows]
    if not pairs:
        return None
    if pairs == [(None, None)]:
        return {"closed": True, "shifts": []}
    return {"closed": False, "shifts": [[f"{start:%H:%M:%S}", f"{end:%H:%M:%S}"] for start, end in sorted(pairs)]}


def _audit(store: Store, day: date, *, actor: str, action: str, before, after) -> None:
    audit_record(
        actor=actor, action=action, object_type="special_hours", object_id=f"{store.store_id} {day:%Y-%m-%d}",
        before=_shifts(before), after=_shifts(after), organization_id=store.owner_id,
    )


def _rows_of(store: Store, day: date) -> list[SpecialHours]:
    return list(
        SpecialHours.objects.filter(store_id=store.pk, date=day).order_by("start_time_local", "end_time_local")
    )
