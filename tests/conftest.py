import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from monitoring.alerts.webhooks import webhook_create
from monitoring.models import Owner
from monitoring.stores.access import Access

from tests.factories import make_store, worked_example_store
from tests.generated_input import snapshot

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


@pytest.fixture(scope="module")
def chromium() -> str:
    """The headless browser's binary (tests/chromium.py); its tests are skipped without one."""
    from tests.chromium import chromium_binary

    found = chromium_binary()
    if not found:
        pytest.skip("chromium not installed: apt-get install chromium")
    return found


#: What makes a test use the test database (pytest-django's own list): only then is there
#: a test database whose read cache to empty.
_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"})


@pytest.fixture(autouse=True)
def _fresh_read_cache(request, django_db_blocker):
    """Each test that uses the database starts with an empty GraphQL read cache
    (graphql_schema.limits.read_cache): the data-version sequence outlives the rolled-back
    test transactions, and the cache is a table of the test database that tests with real
    processes commit to. Emptied outside the test's transaction. (A session of tests that
    use no database has no test database: the cache is left alone.)"""
    if request.node.get_closest_marker("django_db") is None and not _DATABASE_FIXTURES & set(request.fixturenames):
        yield
        return
    from django.core.cache import caches

    request.getfixturevalue("django_db_setup")
    with django_db_blocker.unblock():
        caches["api"].clear()
    yield


@pytest.fixture(autouse=True)
def _rate_limits_never_reached(settings):
    """Tests send hundreds of triggers and recordPolls a minute from one address: the
    limits (monitoring.throttle) are counted, so that path always runs, but never
    reached, so every request reaches the code behind them. tests/web/test_rate_limits.py sets
    its own with override_settings, which wins over this."""
    settings.RATE_LIMIT_REPORTS = 10**9
    settings.RATE_LIMIT_POLLS = 10**9
    settings.RATE_LIMIT_WRITES = 10**9


@pytest.fixture(autouse=True)
def _fleet_rankings_exact(settings):
    """Each test starts with no kept fleet ranking, and is never shown one from before its
    own last write; tests/fleet/test_fleet_ranking.py tests the kept and shared ranking."""
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


@pytest.fixture
def baseline():
    store, _ = worked_example_store("baseline")
    store.timezone_name = "America/New_York"
    store.save()
    return snapshot()


@pytest.fixture
def alert_world(db):
    alice, bob = Owner.objects.create(name="alice"), Owner.objects.create(name="bob")
    a1, a2, b1 = make_store("a1"), make_store("a2"), make_store("b1")  # no hours: open 24×7
    a1.owner = a2.owner = alice
    b1.owner = bob
    for store in (a1, a2, b1):
        store.save()
    alice_access = Access(owner_id=alice.pk, all_stores=False)
    webhook, secret = webhook_create(access=alice_access, url="https://example.com/hook")
    return {"alice": alice_access, "bob": Access(owner_id=bob.pk, all_stores=False), "webhook": webhook, "secret": secret}


@pytest.fixture
def alice(db):
    """An owner, alice, with one store (s1, the worked example's) and her bearer token."""
    from monitoring.models import Owner
    from monitoring.stores.access import token_create

    from tests.factories import worked_example_store

    owner = Owner.objects.create(name="alice")
    store, _ = worked_example_store("s1")
    store.owner = owner
    store.save()
    return {"owner": owner, "store": store, "token": token_create(name="t", owner=owner)[1]}


@pytest.fixture
def report_files(tmp_path, settings):
    """Report CSVs in a folder of this test's own."""
    folder = tmp_path / "reports"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": folder}},
    }
    return folder


@pytest.fixture
def worker_report_files(tmp_path, settings):
    """Report CSVs in a folder of this test's own, laid out as the workers' are
    (REPORT_FILES_DIR=folder: a folder per database under it), so a worker process
    started with REPORT_FILES_DIR set to it writes where the test reads."""
    folder = tmp_path / "reports"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {"BACKEND": "monitoring.kernel.storage.PerDatabaseFileSystemStorage", "OPTIONS": {"location": folder}},
    }
    return folder
