"""Rows read in bulk find their store by pk (`selectors.store_positions`), whatever the
pks: dense ones through a lookup table, far-apart ones by binary search; rows of stores
not asked for (a `store_scope` may read a few more) are -1."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from monitoring.stores.selectors import store_positions, store_scope

pk_sets = st.one_of(
    st.sets(st.integers(1, 20_000), min_size=1, max_size=300),  # dense: the table
    st.sets(st.integers(1, 2**62), min_size=1, max_size=30),  # far apart: the search
)


@given(asked=pk_sets, others=st.lists(st.integers(1, 2**62), max_size=30), data=st.data())
def test_each_row_finds_its_store_and_other_stores_none(asked, others, data):
    pks = list(asked)
    data.draw(st.randoms()).shuffle(pks)  # in any order, as a chunk's store_id order gives them
    found = data.draw(st.lists(st.sampled_from(pks + others), max_size=200))
    expected = [pks.index(pk) if pk in asked else -1 for pk in found]
    assert store_positions(np.array(pks), np.array(found, dtype=np.int64)).tolist() == expected


def test_no_store_asked_finds_none():
    assert store_positions([], np.array([1, 2])).tolist() == [-1, -1]


def test_the_scope_of_a_chunk_is_one_text_parameter():
    scattered = [5, 9_000, 17, 40_000] * 300  # a chunk in store_id order: pks far apart
    condition, params = store_scope(scattered)
    assert condition == "store_id = ANY(%s::bigint[])" and params == ["{" + ",".join(map(str, scattered)) + "}"]
    assert store_scope(list(range(100, 1_200)), column="id") == ("id BETWEEN %s AND %s", [100, 1_199])
    assert store_scope([]) == ("false", [])
