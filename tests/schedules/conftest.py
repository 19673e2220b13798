"""Fixtures of the scheduled-report tests."""

import pytest

from tests.schedules.week import two_owners_week


@pytest.fixture
def schedule_world(db):
    """Two owners' stores with a week of polls (tests/schedules/week.py)."""
    return two_owners_week()
