"""The CSV files, written fast (numpy tables of ASCII timestamps for the status file)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from monitoring.tools.generation.shapes import HOUR, US
from monitoring.tools.generation.stores import hms


# --------------------------------------------------------------------------- writers


def write_timezones(path: Path, ids: list[str], kinds: np.ndarray, zones: list[str]) -> int:
    lines = ["store_id,timezone_str\n"]
    for i, store_id in enumerate(ids):
        if kinds[i] == "none":
            continue
        lines.append(f"{store_id},{zones[i]}\n")  # empty name for kind "empty"
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return len(lines) - 1


def write_hours(path: Path, ids: list[str], rows: list[list[tuple[int, int, int]]]) -> int:
    lines = ["store_id,dayOfWeek,start_time_local,end_time_local\n"]
    text: dict[int, str] = {}  # few distinct times: format each once
    for store_id, store_rows in zip(ids, rows):
        for day, start, end in store_rows:
            a = text.get(start) or text.setdefault(start, hms(start))
            b = text.get(end) or text.setdefault(end, hms(end))
            lines.append(f"{store_id},{day},{a},{b}\n")
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return len(lines) - 1


def write_revenue(path: Path, ids: list[str], kinds: np.ndarray, cents: np.ndarray, hours) -> int:
    """store_revenue.csv: a row per store (not of kind "none"), weekday and hour."""
    lines = ["store_id,dayOfWeek,hour,expected_revenue,currency\n"]
    hours = list(hours)
    for store_id, kind, amounts in zip(ids, kinds, cents.tolist()):
        if kind == "none":
            continue
        code = kind.upper()
        for day, day_amounts in enumerate(amounts):
            lines.extend(
                f"{store_id},{day},{hour},{amount // 100}.{amount % 100:02d},{code}\n"
                for hour, amount in zip(hours, day_amounts)
            )
    path.write_text("".join(lines), encoding="utf-8", newline="")
    return len(lines) - 1


def _ascii_table(values: np.ndarray, width: int) -> np.ndarray:
    """Rows of zero-padded decimal ASCII for each value (a small lookup table)."""
    out = np.empty((values.size, width), dtype=np.uint8)
    v = values.astype(np.int64, copy=True)
    for j in range(width - 1, -1, -1):
        out[:, j] = v % 10 + 48
        v //= 10
    return out


def _timestamp_tables(first_hour: int, last_hour: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lookup tables for ``YYYY-MM-DD HH:`` (per hour since the epoch), ``MM:SS``,
    ``.fff`` and ``fff`` (the fraction with its trailing zeros turned into NULs)."""
    hours = np.arange(first_hour, last_hour + 1, dtype=np.int64)
    dt = (hours * HOUR).astype("datetime64[us]")
    day = dt.astype("datetime64[D]")
    month = day.astype("datetime64[M]")
    year = month.astype("datetime64[Y]").astype(np.int64) + 1970
    hour_table = np.empty((hours.size, 14), dtype=np.uint8)
    hour_table[:, 0:4] = _ascii_table(year, 4)
    hour_table[:, 4] = ord("-")
    hour_table[:, 5:7] = _ascii_table(month.astype(np.int64) % 12 + 1, 2)
    hour_table[:, 7] = ord("-")
    hour_table[:, 8:10] = _ascii_table((day - month.astype("datetime64[D]")).astype(np.int64) + 1, 2)
    hour_table[:, 10] = ord(" ")
    hour_table[:, 11:13] = _ascii_table(hours % 24, 2)
    hour_table[:, 13] = ord(":")

    seconds = np.arange(3600)
    minsec_table = np.empty((3600, 5), dtype=np.uint8)
    minsec_table[:, 0:2] = _ascii_table(seconds // 60, 2)
    minsec_table[:, 2] = ord(":")
    minsec_table[:, 3:5] = _ascii_table(seconds % 60, 2)

    # The fraction is split in milliseconds (high) and the rest (low). Rows 0..999 of
    # the high table are used when low != 0 (all digits kept), rows 1000..1999 when
    # low == 0 (trailing zeros cut, and the dot too when the whole fraction is 0).
    thousand = np.arange(1000)
    digits = _ascii_table(thousand, 3)
    cut = digits.copy()
    cut[:, 2][thousand % 10 == 0] = 0
    cut[:, 1][thousand % 100 == 0] = 0
    cut[:, 0][thousand == 0] = 0
    high_table = np.empty((2000, 4), dtype=np.uint8)
    high_table[:, 0] = ord(".")
    high_table[:1000, 1:] = digits
    high_table[1000:, 1:] = cut
    high_table[1000, 0] = 0
    low_table = cut
    return hour_table, minsec_table, high_table, low_table


_CHUNK = 1 << 18


def write_status(
    path: Path,
    ids: list[str],
    store_idx: np.ndarray,
    ts: np.ndarray,
    inactive: np.ndarray,
    order: np.ndarray,
) -> None:
    """Fixed-width byte rows, NUL-padded, then all NULs squeezed out in one pass.

    Row layout: ``id,`` (NUL-padded) | ``YYYY-MM-DD HH:`` | ``MM:SS`` | ``.fff`` ``fff``
    (trailing zeros -> NUL) | `` UTC,`` | ``active\\n`` / ``inactive\\n`` (NUL-padded).
    Every part comes from a small lookup table: no per-row Python, no strftime.
    """
    id_width = max([len(i) for i in ids] + [1]) + 1
    id_table = np.zeros((len(ids), id_width), dtype=np.uint8)
    for k, store_id in enumerate(ids):
        raw = (store_id + ",").encode("ascii")
        id_table[k, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    status_table = np.zeros((2, 9), dtype=np.uint8)
    status_table[0, :7] = np.frombuffer(b"active\n", dtype=np.uint8)
    status_table[1, :9] = np.frombuffer(b"inactive\n", dtype=np.uint8)

    with open(path, "wb") as fh:
        fh.write(b"store_id,timestamp_utc,status\n")
        if order.size == 0:
            return
        first_hour = int(ts.min() // HOUR)
        hour_table, minsec_table, high_table, low_table = _timestamp_tables(first_hour, int(ts.max() // HOUR))
        c_hour = id_width
        c_minsec = c_hour + 14
        c_high = c_minsec + 5
        c_low = c_high + 4
        c_utc = c_low + 3
        c_status = c_utc + 5
        width = c_status + 9
        buffer = np.empty((min(_CHUNK, order.size), width), dtype=np.uint8)
        buffer[:, c_utc:c_status] = np.frombuffer(b" UTC,", dtype=np.uint8)
        for lo in range(0, order.size, _CHUNK):
            sel = order[lo : lo + _CHUNK]
            mat = buffer[: sel.size]
            t = ts[sel]
            in_hour = t % HOUR
            micro = (in_hour % US).astype(np.int32)
            low = micro % 1000
            mat[:, :id_width] = id_table[store_idx[sel]]
            mat[:, c_hour:c_minsec] = hour_table[t // HOUR - first_hour]
            mat[:, c_minsec:c_high] = minsec_table[in_hour // US]
            mat[:, c_high:c_low] = high_table[micro // 1000 + 1000 * (low == 0)]
            mat[:, c_low:c_utc] = low_table[low]
            mat[:, c_status:] = status_table[inactive[sel].view(np.uint8)]
            fh.write(mat[mat != 0].tobytes())
