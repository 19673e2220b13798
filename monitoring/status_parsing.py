"""Vectorised reading of status-file chunks: which lines are canonical (values in
the usual shapes, checked byte by byte in numpy), their parsed values, and the binary
COPY rows the polls go to PostgreSQL in. Pure numpy, no Django.

A canonical line reads exactly as `monitoring.loading`'s precise per-row validation
would read it (tests/test_status_parsing.py checks that property); every other line
(quotes, odd spacing, other time formats, bad values, non-ASCII bytes) goes through
that per-row validation, which accepts or rejects it with a reason.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

import numpy as np

#: PostgreSQL's timestamp epoch.
_PG_EPOCH = date(2000, 1, 1)
_MICROS_PER_DAY = 86_400_000_000
_DIGIT_0 = ord("0")


def _windows(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes from each position `at` (all within buf), as an (n, width) array."""
    view = np.lib.stride_tricks.as_strided(buf, shape=(len(buf) - width + 1, width), strides=(1, 1), writeable=False)
    return view[at]


_DIGIT_POSITIONS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
#: The longest canonical timestamp: 19 + '.' + 6 fraction digits + '±HH:MM'.
_TIMESTAMP_MAX = 32
_FIRST_YEAR, _LAST_YEAR = 2000, 2999
#: Days from 2000-01-01 (PostgreSQL's epoch) to 1 January of each canonical year, and
#: from 1 January to the first of each month (row 1: leap years).
_YEAR_START = np.array([(date(y, 1, 1) - _PG_EPOCH).days for y in range(_FIRST_YEAR, _LAST_YEAR + 1)])
_IS_LEAP = np.array([calendar.isleap(y) for y in range(_FIRST_YEAR, _LAST_YEAR + 1)])
_MONTH_DAYS = np.array([
    [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
    [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31],
])
_MONTH_START = np.concatenate((np.zeros((2, 1), np.int64), np.cumsum(_MONTH_DAYS, axis=1)[:, :-1]), axis=1)


def _number(byte: np.ndarray, positions: list[int]) -> np.ndarray:
    """The decimal number written by the digits at `positions` (rows of byte)."""
    value = byte[positions[0]].astype(np.int32) - _DIGIT_0
    for position in positions[1:]:
        value = value * 10 + (byte[position].astype(np.int32) - _DIGIT_0)
    return value


def canonical_timestamps(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is canonical, microseconds since 2000-01-01 UTC, PostgreSQL's epoch) of the
    values at buf[start:end]. Canonical: `YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][ UTC|Z|±HH:MM]`,
    year 2000–2999, a real date, hours 00–23, minutes and seconds 00–59, offsets up
    to ±14:59. buf must hold _TIMESTAMP_MAX bytes past every start."""
    length = end - start
    # byte[j]: the j-th byte of every value, contiguous (fast per position).
    byte = np.ascontiguousarray(_windows(buf, np.maximum(start, 0), 26).T)
    is_digit = (byte - np.uint8(_DIGIT_0)) <= 9  # wraps below '0'
    ok = (length >= 19) & (length <= _TIMESTAMP_MAX) & is_digit[_DIGIT_POSITIONS].all(axis=0)
    ok &= (byte[0] == ord("2")) & (byte[4] == ord("-")) & (byte[7] == ord("-"))
    ok &= (byte[10] == ord(" ")) | (byte[10] == ord("T"))
    ok &= (byte[13] == ord(":")) & (byte[16] == ord(":"))
    year = np.clip(_number(byte, [1, 2, 3]), 0, 999)  # + 2000 (the first digit is '2'); garbage clipped
    month, day = _number(byte, [5, 6]), _number(byte, [8, 9])
    hour, minute, second = _number(byte, [11, 12]), _number(byte, [14, 15]), _number(byte, [17, 18])
    leap = _IS_LEAP[year].astype(np.int32)
    month_ok = (month >= 1) & (month <= 12)
    month = np.where(month_ok, month, 1)
    ok &= month_ok & (day >= 1) & (day <= _MONTH_DAYS[leap, month]) & (hour <= 23) & (minute <= 59) & (second <= 59)
    # The suffix, told by its last byte: ' UTC', 'Z', an offset ±HH:MM, or none.
    tail = np.ascontiguousarray(_windows(buf, np.maximum(end - 6, 0), 6).T)
    last = tail[5]
    is_utc = (last == ord("C")) & (tail[2] == ord(" ")) & (tail[3] == ord("U")) & (tail[4] == ord("T"))
    is_zulu = last == ord("Z")
    sign = (tail[0] == ord("+")).astype(np.int32) - (tail[0] == ord("-"))
    offset_hours, offset_minutes = _number(tail, [1, 2]), _number(tail, [4, 5])
    is_offset = (
        (sign != 0)
        & (tail[3] == ord(":"))
        & ((tail[[1, 2, 4, 5]] - np.uint8(_DIGIT_0)) <= 9).all(axis=0)
        & (offset_hours <= 14)
        & (offset_minutes <= 59)
    )
    is_plain = (last - np.uint8(_DIGIT_0)) <= 9
    suffix = np.where(is_utc, 4, np.where(is_zulu, 1, np.where(is_offset, 6, 0)))
    ok &= is_utc | is_zulu | is_offset | is_plain
    # Between the seconds and the suffix: nothing, or '.' and 1 to 6 digits.
    fraction_digits = length - suffix - 20
    ok &= (fraction_digits == -1) | ((fraction_digits >= 1) & (fraction_digits <= 6) & (byte[19] == ord(".")))
    fraction = np.zeros(len(start), np.int32)
    for place in range(6):
        in_fraction = place < fraction_digits
        ok &= ~in_fraction | is_digit[20 + place]
        fraction += np.where(in_fraction, (byte[20 + place].astype(np.int32) - _DIGIT_0) * 10 ** (5 - place), 0)
    offset = np.where(is_offset & ~is_utc & ~is_zulu, sign * (offset_hours * 60 + offset_minutes), 0)
    days = _YEAR_START[year] + _MONTH_START[leap, month] + day - 1
    seconds = hour * 3600 + minute * 60 + second - offset * 60
    return ok, days * _MICROS_PER_DAY + seconds.astype(np.int64) * 1_000_000 + fraction


def _low_bytes_mask(counts: np.ndarray) -> np.ndarray:
    """Per row, a little-endian word mask keeping its first `counts` bytes (0 to 8, clipped)."""
    bits = (np.clip(counts, 0, 8) * 8).astype(np.uint64)
    return np.where(bits == 64, np.uint64(2**64 - 1), (np.uint64(1) << (bits & np.uint64(63))) - np.uint64(1))


_STATUSES = (b"active", b"ACTIVE", b"Active", b"inactive", b"INACTIVE", b"Inactive")


def canonical_statuses(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is canonical, is_active): `active`/`inactive` in lower, upper or title case."""
    length = end - start
    # Eight bytes from each start as one little-endian word, the bytes past the value
    # masked off; compared with each spelling the same way.
    words = _windows(buf, np.maximum(start, 0), 8).copy().view("<u8")[:, 0]
    words &= _low_bytes_mask(length)
    ok = np.zeros(len(start), bool)
    for status in _STATUSES:
        ok |= (length == len(status)) & (words == int.from_bytes(status, "little"))
    return ok, (words & np.uint64(0xFF) | np.uint64(0x20)) == ord("a")


class StoreIdCodes:
    """Dense codes (0, 1, 2, …) for the store ids of
    many chunks, without a Python object per row: each id's bytes, zero-padded to
    whole 8-byte words, are hashed in numpy and looked up in an open-addressing table
    of the ids met so far. Exact: every row is compared word for word with the id of
    its code; after a collision (two ids, one hash: ~never) rows go through a dict."""

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self) -> None:
        self.store_ids: list[bytes] = []  # by code
        self._by_id: dict[bytes, int] = {}  # every id coded so far
        self._slot_hashes = np.zeros(1 << 12, np.uint64)
        self._slot_codes = np.full(1 << 12, -1, np.int64)  # -1: an empty slot
        self._used_slots = 0
        self._words = np.zeros((0, 1), np.uint64)  # by code: the id's words (hash path only)
        self._collided = False

    def code_of(self, store_id: bytes) -> int:
        """The code of one id."""
        code = self._by_id.setdefault(store_id, len(self.store_ids))
        if code == len(self.store_ids):
            self.store_ids.append(store_id)
        return code

    def codes(self, chunk: bytes, words: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The codes of the ids at chunk[start:end], whose bytes zero-padded to whole
        little-endian words are `words` (one row per id)."""
        if not self._collided:
            codes = self._hashed_codes(chunk, words, start, end)
            if codes is not None:
                return codes
            self._collided = True
        return np.fromiter(
            (self.code_of(chunk[a:b]) for a, b in zip(start.tolist(), end.tolist())), np.int64, len(start)
        )

    def _hashed_codes(self, chunk: bytes, words: np.ndarray, start: np.ndarray, end: np.ndarray):
        hashes = (end - start).astype(np.uint64)
        for word in range(words.shape[1]):
            hashes = (hashes ^ words[:, word]) * self._MULTIPLIER
            hashes ^= hashes >> np.uint64(29)
        codes = self._look_up(hashes)
        known = codes >= 0
        all_known = known.all()
        stored = self._words[codes if all_known else codes[known]]
        mine = words if all_known else words[known]
        common = min(stored.shape[1], mine.shape[1])
        if not (
            (stored[:, :common] == mine[:, :common]).all()
            and not stored[:, common:].any()
            and not mine[:, common:].any()
        ):
            return None
        width = max(words.shape[1], self._words.shape[1])
        if not all_known:
            new = np.flatnonzero(~known)
            unique, first, inverse = np.unique(hashes[new], return_index=True, return_inverse=True)
            first_rows = new[first]
            if not (words[new] == words[first_rows][inverse.reshape(-1)]).all():
                return None
            new_codes = np.fromiter(
                (self.code_of(chunk[a:b]) for a, b in zip(start[first_rows].tolist(), end[first_rows].tolist())),
                np.int64,
                len(first_rows),
            )
            codes[new] = new_codes[inverse.reshape(-1)]
            self._words = _widen(self._words, width)
            if len(self.store_ids) > len(self._words):
                missing = np.zeros((len(self.store_ids) - len(self._words), width), np.uint64)
                self._words = np.concatenate((self._words, missing))
            self._words[new_codes] = _widen(words[first_rows], width)
            for value, code in zip(unique.tolist(), new_codes.tolist()):
                self._insert(value, code)
        return codes

    def _look_up(self, hashes: np.ndarray) -> np.ndarray:
        """The code of each hash in the table, -1 where absent (linear probing)."""
        size = len(self._slot_hashes)
        codes = np.full(len(hashes), -1, np.int64)
        pending = np.arange(len(hashes))
        slots = (hashes % np.uint64(size)).astype(np.int64)
        while len(pending):
            slot_codes = self._slot_codes[slots]
            found = (slot_codes >= 0) & (self._slot_hashes[slots] == hashes[pending])
            codes[pending[found]] = slot_codes[found]
            going_on = (slot_codes >= 0) & ~found
            pending, slots = pending[going_on], (slots[going_on] + 1) % size
        return codes

    def _insert(self, value: int, code: int) -> None:
        if 2 * (self._used_slots + 1) > len(self._slot_hashes):  # keep the table at most half full
            old = [(h, c) for h, c in zip(self._slot_hashes.tolist(), self._slot_codes.tolist()) if c >= 0]
            self._slot_hashes = np.zeros(4 * len(self._slot_hashes), np.uint64)
            self._slot_codes = np.full(len(self._slot_hashes), -1, np.int64)
            self._used_slots = 0
            for old_value, old_code in old:
                self._insert(old_value, old_code)
        size = len(self._slot_hashes)
        slot = value % size
        while self._slot_codes[slot] >= 0:
            slot = (slot + 1) % size
        self._slot_hashes[slot] = value
        self._slot_codes[slot] = code
        self._used_slots += 1


def _widen(words: np.ndarray, width: int) -> np.ndarray:
    if words.shape[1] == width:
        return words
    wider = np.zeros((len(words), width), words.dtype)
    wider[:, : words.shape[1]] = words
    return wider


@dataclass
class ParsedChunk:
    """A chunk of whole lines: where each line is (start; end = its LF), which are
    canonical, and the store-id codes, instants and statuses of those."""

    line_starts: np.ndarray
    line_ends: np.ndarray
    canonical: np.ndarray
    codes: np.ndarray
    moments: np.ndarray
    is_active: np.ndarray


def parse_lines(
    chunk: bytes,
    size: int,
    *,
    width: int,
    store_id: int,
    timestamp: int,
    status: int,
    crlf: bool,
    in_quote: bool,
    store_codes: StoreIdCodes,
) -> ParsedChunk:
    """Reads the whole lines (each ending in LF) chunk[:size] of a status file with `width`
    columns (`store_id`, `timestamp`, `status`: their positions). A line is
    canonical when it is plain (no quote, not inside a quoted value continued from an
    earlier line: `in_quote`), printable ASCII, has `width` fields, ends in CRLF iff
    `crlf`, and its store id (1–255 bytes, no space), timestamp and status are
    canonical. chunk holds PARSE_PADDING bytes (any) past size, read past the last line."""
    if len(chunk) < size + PARSE_PADDING:
        chunk = chunk[:size] + bytes(PARSE_PADDING)
    buf = np.frombuffer(chunk, np.uint8)
    body = buf[:size]
    line_ends = np.flatnonzero(body == ord("\n"))
    lines = len(line_ends)
    line_starts = np.concatenate(([0], line_ends[:-1] + 1))

    def line_of(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(line_ends, positions)

    ok = np.ones(lines, bool)
    if in_quote or chunk.find(b'"', 0, size) >= 0:
        quotes = np.flatnonzero(body == ord('"'))
        quotes_per_line = np.bincount(line_of(quotes), minlength=lines)
        open_before = (np.cumsum(quotes_per_line) - quotes_per_line + in_quote) % 2 == 1
        ok &= (quotes_per_line == 0) & ~open_before
    if width > 3:
        # Columns not otherwise read: printable ASCII but '"' (the per-row path must
        # not find a NUL, a non-UTF-8 byte or a quote there either).
        odd_bytes = np.flatnonzero((body < 0x20) | (body > 0x7E) | (body == ord('"')))
        odd_bytes = odd_bytes[(body[odd_bytes] != ord("\n")) & (body[odd_bytes] != ord("\r"))]
        ok[line_of(odd_bytes)] = False
    if crlf:
        ok &= (line_ends > line_starts) & (buf[line_ends - 1] == ord("\r"))
    value_ends = line_ends - 1 if crlf else line_ends
    commas = np.flatnonzero(body == ord(","))
    commas_to_line_end = np.searchsorted(commas, line_ends)
    commas_per_line = np.diff(commas_to_line_end, prepend=0)
    ok &= commas_per_line == width - 1
    first_comma = commas_to_line_end - commas_per_line
    commas = np.append(commas, size)  # a safe index for lines without enough commas

    def bounds(column: int) -> tuple[np.ndarray, np.ndarray]:
        def comma(k: int) -> np.ndarray:
            return commas[np.minimum(first_comma + k, len(commas) - 1)]

        start = line_starts if column == 0 else comma(column - 1) + 1
        end = value_ends if column == width - 1 else comma(column)
        return start, end

    timestamps_ok, moments = canonical_timestamps(buf, *bounds(timestamp))
    statuses_ok, is_active = canonical_statuses(buf, *bounds(status))
    ok &= timestamps_ok & statuses_ok
    sid_start, sid_end = (values[ok] for values in bounds(store_id))
    sid_ok, words = _store_id_words(buf, sid_start, sid_end)
    ok[ok] = sid_ok
    codes = store_codes.codes(chunk, words[sid_ok], sid_start[sid_ok], sid_end[sid_ok])
    return ParsedChunk(line_starts, line_ends, ok, codes, moments[ok], is_active[ok])


def _store_id_words(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is canonical: 1–255 bytes of printable ASCII but space, '"' and ',', the
    bytes zero-padded to whole little-endian words) of the store ids at buf[start:end].
    The byte checks run on whole words (SWAR: "has a byte below / above / equal to")."""
    length = end - start
    ok = (length >= 1) & (length <= 255)
    length = np.where(ok, length, 0)
    count = int(length.max(initial=1) + 7) // 8
    words = _windows(buf, start, count * 8).view("<u8")  # a copy, masked in place
    ones, highs = np.uint64(0x0101010101010101), np.uint64(0x8080808080808080)
    odd = np.zeros(len(start), np.uint64)
    for index in range(count):
        mask = _low_bytes_mask(length - 8 * index)
        word = words[:, index] & mask
        words[:, index] = word
        probe = word | (~mask & (ones * np.uint64(0x41)))  # past the id: 'A', a fine byte
        odd |= (probe - ones * np.uint64(0x21)) & ~probe  # a byte below '!'
        odd |= (probe + ones) | probe  # a byte above '~' (or with its high bit set)
        quoted = probe ^ (ones * np.uint64(0x22))
        odd |= (quoted - ones) & ~quoted  # a '"'
    ok &= (odd & highs) == 0
    return ok, words


#: Bytes past a chunk's lines that fixed-width windows may read: a store id's padding
#: to whole words (up to 7 + 255) or a timestamp window.
PARSE_PADDING = 264


#: The framing of `COPY … FROM STDIN (FORMAT binary)` data around its rows.
COPY_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
COPY_BINARY_TRAILER = b"\xff\xff"  # a field count of -1


def binary_copy_rows(columns: list[np.ndarray]) -> bytes:
    """Binary COPY rows (no header or trailer) of non-null bigint (int64),
    timestamptz (int64 µs since 2000-01-01 UTC) or boolean columns."""
    fields = [("count", ">i2")]
    for index, column in enumerate(columns):
        fields += [(f"length{index}", ">i4"), (f"value{index}", "u1" if column.dtype == np.bool_ else ">i8")]
    records = np.empty(len(columns[0]), dtype=np.dtype(fields))
    records["count"] = len(columns)
    for index, column in enumerate(columns):
        records[f"length{index}"] = records.dtype[f"value{index}"].itemsize
        records[f"value{index}"] = column
    return records.tobytes()
