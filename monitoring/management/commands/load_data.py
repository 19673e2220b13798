"""`manage.py load_data DIR` or `--status F --hours F --timezones F [--special F] [--revenue F]`
(docs/rules.md §6, §9, §13).

Thin: `monitoring.ingest.load_files` does the work (the status file, loaded last,
is read and parsed in a thread meanwhile: `status_file.reading_ahead`). One summary
line per file (`-v 2`: and where its time went).
A folder's files are found by their usual names (docs/rules.md §1); for a kind with none, the one
file whose name starts with a usual name (`store_status_sample.csv`) is taken. What was
found for each kind (status, hours, time zones, special hours, expected revenue), and what was not, is
written first (stderr), close names and other CSV files of the folder included. A load
that stored nothing at all (no row loaded, replaced or found unchanged) exits 1.
Rejected rows do not fail the command (exit 0) unless `--strict`: they are counted,
the first few printed, and all of them written to `<input name without .csv>.rejects.csv`
(store_status.csv -> store_status.rejects.csv) next to the input (or in `--rejects DIR`);
with `--strict` the good rows still load and the command then exits 1. A missing or
unreadable file, a folder holding none of the input files, or a missing required column
stops the command before anything is loaded (CommandError, exit 1), with one line.
A database that has not been migrated yet (a fresh `.data/`) is migrated first.
"""

import os
import sys
import time
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from monitoring.ingest import (
    HOURS,
    REVENUE,
    SPECIAL_HOURS,
    STATUS,
    TIMEZONES,
    FileLoadResult,
    LoadError,
    default_rejects_path,
    FILE_NAMES,
    expected_names,
    folder_survey,
    load_files,
    read_header,
)
from monitoring.audit import audit_record
from monitoring.ingest.status_file import reading_ahead
from monitoring.kernel.humanize import count
from monitoring.models import Store
from monitoring.stores.summaries import summaries_bring_up_to_date

SHOWN_REJECTIONS = 10
#: The kinds as the folder's description lists them: kind, label, its option.
KIND_LINES = (
    (STATUS, "status", "status"),
    (HOURS, "hours", "hours"),
    (TIMEZONES, "time zones", "timezones"),
    (SPECIAL_HOURS, "special hours", "special"),
    (REVENUE, "revenue", "revenue"),
)
#: The kinds a folder may lack without a word of warning.
OPTIONAL_KINDS = (SPECIAL_HOURS, REVENUE)


