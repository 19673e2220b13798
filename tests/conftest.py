import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Bounded, deterministic property tests: CI must finish and never flake.
settings.register_profile(
    "default",
    max_examples=int(os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "150")),
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("default")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data" / "loop-2023"


@pytest.fixture
def shared_data() -> Path:
    """The real public files, read from ../shared (never committed here)."""
    if not (SHARED_DATA / "menu_hours.csv").exists():
        pytest.skip(f"public data set not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _fresh_read_cache():
    """Each test starts with an empty GraphQL read cache (graphql_schema.limits.read_cache):
    the data-version sequence outlives the rolled-back test transactions."""
    from django.core.cache import caches

    caches["api"].clear()
    yield


@pytest.fixture(autouse=True)
def _rate_limits_never_reached(settings):
    """Tests send hundreds of triggers and recordPolls a minute from one address: the
    limits (monitoring.throttle) are counted, so that path always runs, but never
    reached, so every request reaches the code behind them. tests/test_abuse.py sets
    its own with override_settings, which wins over this."""
    settings.RATE_LIMIT_REPORTS = 10**9
    settings.RATE_LIMIT_POLLS = 10**9
    settings.RATE_LIMIT_WRITES = 10**9


@pytest.fixture(autouse=True)
def _fleet_rankings_exact(settings):
    """Each test starts with no kept fleet ranking, and is never shown one from before its
    own last write; tests/test_fleet_summary.py tests the kept and shared ranking."""
    from monitoring.fleet.summary import fleet_rankings_forget

    fleet_rankings_forget()
    settings.FLEET_SUMMARY_MAX_AGE_SECONDS = 0


@pytest.fixture(scope="session", autouse=True)
def _report_files_removed_after_the_run(django_db_setup, django_db_blocker):
    """Report CSVs written during the run (under REPORT_FILES_DIR/<test database>, by
    this process and the servers and workers it starts) go with the test database."""
    yield
    import shutil

    from monitoring.kernel.storage import report_storage

    with django_db_blocker.unblock():
        location = getattr(report_storage(), "base_location", None)
    if location and "test" in Path(location).name:
        shutil.rmtree(location, ignore_errors=True)
