"""The pages in a real browser: headless Chromium against pytest-django's live_server
renders the status page (its daily strip too), the report page, the fleet (home) page
and the reports list;
screenshots are kept in bench/out/ (status-page.png, report-page.png, fleet.png,
reports.png) to look at. Skipped when Chromium is not installed."""

import os
import re
import shutil
import subprocess
from datetime import date, time
from pathlib import Path

import pytest
from django.test import override_settings
from monitoring.models import Report
from monitoring.reports import report_run
from monitoring.stores.special_hours import special_hours_set

from tests.chromium import HEADLESS_FLAGS
from tests.factories import busy_week_store, hourly, make_store
from tests.processes import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = ROOT / "bench" / "out"


@pytest.fixture(autouse=True)
def anonymous_access():
    # The live server answers without credentials here (the demo setting, made explicit).
    with override_settings(API_ANONYMOUS_ACCESS=True):
        yield


def run_chromium(binary: str, tmp_path: Path, url: str, *mode: str, size: str = "1280,900") -> str:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            binary,
            *HEADLESS_FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            "--hide-scrollbars",
            *mode,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(tmp_path)},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def assert_png(path: Path) -> None:
    assert path.exists(), f"no screenshot at {path}"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000, f"screenshot is suspiciously small ({len(data)} bytes)"


def test_status_page_in_chromium(chromium, live_server, tmp_path):
    store, _ = busy_week_store()
    # Special hours (docs/rules.md §9): a short Monday in the week shown, and a closed Friday ahead.
    special_hours_set(store=store, date=date(2023, 1, 23), shifts=[(time(10), time(12))])
    special_hours_set(store=store, date=date(2023, 1, 27), shifts=[])
    url = f"{live_server.url}/stores/{store.store_id}/"

    dom = run_chromium(chromium, tmp_path, url, "--dump-dom")
    assert '<h1 id="store-id">busy-week</h1>' in dom
    assert '<svg id="timeline"' in dom
    for state in ("UP", "DOWN", "UNKNOWN", "CLOSED"):
        assert f'class="segment {state}"' in dom
    assert dom.count('<g class="day"') == 8
    assert 'id="incidents"' in dom and 'class="incident"' in dom
    assert 'id="uptime"' in dom and "%" in dom
    special = dom[dom.index('id="special-hours"') :]
    assert "Mon 23 Jan 2023" in special and "10:00–12:00" in special and "Closed all day" in special
    # The strip of the last 90 local days, each with its hover text; the range picker's week.
    cells = re.findall(r'<span class="cell ([\w -]+)" role="img" title="([^"]+)"', dom)
    assert len(cells) == 90 and cells[-1][1].startswith("Wed 25 Jan 2023 (not over")
    assert {level for level, _ in cells} >= {"unknown", "up-full"}
    assert 'id="range-figures"' in dom and 'id="range-form"' in dom

    screenshot = tmp_path / "status-page.png"
    run_chromium(chromium, tmp_path, url, f"--screenshot={screenshot}", size="1280,1600")
    assert_png(screenshot)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, SCREENSHOTS / "status-page.png")


def test_report_page_in_chromium(chromium, live_server, tmp_path):
    store, end = busy_week_store()
    pending = Report.objects.create(store_ids=[store.store_id])
    dom = run_chromium(chromium, tmp_path, f"{live_server.url}/reports/{pending.id}/", "--dump-dom")
    assert 'id="report-status">PENDING<' in dom
    assert 'http-equiv="refresh"' in dom

    complete = Report.objects.create(store_ids=[store.store_id])
    report_run(report_id=complete.id)
    url = f"{live_server.url}/reports/{complete.id}/"
    dom = run_chromium(chromium, tmp_path, url, "--dump-dom")
    assert 'id="report-status">COMPLETE<' in dom
    assert 'id="download" href="/reports/download/' in dom
    assert 'href="/stores/busy-week/"' in dom

    screenshot = tmp_path / "report-page.png"
    run_chromium(chromium, tmp_path, url, f"--screenshot={screenshot}")
    assert_png(screenshot)
    shutil.copyfile(screenshot, SCREENSHOTS / "report-page.png")


def test_fleet_and_reports_pages_in_chromium(chromium, live_server, tmp_path):
    _, end = busy_week_store()
    hourly(make_store("down-now", zone="UTC"), hours=7 * 24 + 3, status=lambda age: age > 2, end=end)
    hourly(make_store("new-store", zone="UTC"), hours=24, end=end)
    make_store("never-polled")
    dom = run_chromium(chromium, tmp_path, f"{live_server.url}/", "--dump-dom")
    assert '<table id="fleet">' in dom and 'data-store="down-now" data-state="DOWN"' in dom
    assert dom.index('data-store="down-now"') < dom.index('data-store="busy-week"')
    assert "down for" in dom and "but only" in dom and "never reported" in dom
    assert 'id="generate-report"' in dom and "demo (anonymous access)" in dom
    screenshot = tmp_path / "fleet.png"
    run_chromium(chromium, tmp_path, f"{live_server.url}/", f"--screenshot={screenshot}", size="1280,900")
    assert_png(screenshot)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(screenshot, SCREENSHOTS / "fleet.png")

    complete = Report.objects.create()
    report_run(report_id=complete.id)
    Report.objects.create()  # still PENDING
    dom = run_chromium(chromium, tmp_path, f"{live_server.url}/reports/", "--dump-dom")
    assert dom.count('<tr class="report"') == 2
    assert 'class="download" href="/reports/download/' in dom and "PENDING" in dom
    screenshot = tmp_path / "reports.png"
    run_chromium(chromium, tmp_path, f"{live_server.url}/reports/", f"--screenshot={screenshot}", size="1280,700")
    assert_png(screenshot)
    shutil.copyfile(screenshot, SCREENSHOTS / "reports.png")
