"""Everything that enters: the CSV files of docs/rules.md §1 and live polls, checked by one
grammar (docs/rules.md §7). The flow, file by file:

- `values`: the grammar, one function per kind of value, used by every path;
- `csv_files`: kinds, file names, headers, physical lines -> records;
- `results`: rejections, counts, the rejects file, `load_envelope`;
- `fast_parse`: canonical status lines read as numpy arrays;
- `status_file`: a status file, streamed; `bulk_path`: into an empty poll table;
- `poll_arrays`, `poll_writes`, `copy_format`: polls as arrays, how they are written,
  PostgreSQL's binary COPY;
- `small_files`: business hours, special hours and time zones;
- `revenue_file`: expected revenue per store and local hour;
- `live`: `polls_record`, the polls of the API;
- `load`: `load_files`, the front door for files.

The rules in full: docs/loading.md.
"""

from monitoring.ingest.csv_files import (
    HOURS,
    KINDS,
    REVENUE,
    SPECIAL_HOURS,
    STATUS,
    TIMEZONES,
    default_rejects_path,
    expected_names,
    FILE_NAMES,
    find_input_files,
    folder_survey,
    read_header,
)
from monitoring.ingest.live import polls_record
from monitoring.ingest.load import LOADERS, load_files
from monitoring.ingest.results import FileLoadResult, LoadError, Rejection
from monitoring.ingest.revenue_file import load_store_revenue_file
from monitoring.ingest.small_files import load_business_hours_file, load_special_hours_file, load_timezones_file
from monitoring.ingest.status_file import BULK_MIN_BYTES, load_status_file

__all__ = [
    "BULK_MIN_BYTES",
    "FileLoadResult",
    "HOURS",
    "KINDS",
    "LOADERS",
    "LoadError",
    "REVENUE",
    "Rejection",
    "SPECIAL_HOURS",
    "STATUS",
    "TIMEZONES",
    "default_rejects_path",
    "expected_names",
    "find_input_files",
    "folder_survey",
    "FILE_NAMES",
    "load_business_hours_file",
    "load_files",
    "load_special_hours_file",
    "load_status_file",
    "load_store_revenue_file",
    "load_timezones_file",
    "polls_record",
    "read_header",
]
