"""Where finished report CSVs live: Django's storage named "reports" (settings.STORAGES):
a FileSystemStorage under the data folder by default, any S3-compatible store through
django-storages when REPORT_STORAGE=s3 (README "Configuration"). Kept apart from the
report services so that the models can name it without importing them."""

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import connection
from django.utils.functional import cached_property

REPORTS_STORAGE = "reports"


def report_storage() -> Storage:
    """The storage of report CSVs (a callable: FileField reads it when used, so settings
    changed in tests or by the environment apply, and migrations do not record it)."""
    return storages[REPORTS_STORAGE]


class PerDatabaseFileSystemStorage(FileSystemStorage):
    """FileSystemStorage in a folder per database under `location` (<location>/<name>):
    reports of the test databases, the benchmarks' and the demo's never mix, as their
    rows do not. The name is read at first use, once the connection is set up."""

    @cached_property
    def base_location(self):
        root = self._value_or_setting(self._location, settings.MEDIA_ROOT)
        return os.path.join(root, connection.settings_dict["NAME"])
