"""The vectorised reading of status files (monitoring.ingest.fast_parse) against the
precise per-row validation of monitoring.kernel.values: a line read as canonical must give
exactly what the per-row path gives; the usual shapes must be canonical (the fast
path); store-id codes stay exact even when hashes collide."""

import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from monitoring.ingest.csv_files import BLANK, RecordReader
from monitoring.ingest.fast_parse import StoreIdCodes, parse_lines
from monitoring.ingest.results import Rejection
from monitoring.kernel import copy_format, values

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
#: The latest poll instant both paths accept here (the loader uses now + POLL_MAX_FUTURE).
LATEST = datetime(3000, 1, 1, tzinfo=timezone.utc)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


COLUMNS = {
    "width": 3, "store_id": 0, "timestamp": 1, "status": 2, "crlf": False,
    "latest_us": micros(LATEST),
}


def precise(line: bytes):
    """What the per-row path makes of one line: (store_id, µs, is_active) or None."""
    record = RecordReader("f.csv", 3).feed(2, line)
    if record is BLANK or isinstance(record, Rejection):
        return None
    try:
        store_id, moment, active = values.poll(*record[2], latest=LATEST, from_csv=True)
    except values.InvalidPoll:
        return None
    return store_id.encode(), micros(moment), active


def read(lines: list[bytes], **overrides):
    codes = StoreIdCodes()
    chunk = b"".join(lines)
    parsed = parse_lines(chunk, len(chunk), store_codes=codes, **{**COLUMNS, **overrides})
    values = iter(zip(parsed.codes.tolist(), parsed.moments.tolist(), parsed.is_active.tolist()))
    out = []
    for is_canonical in parsed.canonical.tolist():
        if is_canonical:
            code, moment, active = next(values)
            out.append((codes.store_ids[code], moment, active))
        else:
            out.append(None)
    return out


USUAL = [
    b"6952853096779133149,2023-01-18 18:14:04.168627 UTC,active\n",
    b"9b867885-d394-425e-9115-83b29d3098cc,2023-01-18 18:13:31.7669 UTC,inactive\n",
    b"42,2024-02-29T23:59:59Z,Active\n",
    b"42,2023-01-18 18:14:04,INACTIVE\n",
    b"7,2023-01-18 18:14:04.5+05:30,active\n",
    b"7,2023-12-31 23:00:00-14:59,inactive\n",
]


def test_the_usual_shapes_are_canonical_and_read_as_the_precise_path_reads_them():
    got = read(USUAL)
    assert None not in got
    assert got == [precise(line) for line in USUAL]


@pytest.mark.parametrize(
    "line",
    [
        b'"42","2023-01-18 18:14:04 UTC","active"\n',  # quoted: the per-row path
        b"42 ,2023-01-18 18:14:04 UTC,active\n",  # spaces around a value
        b"4 2,2023-01-18 18:14:04 UTC,active\n",
        b"4\x002,2023-01-18 18:14:04 UTC,active\n",  # NUL
        b'4""2,2023-01-18 18:14:04 UTC,active\n',
        b"4\x7f2,2023-01-18 18:14:04 UTC,active\n",
        b"42,2023-02-29 12:00:00 UTC,active\n",  # not a date
        b"42,2023-01-18 24:00:00 UTC,active\n",
        b"42,2023-01-18 18:14 UTC,active\n",  # no seconds
        b"42,2023-01-18 18:14:04.1234567 UTC,active\n",  # 7 fraction digits
        b"42,2023-01-18 18:14:04 utc,active\n",
        b"42,2023-01-18 18:14:04+15:00,active\n",
        b"42,1999-01-18 18:14:04,active\n",
        b"42,2023-01-18 18:14:04,sleeping\n",
        b"42,2023-01-18 18:14:04,activ\n",
        b",2023-01-18 18:14:04,active\n",
        b"42,2023-01-18 18:14:04\n",
        b"42,2023-01-18 18:14:04,active,extra\n",
        "caf\u00e9,2023-01-18 18:14:04,active\n".encode(),
        b"\n",
        b"42,2023-01-18 18:14:04,active\r\n",  # CR in an LF file
    ],
)
def test_other_lines_go_to_the_precise_path(line):
    assert read([USUAL[0], line, USUAL[1]]) == [precise(USUAL[0]), None, precise(USUAL[1])]


