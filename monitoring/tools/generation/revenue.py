"""Expected revenue per store and local hour (docs/rules.md §13): a base hourly revenue
per store (log-normal, about 150 a quiet hour), busier at lunch and dinner and on
Fridays and Saturdays, a little noise per hour, in whole cents; some stores without
rows (no estimate) and a few in EUR."""

from __future__ import annotations

import numpy as np

from monitoring.tools.generation.shapes import (
    DINNER_HOURS,
    LUNCH_HOURS,
    REVENUE_EUR_FRACTION,
    REVENUE_HOURS,
    REVENUE_NONE_FRACTION,
    WEEKEND_DAYS,
)
from monitoring.tools.generation.stores import quota


def generated_revenue(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(kind per store: "none", "eur" or "usd"; cents (n, 7 days, len(REVENUE_HOURS)))."""
    kind = quota(rng, n, {"none": REVENUE_NONE_FRACTION, "eur": REVENUE_EUR_FRACTION}, "usd")
    base = rng.lognormal(mean=np.log(150.0), sigma=0.5, size=n)
    hours = np.array(list(REVENUE_HOURS))
    shape = np.where(np.isin(hours, LUNCH_HOURS), 2.0, np.where(np.isin(hours, DINNER_HOURS), 2.5, 0.7))
    week = np.where(np.isin(np.arange(7), WEEKEND_DAYS), 1.3, 1.0)
    noise = rng.uniform(0.9, 1.1, size=(n, 7, len(hours)))
    cents = np.rint(base[:, None, None] * week[None, :, None] * shape[None, None, :] * noise * 100).astype(np.int64)
    return kind, cents
