"""Bad files, generated: the loader never crashes, says why it refuses, and never loses
what was stored before."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from monitoring.ingest import (
    LoadError,
    load_status_file,
)

from tests.generated_input import (
    FUZZ,
    HEADERS,
    cells,
    check_result,
    raw_bytes,
    snapshot,
)

pytestmark = pytest.mark.django_db


rows = st.lists(st.lists(cells, min_size=0, max_size=6).map(",".join), max_size=30)


line_ends = st.sampled_from(["\n", "\r\n", "\r"])


@pytest.mark.parametrize("loader", list(HEADERS), ids=lambda f: f.__name__)
@FUZZ
@given(data=st.data(), body=rows, end=line_ends, as_bytes=st.booleans(), garbage=raw_bytes)
def test_loader_survives_generated_files(loader, baseline, tmp_path_factory, data, body, end, as_bytes, garbage):
    header = data.draw(st.sampled_from(HEADERS[loader]))
    lines = [line for line in body if "baseline" not in line]
    content = (end.join([header, *lines])).encode("utf-8", "surrogatepass") if not as_bytes else header.encode() + b"\n" + garbage
    path = tmp_path_factory.mktemp("fuzz") / "input.csv"
    path.write_bytes(content)
    try:
        result = loader(path=path)
    except LoadError as error:
        assert str(error)  # refused whole, with a reason
    else:
        check_result(result)
    assert snapshot() == baseline


@FUZZ
@given(content=raw_bytes)
def test_loader_refuses_arbitrary_bytes_cleanly(baseline, tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "store_status.csv"
    path.write_bytes(content)
    try:
        check_result(load_status_file(path=path))
    except LoadError as error:
        assert "store_status.csv" in str(error)
    assert snapshot() == baseline