def test_crlf_files_and_lines_after_an_unterminated_quote():
    crlf = [line.replace(b"\n", b"\r\n") for line in USUAL[:2]]
    assert read(crlf, crlf=True) == [precise(line) for line in crlf]
    assert read(USUAL[:1], crlf=True) == [None]  # an LF line in a CRLF file
    # A quote left open ends with its line: the next line is canonical again.
    assert read([b'42,"2023\n', USUAL[0], b'x",active\n', USUAL[1]]) == [None, precise(USUAL[0]), None, precise(USUAL[1])]


_BYTES = st.sampled_from(list(b"0123456789-:. TZUCactiveINACTV+,\"x\t\r") + [0xC3, 0x00])
_CANONICAL_ID = st.text(alphabet="abcXYZ0123456789-_./:;!#$%&'()*+<=>?@[]^`{|}~", min_size=1, max_size=40)


def _line(moment, fraction, suffix, separator, store_id, status) -> bytes:
    stamp = moment.strftime(f"%Y-%m-%d{separator}%H:%M:%S")
    if fraction:
        stamp += f".{moment.microsecond:06d}{moment.microsecond % 10}"[: fraction + 1]
    return f"{store_id},{stamp}{suffix},{status}\n".encode("utf-8", "surrogatepass")


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31)),
    fraction=st.integers(min_value=0, max_value=6),
    suffix=st.sampled_from(["", " UTC", "Z", "+05:30", "-14:59", "+00:00", "-00:00", "+14:00"]),
    separator=st.sampled_from([" ", "T"]),
    store_id=_CANONICAL_ID,
    status=st.sampled_from(["active", "inactive", "ACTIVE", "INACTIVE", "Active", "Inactive"]),
)
def test_well_formed_lines_are_canonical_and_read_exactly(moment, fraction, suffix, separator, store_id, status):
    line = _line(moment, fraction, suffix, separator, store_id, status)
    assert read([line]) == [precise(line)] != [None]


@settings(max_examples=300, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(1999, 1, 1), max_value=datetime(3000, 12, 31)),
    fraction=st.integers(min_value=0, max_value=7),
    suffix=st.sampled_from(["", " UTC", "Z", "+05:30", "-14:59", "+15:00", " utc", "+5:30", "+05:60"]),
    separator=st.sampled_from([" ", "T", "t"]),
    store_id=_CANONICAL_ID | st.text(alphabet=st.characters(min_codepoint=1, max_codepoint=0x10FFFF), max_size=8),
    status=st.sampled_from(["active", "inactive", "ACTIVE", "Inactive", "aCtive", "active ", ""]),
    mutation=st.tuples(st.integers(min_value=0, max_value=60), _BYTES) | st.none(),
)
def test_any_line_read_as_canonical_reads_as_the_precise_path_reads_it(
    moment, fraction, suffix, separator, store_id, status, mutation
):
    line = bytearray(_line(moment, fraction, suffix, separator, store_id, status))
    if mutation is not None and mutation[0] < len(line) - 1:
        line[mutation[0]] = mutation[1]
    line = bytes(line)
    if line.count(b"\n") != 1:
        return
    got = read([line])[0]
    if got is not None:
        assert got == precise(line), line


def test_store_id_codes_are_exact_when_every_hash_collides(monkeypatch):
    monkeypatch.setattr(StoreIdCodes, "_MULTIPLIER", np.uint64(0))  # every id hashes alike
    lines = [f"store-{i % 7},2023-01-18 18:{i % 60:02d}:04,active\n".encode() for i in range(50)]
    assert [row[0] for row in read(lines)] == [f"store-{i % 7}".encode() for i in range(50)]


def test_store_id_codes_across_chunks_and_rows_read_one_by_one():
    codes = StoreIdCodes()
    chunk = b"a,2023-01-18 18:14:04,active\nbb,2023-01-18 18:14:04,active\n"
    first = parse_lines(chunk, len(chunk), store_codes=codes, **COLUMNS)
    assert codes.code_of(b"bb") == first.codes[1]
    assert codes.code_of(b"ccc") == 2  # a new id, met by the per-row path
    chunk = b"ccc,2023-01-18 18:14:04,active\na,2023-01-18 18:14:05,active\n" + b"x" * 300  # bytes past the lines
    second = parse_lines(chunk, len(chunk) - 300, store_codes=codes, **COLUMNS)
    assert second.codes.tolist() == [2, 0]
    assert codes.store_ids == [b"a", b"bb", b"ccc"]


