"""`manage.py load_data DIR` or `--status F --hours F --timezones F` (SPEC §6).

Thin: `monitoring.ingest.load_files` does the work (the status file, loaded last,
is read and parsed in a thread meanwhile: `status_file.reading_ahead`). One summary
line per file (`-v 2`: and where its time went).
Rejected rows do not fail the command (exit 0): they are counted, the first few
printed, and all of them written to `<input name>.rejects.csv` next to the input (or
in `--rejects DIR`). A missing or unreadable file, or a missing required column,
stops the command before anything is loaded (CommandError, exit 1).
"""

import os
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitoring.ingest import (
    HOURS,
    STATUS,
    TIMEZONES,
    FileLoadResult,
    LoadError,
    default_rejects_path,
    find_input_files,
    load_files,
)
from monitoring.ingest.status_file import reading_ahead
from monitoring.models import Store

SHOWN_REJECTIONS = 10


class Command(BaseCommand):
    help = (
        "Loads store status polls, business hours and time zones from CSV files (SPEC §1): "
        "the files of DIR found by their usual names, and/or the files given with --status, "
        "--hours, --timezones. Rejected rows are reported and written to <name>.rejects.csv."
    )
    # The system checks import the URL conf and with it the GraphQL schema (~1 s);
    # loading needs neither.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", help="folder holding store_status.csv, menu_hours.csv, timezones.csv")
        parser.add_argument("--status", help="status polls file (store_id, timestamp_utc, status)")
        parser.add_argument("--hours", help="business hours file (store_id, dayOfWeek|day, start/end_time_local)")
        parser.add_argument("--timezones", help="time zones file (store_id, timezone_str)")
        parser.add_argument(
            "--if-empty", action="store_true", help="load only when the database has no store yet (make run)"
        )
        parser.add_argument(
            "--rejects",
            metavar="DIR",
            help="folder for the <name>.rejects.csv files (default: next to each input file)",
        )
        parser.add_argument("--no-rejects-file", action="store_true", help="do not write rejects files")

    def handle(self, *args, **options):
        files = self._files(options)
        if options["if_empty"]:
            stores = Store.objects.count()
            if stores:
                self.stdout.write(f"load_data: skipped (--if-empty): the database already has {stores} stores")
                return
        rejects_dir = Path(options["rejects"]) if options["rejects"] else None
        try:
            # The status file loads last: it is read and parsed meanwhile, while the
            # time zones and hours load (mostly waiting on the database).
            with reading_ahead(files.get(STATUS) if len(files) > 1 else None):
                load_files(
                    files=files,
                    rejects_path_of=None if options["no_rejects_file"] else lambda path: self._rejects_path(path, rejects_dir),
                    progress=sys.stderr.isatty(),
                    on_loaded=lambda result: self._report(result, options["verbosity"]),
                )
        except LoadError as error:
            raise CommandError(str(error)) from None

    def _report(self, result: FileLoadResult, verbosity: int) -> None:
        self.stdout.write(result.summary())
        if verbosity >= 2:
            self.stdout.write("  timings: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.timings.items()))
        for rejection in result.rejections[:SHOWN_REJECTIONS]:
            self.stderr.write(f"  rejected {rejection}")
        if result.rejected > SHOWN_REJECTIONS:
            self.stderr.write(f"  … and {result.rejected - SHOWN_REJECTIONS} more")
        if result.rejects_path:
            self.stderr.write(f"  rejected rows written to {result.rejects_path}")

    def _files(self, options) -> dict[str, Path]:
        files: dict[str, Path] = {}
        if options["directory"]:
            try:
                files.update(find_input_files(directory=options["directory"]))
            except LoadError as error:
                raise CommandError(str(error)) from None
            if not files:
                raise CommandError(
                    f"{options['directory']}: no input file found (expected store_status.csv, "
                    "menu_hours.csv, timezones.csv or bq-results-*.csv)"
                )
        for kind, option in ((STATUS, "status"), (HOURS, "hours"), (TIMEZONES, "timezones")):
            if options[option]:
                path = Path(options[option])
                if not path.is_file():
                    raise CommandError(f"{path}: no such file (--{option})")
                files[kind] = path
        if not files:
            raise CommandError("give a directory or at least one of --status, --hours, --timezones")
        if options["directory"]:
            missing = [kind for kind in (STATUS, HOURS, TIMEZONES) if kind not in files]
            if missing:
                self.stderr.write(f"load_data: no {', '.join(missing)} file in {options['directory']}")
        return files

    def _rejects_path(self, path: Path, rejects_dir: Path | None) -> Path | None:
        target = default_rejects_path(path, rejects_dir)
        directory = target.parent
        if rejects_dir is None and not (directory.is_dir() and os.access(directory, os.W_OK)):
            self.stderr.write(f"load_data: {directory} is not writable: rejected rows are not written to a file")
            return None
        return target
