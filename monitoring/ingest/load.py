"""The front door for files: `load_files` loads whatever input files it is given (or
finds in a folder), each checked before any is loaded, then each in its own
transaction, zones and hours (weekly, then special) and expected revenue before polls."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from monitoring.ingest.csv_files import HOURS, LOAD_ORDER, REVENUE, SPECIAL_HOURS, STATUS, TIMEZONES, read_header
from monitoring.ingest.results import FileLoadResult
from monitoring.ingest.revenue_file import load_store_revenue_file
from monitoring.ingest.signals import file_polls_stored
from monitoring.ingest.small_files import load_business_hours_file, load_special_hours_file, load_timezones_file
from monitoring.ingest.status_file import load_status_file

LOADERS = {
    STATUS: load_status_file,
    HOURS: load_business_hours_file,
    TIMEZONES: load_timezones_file,
    SPECIAL_HOURS: load_special_hours_file,
    REVENUE: load_store_revenue_file,
}


def load_files(
    *,
    files: dict[str, Path],
    rejects_path_of: Callable[[Path], Path | None] | None = None,
    progress: bool = False,
    on_loaded: Callable[[FileLoadResult], None] | None = None,
) -> list[FileLoadResult]:
    """Loads `files` ({kind: path}, e.g. from `find_input_files`). Every header is
    checked first (`LoadError` before anything is written); each file then loads in
    its own transaction. `rejects_path_of(input)` says where its rejected rows go
    (None: nowhere); `on_loaded` hears of each file as soon as it is in."""
    for kind, path in files.items():
        read_header(path=path, kind=kind)
    results = []
    for kind in LOAD_ORDER:
        if kind not in files:
            continue
        path = Path(files[kind])
        rejects = rejects_path_of(path) if rejects_path_of else None
        result = LOADERS[kind](path=path, rejects_path=rejects, progress=progress)
        results.append(result)
        if on_loaded is not None:
            on_loaded(result)
    if any(result.kind == STATUS and result.loaded + result.replaced for result in results):
        file_polls_stored.send(sender=STATUS)
    return results
