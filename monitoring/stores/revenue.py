"""Expected revenue of stores (docs/rules.md §13): read in bulk for the engine (cents per
local hour of the week, and each store's currency), read and replaced one store at a
time for the API and the admin (files go through monitoring.ingest).

Values arrive already read by the grammar (monitoring.kernel.values: `day_of_week`,
`hour_of_day`, `money_amount`, `currency`). A store's rows share one currency: a write
replaces all of a store's rows at once, with the one currency given. Writes take the
writer lock (monitoring.stores.data_version), as every writer of store data does, so
cached figures never outlive them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import connection, transaction

from monitoring.audit import audit_record
from monitoring.kernel.copy_format import decode_records
from monitoring.kernel.values import InvalidValue
from monitoring.models import Store, StoreRevenue
from monitoring.stores.access import Access, stores_visible
from monitoring.stores.data_version import writer_lock
from monitoring.stores.selectors import store_positions, store_scope

HOURS_OF_WEEK = 7 * 24


@dataclass(frozen=True)
class RevenueRates:
    """Per store, in the order asked for: whether it has rows (no rows: no estimate),
    cents expected in each local hour of the week (weekday * 24 + hour, 0 = Monday
    00:00–01:00; an hour without a row expects 0) and its currency (None without rows)."""

    has_rows: np.ndarray
    cents: np.ndarray
    currency: list[str | None]


#: A binary COPY row of (store pk, hour of the week, cents, currency as a number: its
#: three letters' codes, 65536 * first + 256 * second + third): bigint, integer, bigint, integer.
_RATE_ROW = np.dtype(
    [("fields", ">i2"), ("store_len", ">i4"), ("store_pk", ">i8"), ("hour_len", ">i4"), ("hour", ">i4"),
     ("cents_len", ">i4"), ("cents", ">i8"), ("code_len", ">i4"), ("code", ">i4")]
)
_CODE_SQL = "(ascii(substr(currency, 1, 1)) * 65536 + ascii(substr(currency, 2, 1)) * 256 + ascii(substr(currency, 3, 1)))"


def revenue_rates(*, store_pks: Sequence[int]) -> RevenueRates:
    """The expected revenue of these stores, in one binary COPY read as arrays (a
    fleet's rows: 168 a store). The whole fleet (a dense run of keys) is read by one
    bounded scan, other stores by their keys."""
    pks = np.asarray(list(store_pks), dtype=np.int64)
    cents = np.zeros((len(pks), HOURS_OF_WEEK), np.int64)
    has_rows = np.zeros(len(pks), bool)
    currency: list[str | None] = [None] * len(pks)
    if not len(pks):
        return RevenueRates(has_rows=has_rows, cents=cents, currency=currency)
    scope, params = store_scope(pks)  # rows of other stores are dropped below
    buffer = io.BytesIO()
    with connection.cursor() as cursor:
        sql = cursor.mogrify(
            f"SELECT store_id, day_of_week * 24 + hour, (expected_revenue * 100)::bigint, {_CODE_SQL}"
            f" FROM {StoreRevenue._meta.db_table} WHERE {scope}",
            params,
        ).decode()
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT binary)", buffer)
    records = decode_records(buffer.getbuffer(), _RATE_ROW)
    if not len(records):
        return RevenueRates(has_rows=has_rows, cents=cents, currency=currency)
    positions = store_positions(pks, records["store_pk"])
    asked = positions >= 0
    rows = positions[asked]
    cents[rows, records["hour"][asked].astype(np.int64)] = records["cents"][asked].astype(np.int64)
    has_rows[rows] = True
    codes = np.zeros(len(pks), np.int64)
    codes[rows] = records["code"][asked].astype(np.int64)  # one currency per store
    names = {code: "".join(map(chr, (code >> 16, (code >> 8) & 255, code & 255))) for code in np.unique(codes[has_rows]).tolist()}
    for i in np.flatnonzero(has_rows).tolist():
        currency[i] = names[int(codes[i])]
    return RevenueRates(has_rows=has_rows, cents=cents, currency=currency)


def store_revenue_rows(*, store: Store) -> list[StoreRevenue]:
    """The store's rows, by weekday and hour."""
    return list(StoreRevenue.objects.filter(store_id=store.pk).order_by("day_of_week", "hour"))


def revenue_in_scope(*, access: Access, store_ids: Sequence[str] | None = None) -> bool:
    """True when some store the caller can see (of `store_ids`, when given) has revenue
    rows: a range report's CSV then has the lost-revenue columns (docs/rules.md §13)."""
    stores = stores_visible(access=access)
    if store_ids is not None:
        stores = stores.filter(store_id__in=list(store_ids))
    return StoreRevenue.objects.filter(store__in=stores.values("pk")).exists()


def store_revenue_set(
    *, store: Store, rows: Sequence[tuple[int, int, Decimal]], currency: str, actor: str = "system"
) -> list[StoreRevenue]:
    """Makes the store's rows exactly `rows` ((weekday, hour, amount)), all in `currency`;
    no rows: the store has no estimate any more. Rows already stored as asked stay
    untouched. Two rows for one weekday and hour are refused (`rows[i]`)."""
    seen: dict[tuple[int, int], int] = {}
    for index, (day, hour, _amount) in enumerate(rows):
        if (day, hour) in seen:
            raise InvalidValue(
                f"rows[{index}]", f"weekday {day}, hour {hour} is given twice (also rows[{seen[day, hour]}])"
            )
        seen[day, hour] = index
    wanted = {(day, hour): amount for day, hour, amount in rows}
    with transaction.atomic():
        with connection.cursor() as cursor:
            writer_lock(cursor)
        stored = {(row.day_of_week, row.hour): row for row in store_revenue_rows(store=store)}
        before = _revenue_rows(stored.values())
        gone = [row.pk for key, row in stored.items() if key not in wanted]
        if gone:
            StoreRevenue.objects.filter(pk__in=gone).delete()
        changed = [
            row for key, row in stored.items()
            if key in wanted and (row.expected_revenue != wanted[key] or row.currency != currency)
        ]
        for row in changed:
            row.expected_revenue, row.currency = wanted[row.day_of_week, row.hour], currency
        if changed:
            StoreRevenue.objects.bulk_update(changed, ["expected_revenue", "currency"])
        new = [key for key in wanted if key not in stored]
        if new:
            StoreRevenue.objects.bulk_create(
                StoreRevenue(store=store, day_of_week=day, hour=hour, expected_revenue=wanted[day, hour], currency=currency)
                for day, hour in new
            )
        after = store_revenue_rows(store=store)
        if gone or changed or new:
            audit_record(
                actor=actor, action="revenue.set", object_type="store_revenue", object_id=store.store_id,
                before=before, after=_revenue_rows(after), organization_id=store.owner_id,
            )
        return after


def _revenue_rows(rows) -> list[list]:
    """Rows as the audit log shows them: [weekday, hour, amount, currency], in order."""
    return sorted([row.day_of_week, row.hour, str(row.expected_revenue), row.currency] for row in rows)
