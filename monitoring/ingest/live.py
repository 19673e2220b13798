"""Live polls (GraphQL `recordPolls`): each item validated by the same grammar as a
CSV row (`values.poll`, without the CSV's trimming), scoped to the caller's stores,
and written by the same staging table and merge as a status file."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from django.db import connection, transaction

from monitoring.stores.access import Access, stores_visible
from monitoring.stores.data_version import writer_lock
from monitoring.ingest.poll_arrays import PollArrays, RowsInTimeOrder
from monitoring.ingest.poll_writes import insert_store_ids, polls_write_staged, store_pks, tune_session
from monitoring.ingest.results import FileLoadResult, Rejection, load_envelope
from monitoring.ingest.signals import live_polls_stored
from monitoring.kernel.values import InvalidPoll, poll, poll_time_limit
from monitoring.stores.partitions import current_weeks

LIVE = "polls"


def polls_record(*, polls: Iterable, access: Access) -> FileLoadResult:
    """Stores live polls, each `(store_id, timestamp_utc, status)`, in one transaction.
    A poll refused (by the grammar, or for a store the caller may not write: an owner
    writes only to their own stores, staff may create new ones) is a rejection with
    the item's `index` (from 0), its field and reason, and stores nothing: not even
    its store. The later poll wins per key, as in a file. Partitions are created only
    for the current weeks (`current_weeks`): a poll of an older week whose partition
    does not exist is stored in the DEFAULT partition, so that no caller adds shared
    structure (every partition slows every tenant's plans) for weeks of its choosing."""
    latest = poll_time_limit()
    with load_envelope(kind=LIVE, path=None, keep_all_rejections=True) as load:
        result = load.result
        valid: list[tuple[int, str, object, bool]] = []
        for index, item in enumerate(polls):
            result.rows += 1
            try:
                values = tuple(item)
            except TypeError:
                values = ()
            raw = ",".join("" if value is None else str(value) for value in values)
            if len(values) != 3:
                load.rejects.add(Rejection(None, None, "", f"expected 3 values, found {len(values)}", raw, index))
                continue
            try:
                valid.append((index, *poll(*values, latest=latest, from_csv=False)))
            except InvalidPoll as error:
                load.rejects.add(Rejection(None, None, error.field, error.reason, raw, index))
        with transaction.atomic(), connection.cursor() as cursor:
            tune_session(cursor, bulk=False)
            writer_lock(cursor)
            store_ids = {row[1] for row in valid}
            if access.is_owner:
                # Exactly the id that would be stored is looked up: someone else's store
                # and a store that does not exist are the same "not found".
                own = set(
                    stores_visible(access=access).filter(store_id__in=list(store_ids)).values_list("store_id", flat=True)
                )
                for index, sid, *_ in valid:
                    if sid not in own:
                        load.rejects.add(Rejection(None, None, "store_id", "store not found", sid, index))
                valid = [row for row in valid if row[1] in own]
            else:
                result.stores_created = insert_store_ids(cursor, store_ids)
            if valid:
                pks = store_pks(cursor, {row[1] for row in valid})
                polls_in = PollArrays.from_rows([(index, pks[sid], moment, active) for index, sid, moment, active in valid])
                result.loaded, result.replaced, result.unchanged, result.superseded = polls_write_staged(
                    cursor, RowsInTimeOrder(polls_in, with_line=True), keys_distinct=False,
                    timings=result.timings, temporary=True, summarize=False,
                    new_weeks_within=current_weeks(now=datetime.now(UTC)),
                )
        load.rejects.kept.sort(key=lambda rejection: rejection.index)
    if valid:
        live_polls_stored.send(sender=LIVE, polls=[(pks[row[1]], row[2]) for row in valid])
    return load.result
