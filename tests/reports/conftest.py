"""Fixtures of the report tests: finished CSVs written to a folder of the test's own."""

import pytest


@pytest.fixture(autouse=True)
def report_files(tmp_path, settings):
    folder = tmp_path / "reports"
    settings.STORAGES = {
        **settings.STORAGES,
        "reports": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": folder}},
    }
    return folder
