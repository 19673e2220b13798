"""Stores taken a chunk at a time: how many a chunk holds, and chunks computed two at a
time in one process (`generate_report`), their results handed on in order."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from django.db import connection

T = TypeVar("T")

#: Stores below which a fleet is not split further just to keep every worker busy.
MIN_CHUNK = 1000


def balanced_chunk_size(*, total: int, size: int, parallel: int) -> int:
    """Stores per chunk for `total` stores: as many chunks as chunks of `size` need, but
    at least one per `parallel` worker (unless chunks would fall below MIN_CHUNK), all of
    one size: 14,000 stores on two workers are 7,000 each, not 10,000 then 4,000."""
    chunks = max(math.ceil(total / max(size, 1)), min(parallel, math.ceil(total / MIN_CHUNK)), 1)
    return max(1, math.ceil(total / chunks))


def computed_in_order(
    batches: Iterable[T], compute: Callable[[T], list], *, parallel: int, prepare: Callable[[], None] | None = None
) -> Iterator[list]:
    """compute(batch) of each batch, in order, `parallel` at a time in threads (each with
    its own database connection, closed when its batch is done): at most `parallel`
    results are held. `prepare`, when given, runs in a thread of its own from the start
    (what every batch will need, read while the first batches read their own). Inside a
    transaction the batches are computed here, in turn: other connections would not see
    its writes."""
    if parallel <= 1 or connection.in_atomic_block:
        for batch in batches:
            yield compute(batch)
        return

    def in_thread(batch: T) -> list:
        try:
            return compute(batch)
        finally:
            connection.close()

    def prepared() -> None:
        try:
            prepare()
        finally:
            connection.close()

    with ThreadPoolExecutor(parallel + (prepare is not None), thread_name_prefix="chunk") as pool:
        if prepare is not None:
            pool.submit(prepared)  # its failure is the batches' too: they read it again themselves
        window: deque = deque()
        for batch in batches:
            window.append(pool.submit(in_thread, batch))
            if len(window) >= parallel:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