class Command(BaseCommand):
    help = (
        "Loads store status polls, business hours and time zones from CSV files (docs/rules.md §1): "
        "the files of DIR found by their usual names, and/or the files given with --status, "
        "--hours, --timezones (and, optional, special hours, docs/rules.md §9: --special; expected revenue, "
        "docs/rules.md §13: --revenue). Rejected rows are reported and written to "
        "<input name without .csv>.rejects.csv (store_status.csv -> store_status.rejects.csv) "
        "next to each input; the good rows load anyway (--strict: then exit 1). "
        "An unmigrated database is migrated first."
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
            "--special",
            help="special hours file (store_id, date, start/end_time_local; both times empty: closed all day)",
        )
        parser.add_argument(
            "--revenue",
            help="expected revenue file (store_id, dayOfWeek|day, hour, expected_revenue[, currency])",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="load only when the database has no store yet (make run)"
        )
        parser.add_argument(
            "--rejects",
            metavar="DIR",
            help="folder for the <input name without .csv>.rejects.csv files (default: next to each input file)",
        )
        parser.add_argument("--no-rejects-file", action="store_true", help="do not write rejects files")
        parser.add_argument(
            "--strict",
            action="store_true",
            help="exit 1 when any row was rejected (after loading: the good rows stay loaded)",
        )

    def handle(self, *args, **options):
        files = self._files(options)
        # Every header first (no database needed): a wrong file is one line, whatever
        # state the database is in.
        try:
            for kind, path in files.items():
                read_header(path=path, kind=kind)
        except LoadError as error:
            raise CommandError(str(error)) from None
        self._migrated(DEFAULT_DB_ALIAS)
        if options["if_empty"]:
            stores = Store.objects.count()
            if stores:
                self.stdout.write(f"load_data: skipped (--if-empty): the database already has {count(stores, 'store', grouped=False)}")
                return
        rejects_dir = Path(options["rejects"]) if options["rejects"] else None
        try:
            # The status file loads last: it is read and parsed meanwhile, while the
            # time zones and hours load (mostly waiting on the database).
            with reading_ahead(files.get(STATUS) if len(files) > 1 else None):
                results = load_files(
                    files=files,
                    rejects_path_of=None if options["no_rejects_file"] else lambda path: self._rejects_path(path, rejects_dir),
                    progress=sys.stderr.isatty(),
                    on_loaded=lambda result: self._report(result, options["verbosity"]),
                )
        except LoadError as error:
            raise CommandError(str(error)) from None
        kept = sum(result.loaded + result.replaced + result.unchanged + result.superseded for result in results)
        if not kept:
            # Headers but no row (or every row rejected): nothing is in the database that
            # was not there before; a script must not take this for a load.
            raise CommandError("loaded nothing: no row of the files above was stored (see the rejected rows, if any)")
        self._keep_daily_figures()
        rejected = sum(result.rejected for result in results)
        if options["strict"] and rejected:
            where = [str(result.rejects_path) for result in results if result.rejects_path]
            see = f" (see {', '.join(where)})" if where else ""
            raise CommandError(
                f"--strict: {rejected} row{'s' if rejected != 1 else ''} rejected{see}; "
                "the other rows are loaded"
            )

    def _keep_daily_figures(self) -> None:
        """The days just loaded are kept as daily figures now (docs/rules.md §11), so that
        the first range or report reads them; the minute's schedule would do it later."""
        started = time.perf_counter()
        kept = summaries_bring_up_to_date()
        if kept:
            self.stdout.write(f"daily figures: {count(kept, 'store-day')} kept in {time.perf_counter() - started:.1f} s")

    def _migrated(self, alias: str) -> None:
        """A database without the tables (a fresh `.data/`, a new DATABASE_URL) is
        migrated first, in one line instead of a traceback from the first query."""
        from django.db.migrations.executor import MigrationExecutor

        connection = connections[alias]
        try:
            executor = MigrationExecutor(connection)
            plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        except DatabaseError as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CommandError(f"cannot reach the database: {reason}") from None
        if plan:
            self.stderr.write("database not migrated: migrating first…")
            call_command("migrate", database=alias, interactive=False, verbosity=0)

    def _report(self, result: FileLoadResult, verbosity: int) -> None:
        self.stdout.write(result.summary())
        if result.kind != STATUS and (result.loaded or result.replaced or result.removed or result.stores_created):
            # Hours, zones, special hours and revenue are in the audit log (docs/rules.md §12),
            # a file as one entry of what it changed; polls are not.
            audit_record(
                actor="command:load_data", action=f"{result.kind}.load", object_type="file",
                object_id=result.file or result.kind,
                after={
                    "loaded": result.loaded, "replaced": result.replaced, "removed": result.removed,
                    "unchanged": result.unchanged, "rejected": result.rejected, "stores_created": result.stores_created,
                },
            )
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
        survey = None
        if options["directory"]:
            try:
                survey = folder_survey(directory=options["directory"])
            except LoadError as error:
                raise CommandError(str(error)) from None
            files.update(survey.files)
            if not files:
                self._describe(survey, files)
                raise CommandError(f"{options['directory']}: no input file found; expected {_expected()}")
        for kind, _label, option in KIND_LINES:
            if options[option]:
                path = Path(options[option])
                if not path.is_file():
                    raise CommandError(f"{path}: no such file (--{option})")
                files[kind] = path
        if not files:
            raise CommandError("give a directory or at least one of --status, --hours, --timezones, --special, --revenue")
        if survey is not None:
            self._describe(survey, files)
            missing = [kind for kind in (STATUS, HOURS, TIMEZONES) if kind not in files]
            if missing:
                self.stderr.write(f"load_data: no {', '.join(missing)} file in {options['directory']}")
        return files

    def _describe(self, survey, files: dict[str, Path]) -> None:
        """One line per kind: the file used (and why, for a close name), or "not found"
        with what the folder holds that might be it."""
        self.stderr.write(f"load_data: in {survey.directory}:")
        for kind, label, option in KIND_LINES:
            path = files.get(kind)
            usual = FILE_NAMES[kind][0]
            if path is not None and kind in survey.close:
                line = f"{path.name} (taken for {usual}: its name starts with it)"
            elif path is not None:
                line = path.name if path.parent == survey.directory else f"{path} (--{option})"
            elif kind in survey.ambiguous:
                names = ", ".join(p.name for p in survey.ambiguous[kind])
                line = f"not found: several names close to {usual} ({names}); name one with --{option}"
            else:
                line = f"not found (expected {usual}{'; optional' if kind in OPTIONAL_KINDS else ''})"
            self.stderr.write(f"  {label:<14} {line}")
        if survey.others and any(kind not in files for kind in (STATUS, HOURS, TIMEZONES)):
            names = ", ".join(p.name for p in survey.others)
            self.stderr.write(f"  other CSV files here, not loaded: {names} (rename one, or pass --status/--hours/--timezones)")

    def _rejects_path(self, path: Path, rejects_dir: Path | None) -> Path | None:
        target = default_rejects_path(path, rejects_dir)
        directory = target.parent
        if rejects_dir is None and not (directory.is_dir() and os.access(directory, os.W_OK)):
            self.stderr.write(f"load_data: {directory} is not writable: rejected rows are not written to a file")
            return None
        return target


def _expected() -> str:
    """The names `find_input_files` accepts: "store_status.csv, 'store status.csv', …,
    timezones.csv or bq-results-*.csv (in any case)"."""
    names = [f"'{name}'" if " " in name else name for name in expected_names()]
    return ", ".join(names[:-1]) + " or " + names[-1] + " (in any case)"
