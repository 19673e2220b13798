"""Vectorised reading of status-file chunks: which lines are canonical (values in
the usual shapes, checked byte by byte in numpy) and their parsed values. Pure numpy,
no Django.

A canonical line reads exactly as the precise per-row validation
(`monitoring.kernel.values`) would read it (tests/ingest/test_fast_parse.py checks that
property); every other line (quotes, odd spacing, other time formats, bad values,
non-ASCII bytes, instants out of range) goes through that per-row validation, which
accepts or rejects it with a reason.
"""

from __future__ import annotations

import calendar
import functools
from dataclasses import dataclass
from datetime import date

import numpy as np

from monitoring.kernel.copy_format import PG_EPOCH_DATE as _PG_EPOCH

_MICROS_PER_DAY = 86_400_000_000
_DIGIT_0 = ord("0")


def _windows(buf: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """The `width` bytes from each position `at` (all within buf), as a new (n, width)
    array. Gathered as one `width`-byte item per position: several times faster than
    numpy's 2-D fancy indexing of a strided view."""
    items = np.ndarray((len(buf) - width + 1,), f"V{width}", buffer=buf, strides=(1,))
    return items[at].view(np.uint8).reshape(len(at), width)


def _words_at(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The 8 bytes from each position `at` as one little-endian word."""
    return _windows(buf, at, 8).view("<u8")[:, 0]


# Bytes checked and read 8 at a time, as little-endian words (SWAR).
_LOW_NIBBLES = np.uint64(0x0F0F_0F0F_0F0F_0F0F)  # of '0'–'9': the digit's value
_HIGH_NIBBLES = ~_LOW_NIBBLES
_ZEROS = np.uint64(0x3030_3030_3030_3030)
_SIXES = np.uint64(0x0606_0606_0606_0606)
_SIXTEENS = np.uint64(0x1010_1010_1010_1010)


def _word(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text, "little"))


def _non_digits(words: np.ndarray, mask) -> np.ndarray:
    """Nonzero where a byte of words under mask (0xFF bytes) is no digit: its high
    nibble is not 3, or its low nibble + 6 carries into bit 4 (is over 9)."""
    high = (words & (mask & _HIGH_NIBBLES)) ^ (mask & _ZEROS)
    low = ((words & (mask & _LOW_NIBBLES)) + (mask & _SIXES)) & _SIXTEENS
    return high | low


@functools.cache
def _pattern(pattern: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digit mask, fixed-byte mask, fixed bytes) of a pattern as a column of words."""

    def words(byte_for) -> np.ndarray:
        return np.frombuffer(bytes(map(byte_for, pattern)), "<u8").reshape(-1, 1)

    return (
        words(lambda c: 0xFF if c == "#" else 0),
        words(lambda c: 0 if c in "#." else 0xFF),
        words(lambda c: 0 if c in "#." else ord(c)),
    )


def _mismatches(words: np.ndarray, pattern: str) -> np.ndarray:
    """Nonzero where words, a row per 8 bytes of `pattern` (bytes 0–7, 8–15, …), do not
    read as it: '#' a digit, '.' any byte, any other character itself."""
    digits, fixed, value = _pattern(pattern)
    return _non_digits(words, digits) | ((words & fixed) ^ value)


def _pairs(words: np.ndarray) -> np.ndarray:
    """Two-digit numbers: byte k of the result is 10 × digit k + digit k+1 of the word
    (no carries between bytes: at most 15 × 10 + 15, even for non-digits)."""
    digits = words & _LOW_NIBBLES
    return digits * np.uint64(10) + (digits >> np.uint64(8))


def _byte(words: np.ndarray, index: int) -> np.ndarray:
    """Byte `index` of each little-endian word, as int64."""
    return ((words >> np.uint64(8 * index)) & np.uint64(0xFF)).view(np.int64)


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
#: By year (0–999: 2000–2999) × 14 + month (0–13; 0 and 13 no month, of length 0): the
#: days from 2000-01-01 to the month's first day, and the month's length. One lookup
#: (a 1-D take) per row.
_MONTHS_PER_YEAR_ROW = 14
_MONTH_FIRST_DAY = np.pad(_YEAR_START[:, None] + _MONTH_START[_IS_LEAP.astype(int)], ((0, 0), (0, 1))).ravel()
_MONTH_LENGTH = np.pad(_MONTH_DAYS[_IS_LEAP.astype(int)], ((0, 0), (0, 1))).ravel()


def canonical_timestamps(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is canonical, microseconds since 2000-01-01 UTC, PostgreSQL's epoch) of the
    values at buf[start:end]. Canonical: `YYYY-MM-DD[ T]HH:MM:SS[.f{1,6}][ UTC|Z|±HH:MM]`,
    year 2000–2999, a real date, hours 00–23, minutes and seconds 00–59, offsets up
    to ±14:59. buf must hold _TIMESTAMP_MAX bytes past every start."""
    length = end - start
    # Bytes 0–31 of every value as four little-endian words, each contiguous: "2YYY-MM-",
    # "DD HH:MM", ":SS.ffff" and the rest.
    words = np.ascontiguousarray(_windows(buf, np.maximum(start, 0), 32).view("<u8").T)
    date_word, clock_word, seconds_word, rest_word = words
    mismatch = _mismatches(words[:3], "2###-##-##.##:##:##.....")  # the separator and fraction apart
    separator = _byte(clock_word, 2)
    ok = (length >= 19) & (length <= _TIMESTAMP_MAX) & ((mismatch[0] | mismatch[1] | mismatch[2]) == 0)
    ok &= (separator == ord(" ")) | (separator == ord("T"))
    date_pairs, clock_pairs, seconds_pairs = _pairs(words[:3])
    year = np.minimum(100 * _byte(date_word & _LOW_NIBBLES, 1) + _byte(date_pairs, 2), 999)  # + 2000; garbage clipped
    month = np.minimum(_byte(date_pairs, 5), 13)  # 13: not a month either
    day, hour, minute = _byte(clock_pairs, 0), _byte(clock_pairs, 3), _byte(clock_pairs, 6)
    second = _byte(seconds_pairs, 1)
    month_index = year * _MONTHS_PER_YEAR_ROW + month
    ok &= (day >= 1) & (day <= _MONTH_LENGTH.take(month_index)) & (hour <= 23) & (minute <= 59) & (second <= 59)
    # The suffix, told by its last byte: ' UTC', 'Z', an offset ±HH:MM, or none. `tail`:
    # the value's last 8 bytes (of a canonical value, all in it), the last one on top.
    tail = _words_at(buf, np.maximum(end - 8, 0))
    last = tail >> np.uint64(56)
    is_utc = (tail >> np.uint64(32)) == _word(b" UTC")
    is_zulu = last == ord("Z")
    # An offset: minutes east of UTC. Rare: read only where a sign is.
    sign_byte = _byte(tail, 2)
    signed = np.flatnonzero((sign_byte == ord("+")) | (sign_byte == ord("-")))
    is_offset = np.zeros(len(start), bool)
    offset = np.zeros(len(start), np.int64)
    if len(signed):
        signed_tail = tail[signed]
        tail_pairs = _pairs(signed_tail)
        hours, minutes = _byte(tail_pairs, 3), _byte(tail_pairs, 6)
        valid = (_mismatches(signed_tail[np.newaxis], "...##:##")[0] == 0) & (hours <= 14) & (minutes <= 59)
        sign = np.where(sign_byte[signed] == ord("-"), -1, 1)
        is_offset[signed] = valid
        offset[signed] = np.where(valid, sign * (hours * 60 + minutes), 0)
    is_plain = (last - np.uint64(_DIGIT_0)) <= 9  # wraps below '0'
    ok &= is_utc | is_zulu | is_offset | is_plain
    suffix = 4 * is_utc + is_zulu + 6 * is_offset  # at most one of them: the last byte tells
    # Between the seconds and the suffix: nothing, or '.' and 1 to 6 digits (bytes 20–25).
    fraction_digits = length - suffix - 20
    ok &= (fraction_digits == -1) | (
        (fraction_digits >= 1) & (fraction_digits <= 6) & (_byte(seconds_word, 3) == ord("."))
    )
    fraction_word = (seconds_word >> np.uint64(32)) | (rest_word << np.uint64(32))  # bytes 20–27
    fraction_bits = (8 * np.clip(fraction_digits, 0, 6)).astype(np.uint64)
    fraction_mask = (np.uint64(1) << fraction_bits) - np.uint64(1)  # the fraction's bytes
    ok &= _non_digits(fraction_word, fraction_mask) == 0
    # The digits past the fraction masked to 0: "ffffff" µs, read as three digit pairs.
    fraction_pairs = _pairs(fraction_word & fraction_mask)
    fraction = 10_000 * _byte(fraction_pairs, 0) + 100 * _byte(fraction_pairs, 2) + _byte(fraction_pairs, 4)
    days = _MONTH_FIRST_DAY.take(month_index) + day - 1
    seconds = hour * 3600 + minute * 60 + second - offset * 60
    return ok, days * _MICROS_PER_DAY + seconds * 1_000_000 + fraction


_STATUSES = (b"active", b"ACTIVE", b"Active", b"inactive", b"INACTIVE", b"Inactive")


def canonical_statuses(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is canonical, is_active): `active`/`inactive` in lower, upper or title case."""
    length = end - start
    # Eight bytes from each start as one little-endian word (of a 6-byte value, the low
    # six), compared with each spelling the same way.
    words = _words_at(buf, np.maximum(start, 0))
    six_bytes = words & np.uint64(2**48 - 1)
    ok = np.zeros(len(start), bool)
    for status in _STATUSES:
        value = six_bytes if len(status) == 6 else words
        ok |= (length == len(status)) & (value == _word(status))
    is_active = (words & np.uint64(0xFF) | np.uint64(0x20)) == ord("a")
    return ok, is_active & (length >= 1)  # an empty value: not active


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
        for column in words.T:
            hashes ^= column
            hashes *= self._MULTIPLIER
            hashes ^= hashes >> np.uint64(29)
        codes = self._look_up(hashes)
        known = codes >= 0
        all_known = known.all()
        if not self._are_stored(*((words, codes) if all_known else (words[known], codes[known]))):
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

    def _are_stored(self, words: np.ndarray, codes: np.ndarray) -> bool:
        """Whether every row of words is, word for word, the id of its code."""
        common = min(words.shape[1], self._words.shape[1])
        for rows in _blocks(len(codes)):
            stored, mine = self._words.take(codes[rows], axis=0), words[rows]
            if not (
                np.array_equal(stored[:, :common], mine[:, :common])
                and not stored[:, common:].any()
                and not mine[:, common:].any()
            ):
                return False
        return True

    def _look_up(self, hashes: np.ndarray) -> np.ndarray:
        """The code of each hash in the table, -1 where absent (linear probing)."""
        last_slot = len(self._slot_hashes) - 1  # the size is a power of two
        slots = (hashes & np.uint64(last_slot)).astype(np.intp)
        # The first probe, of every row: most find their hash or an empty slot there.
        codes = self._slot_codes.take(slots)
        pending = np.flatnonzero((codes >= 0) & (self._slot_hashes.take(slots) != hashes))
        codes[pending] = -1
        slots = slots[pending]
        while len(pending):
            slots = (slots + 1) & last_slot
            slot_codes = self._slot_codes.take(slots)
            found = (slot_codes >= 0) & (self._slot_hashes.take(slots) == hashes[pending])
            codes[pending[found]] = slot_codes[found]
            going_on = (slot_codes >= 0) & ~found
            pending, slots = pending[going_on], slots[going_on]
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
    store_codes: StoreIdCodes,
    latest_us: int,
) -> ParsedChunk:
    """Reads the whole lines (each ending in LF) chunk[:size] of a status file with `width`
    columns (`store_id`, `timestamp`, `status`: their positions). A line is
    canonical when it is plain (no quote; a quoted value never continues on the next
    line, so a line's quotes say nothing of the others), printable ASCII, has `width`
    fields, ends in CRLF iff `crlf`, and its store id (1–255 bytes, no space), timestamp and status are
    canonical, the instant from 2000-01-01 UTC up to `latest_us` (both µs since then). chunk holds PARSE_PADDING bytes (any) past size, read past the last line."""
    if len(chunk) < size + PARSE_PADDING:
        chunk = chunk[:size] + bytes(PARSE_PADDING)
    buf = np.frombuffer(chunk, np.uint8)
    body = buf[:size]
    # Line ends and commas in one pass. When every line has width - 1 commas (the usual
    # chunk) they form a grid, a line per row: its commas, then its LF.
    delimiters, lines = _delimiters(body)
    grid = delimiters.reshape(lines, width) if len(delimiters) == lines * width else None
    if grid is not None and not (body[grid[:, -1]] == ord("\n")).all():
        grid = None
    if grid is not None:
        line_ends = grid[:, -1].copy()
    else:
        at_line_end = body[delimiters] == ord("\n")
        line_ends, commas = delimiters[at_line_end], delimiters[~at_line_end]
    line_starts = np.concatenate(([0], line_ends[:-1] + 1))

    def line_of(positions: np.ndarray) -> np.ndarray:
        return np.searchsorted(line_ends, positions)

    ok = np.ones(lines, bool)
    if chunk.find(b'"', 0, size) >= 0:
        ok[line_of(np.flatnonzero(body == ord('"')))] = False
    if width > 3:
        # Columns not otherwise read: printable ASCII but '"' (the per-row path must
        # not find a NUL, a non-UTF-8 byte or a quote there either).
        odd_bytes = np.flatnonzero((body < 0x20) | (body > 0x7E) | (body == ord('"')))
        odd_bytes = odd_bytes[(body[odd_bytes] != ord("\n")) & (body[odd_bytes] != ord("\r"))]
        ok[line_of(odd_bytes)] = False
    if crlf:
        ok &= (line_ends > line_starts) & (buf[line_ends - 1] == ord("\r"))
    value_ends = line_ends - 1 if crlf else line_ends
    if grid is not None:

        def comma(k: int) -> np.ndarray:
            return grid[:, k]

    else:
        commas_to_line_end = np.searchsorted(commas, line_ends)
        commas_per_line = np.diff(commas_to_line_end, prepend=0)
        ok &= commas_per_line == width - 1
        first_comma = commas_to_line_end - commas_per_line
        commas = np.append(commas, size)  # a safe index for lines without enough commas

        def comma(k: int) -> np.ndarray:
            return commas[np.minimum(first_comma + k, len(commas) - 1)]

    def bounds(column: int) -> tuple[np.ndarray, np.ndarray]:
        start = line_starts if column == 0 else comma(column - 1) + 1
        end = value_ends if column == width - 1 else comma(column)
        return start, end

    # The values, block by block.
    (timestamp_starts, timestamp_ends), (status_starts, status_ends) = bounds(timestamp), bounds(status)
    moments = np.empty(lines, np.int64)
    is_active = np.empty(lines, bool)
    for rows in _blocks(lines):
        timestamps_ok, moments[rows] = canonical_timestamps(buf, timestamp_starts[rows], timestamp_ends[rows])
        statuses_ok, is_active[rows] = canonical_statuses(buf, status_starts[rows], status_ends[rows])
        ok[rows] &= timestamps_ok & statuses_ok & (moments[rows] >= 0) & (moments[rows] <= latest_us)
    sid_start, sid_end = _compress(ok, *bounds(store_id))
    sid_ok, words = _store_id_words(buf, sid_start, sid_end)
    ok[ok] = sid_ok
    codes = store_codes.codes(chunk, *_compress(sid_ok, words, sid_start, sid_end))
    return ParsedChunk(line_starts, line_ends, ok, codes, *_compress(ok, moments, is_active))


#: Rows (and bytes) per block of work: its temporaries stay in the cache and in the
#: allocator's heap (temporaries of a whole chunk, once freed, go back to the OS and
#: are page-faulted in again for the next chunk: that cost more than the work).
_BLOCK_ROWS = 16384
_BLOCK_BYTES = 1 << 20


def _blocks(rows: int):
    """Slices of at most _BLOCK_ROWS rows covering range(rows)."""
    return (slice(first, first + _BLOCK_ROWS) for first in range(0, rows, _BLOCK_ROWS))


def _delimiters(body: np.ndarray) -> tuple[np.ndarray, int]:
    """(the positions of every LF and comma, the number of LFs) in body, read
    _BLOCK_BYTES at a time."""
    positions, line_ends = [np.zeros(0, np.intp)], 0
    for first in range(0, len(body), _BLOCK_BYTES):
        block = body[first : first + _BLOCK_BYTES]
        is_line_end = block == ord("\n")
        is_delimiter = block == ord(",")
        is_delimiter |= is_line_end
        line_ends += int(np.count_nonzero(is_line_end))
        positions.append(np.flatnonzero(is_delimiter) + first)
    return np.concatenate(positions), line_ends


def _compress(keep: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each of arrays[keep], without copies when every row is kept (the usual chunk)."""
    if keep.all():
        return arrays
    return tuple(values[keep] for values in arrays)


def _store_id_words(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(is canonical: 1–255 bytes of printable ASCII but space, '"' and ',', the
    bytes zero-padded to whole little-endian words) of the store ids at buf[start:end]."""
    length = end - start
    ok = (length >= 1) & (length <= 255)
    length = np.where(ok, length, 0)
    width = 8 * (int(length.max(initial=1) + 7) // 8)
    in_id_table = np.ascontiguousarray(_ID_BYTES[:, :width])
    id_bytes = np.empty((len(start), width), np.uint8)
    for rows in _blocks(len(start)):
        in_id = in_id_table.take(length[rows], axis=0)
        block = np.multiply(_windows(buf, start[rows], width), in_id, out=id_bytes[rows])  # zero-padded
        # Odd bytes: below '!' or above '~' (one comparison, wrapping below '!'), or '"'.
        odd = ((block - np.uint8(0x21)) > 0x7E - 0x21) | (block == ord('"'))
        odd &= in_id
        odd_words = odd.view(np.uint64)  # the flags of 8 bytes at a time
        any_odd = odd_words[:, 0].copy()
        for index in range(1, odd_words.shape[1]):
            any_odd |= odd_words[:, index]
        ok[rows] &= any_odd == 0
    return ok, id_bytes.view("<u8")


#: Row n (0–255): whether each byte of an id's whole words is among the first n.
_ID_BYTES = np.tri(256, 256, -1, dtype=bool)


#: Bytes past a chunk's lines that fixed-width windows may read: a store id's padding
#: to whole words (up to 7 + 255) or a timestamp window.
PARSE_PADDING = 264
