"""Fixtures of the report tests: finished CSVs written to a folder of the test's own."""

import pytest


@pytest.fixture(autouse=True)
def _report_files_everywhere(report_files):
    """Every report test writes its CSVs under its own folder (tests/conftest.py)."""
    return report_files
