"""The engine's array primitives against plain Python: sorted lookups and half-open
intervals per store."""

from __future__ import annotations

import numpy as np
from monitoring.engine import schedules as engine_schedules


def test_locate_sorted_matches_searchsorted():
    rng = np.random.default_rng(5)
    ks = np.unique(rng.integers(0, 10_000, 50))
    axis = engine_schedules.Axis(r0=0, K=10**6, P=0, s_lo=0, ks=np.concatenate(([-1], ks, [10**6])),
                        ke=np.concatenate(([-1], ks + 1, [10**6])), cum=np.zeros(len(ks) + 2, np.int64))
    keys = np.sort(np.concatenate((rng.integers(0, 10_000, 5000), ks, ks[:10])))  # ties and duplicates
    np.testing.assert_array_equal(axis.locate_sorted(keys), axis.locate(keys))


def test_inside_intervals_is_half_open_and_per_store():
    import numpy as np
    from monitoring.engine import inside_intervals

    # Store 0 open [10, 20) and [30, 40); store 1 open [15, 25).
    hours = (np.array([0, 0, 1]), np.array([10, 30, 15]), np.array([20, 40, 25]))
    stores = np.array([0, 0, 0, 0, 1, 1, 1])
    times = np.array([10, 19, 20, 35, 14, 15, 30])
    assert inside_intervals(hours, stores, times).tolist() == [True, True, False, True, False, True, False]
    assert inside_intervals(hours, np.array([], int), np.array([], int)).tolist() == []