def test_binary_copy_rows_layout():
    rows = copy_format.binary_rows([np.array([1], np.int64), np.array([True])])
    assert rows == b"\x00\x02" + b"\x00\x00\x00\x08" + (1).to_bytes(8, "big") + b"\x00\x00\x00\x01\x01"


# Chunks as a whole (the fast path when every line has its commas, the general one
# otherwise, blocks of rows) read as their lines one by one.
_ANY_ID = _CANONICAL_ID | st.text(alphabet="0123456789abcdef-", min_size=17, max_size=300) | st.sampled_from(
    ["", "a b", 'a""b', "caf\u00e9", "a,b"]  # quotes in pairs: none opens a value
)
_TWISTS = {
    "none": lambda line: line,
    "extra field": lambda line: line.replace(b"\n", b",x\n"),
    "missing field": lambda line: line[: line.rindex(b",")] + b"\n",
    "quoted id": lambda line: b'"' + line.replace(b",", b'",', 1),
    "other line end": lambda line: line[:-2] + b"\n" if line.endswith(b"\r\n") else line[:-1] + b"\r\n",
}


@st.composite
def _any_line(draw, crlf: bool) -> bytes:
    line = _line(
        draw(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31))),
        draw(st.integers(min_value=0, max_value=6)),
        draw(st.sampled_from(["", " UTC", "Z", "+05:30", "-14:59"])),
        draw(st.sampled_from([" ", "T"])),
        draw(_ANY_ID),
        draw(st.sampled_from(["active", "INACTIVE", "Active", "sleeping"])),
    )
    if crlf:
        line = line[:-1] + b"\r\n"
    twist = draw(st.sampled_from(["none"] * 4 + list(_TWISTS)))
    return _TWISTS[twist](line)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), crlf=st.booleans())
def test_a_chunk_reads_as_its_lines_one_by_one(data, crlf):
    lines = data.draw(st.lists(_any_line(crlf), min_size=1, max_size=12))
    assert read(lines, crlf=crlf) == [read([line], crlf=crlf)[0] for line in lines]


@pytest.mark.parametrize("odd_every", [0, 997])
def test_chunks_of_many_blocks_read_as_small_chunks(odd_every):
    rng = random.Random(odd_every)
    lines = []
    for index in range(40_000):  # over 2 MB
        store_id = "".join(rng.choices("0123456789abcdef-", k=rng.choice([1, 8, 9, 19, 36, 40])))
        line = USUAL[index % len(USUAL)].replace(b"42,", b"7,").split(b",", 1)[1]
        if odd_every and index % odd_every == 0:
            line = line.replace(b",", b";")  # a missing field
        lines.append(store_id.encode() + b"," + line)
    expected = [row for first in range(0, len(lines), 700) for row in read(lines[first : first + 700])]
    assert read(lines) == expected
    assert (None in expected) == bool(odd_every)


def test_store_id_codes_stay_exact_after_a_collision_in_a_later_chunk(monkeypatch):
    monkeypatch.setattr(StoreIdCodes, "_MULTIPLIER", np.uint64(0))  # every id hashes alike
    codes = StoreIdCodes()
    chunks = [
        b"aa,2023-01-18 18:14:04,active\n" * 2,
        b"bb,2023-01-18 18:14:04,active\naa,2023-01-18 18:14:05,active\n",  # bb: the hash of aa
    ]
    got = [parse_lines(chunk, len(chunk), store_codes=codes, **COLUMNS).codes.tolist() for chunk in chunks]
    assert [[codes.store_ids[code] for code in chunk] for chunk in got] == [[b"aa", b"aa"], [b"bb", b"aa"]]


def test_store_id_codes_of_an_id_met_again_among_longer_ids():
    codes = StoreIdCodes()
    chunks = [
        b"a,2023-01-18 18:14:04,active\n",
        b"a,2023-01-18 18:14:05,active\n" + b"x" * 100 + b",2023-01-18 18:14:05,active\na,2023-01-18 18:14:06,active\n",
    ]
    got = [parse_lines(chunk, len(chunk), store_codes=codes, **COLUMNS).codes.tolist() for chunk in chunks]
    assert got == [[0], [0, 1, 0]]
    assert codes.store_ids == [b"a", b"x" * 100]
