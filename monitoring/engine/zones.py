"""Instants as microseconds, and local wall time -> UTC per time zone with zoneinfo's
fold=0 rule (the transition table of a zone, found once per report range)."""

from __future__ import annotations

import functools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from monitoring.engine.types import EPOCH, I64, ONE_US, US


# --------------------------------------------------------------------------- conversions


def to_us(dt: datetime) -> int:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt!r}: the engine needs timezone-aware datetimes")
    return (dt - EPOCH) // ONE_US


def from_us(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def td_us(td: timedelta) -> int:
    us = td // ONE_US
    if us < 0:
        raise ValueError("horizon must not be negative")
    return us


def time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * US + t.microsecond


# --------------------------------------------------------------------------- time zones


@functools.lru_cache(maxsize=None)
def zone_info(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _offset_us(zone: ZoneInfo, t_s: int) -> int:
    """UTC offset (µs) in force at the UTC instant t_s (seconds since the epoch)."""
    return datetime.fromtimestamp(t_s, tz=zone).utcoffset() // ONE_US


@functools.lru_cache(maxsize=512)
def zone_table(name: str, lo_day: int, hi_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock -> UTC conversion table for days [lo_day, hi_day] (days since the epoch, UTC).

    Returns (thresholds, offsets): a wall time w (µs) maps to
    ``w - offsets[searchsorted(thresholds, w, "right")]``.
    """
    zone = zone_info(name)
    lo_s, hi_s = lo_day * 86_400, (hi_day + 1) * 86_400
    probes = range(lo_s, hi_s + 3600, 3600)
    offsets = [_offset_us(zone, lo_s)]
    thresholds: list[int] = []
    prev_t, prev_o = lo_s, offsets[0]
    for t in probes[1:]:
        o = _offset_us(zone, t)
        while o != prev_o:  # at least one transition in (prev_t, t]: find the first one
            a, b = prev_t, t
            while b - a > 1:
                m = (a + b) // 2
                if _offset_us(zone, m) == prev_o:
                    a = m
                else:
                    b = m
            new_o = _offset_us(zone, b)
            thresholds.append(b * US + max(prev_o, new_o))
            offsets.append(new_o)
            prev_t, prev_o = b, new_o
        prev_t = t
    return np.asarray(thresholds, I64), np.asarray(offsets, I64)


def wall_to_utc(wall: np.ndarray, table: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    thresholds, offsets = table
    if len(thresholds) == 0:
        return wall - offsets[0]
    return wall - offsets[np.searchsorted(thresholds, wall, side="right")]
