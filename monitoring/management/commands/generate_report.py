from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from monitoring import history
from monitoring.kernel import values
from monitoring.kernel.humanize import count as counted
from monitoring.reports import ReportInputError, report_csv_write, validate_report_request
from monitoring.stores.selectors import earliest_poll_timestamp, latest_poll_timestamp


def parse_as_of(value: str, *, option: str = "--as-of", field: str = "as_of") -> datetime:
    """--as-of (--from, --to) by the one grammar of instants (docs/rules.md §7): an offset is
    required (a text without one is refused, saying how to write one), years 2000–2100."""
    try:
        return values.as_of(value, field=field)
    except values.InvalidValue as error:
        raise CommandError(f"{option}: {error.reason}") from None


def parse_store_ids(ids: list[str]) -> list[str]:
    """--store ids by the grammar of store ids, exactly as given (never trimmed)."""
    for store_id in ids:
        try:
            values.store_id(store_id, field="store_id")
        except values.InvalidValue as error:
            raise CommandError(f"--store {values.shown(store_id)}: {error.reason}") from None
    return ids


#: The report's windows (docs/rules.md §5): [as_of - length, as_of).
WINDOWS = (("last hour", timedelta(hours=1)), ("last day", timedelta(days=1)), ("last week", timedelta(days=7)))


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def as_of_warning(as_of: datetime, given: str, *, horizon: timedelta) -> str | None:
    """One line when `--as-of` leaves windows of the report with no poll in reach (no
    poll inside them nor within `horizon` before them: their figures are all 0,
    silently), else None."""
    latest, earliest = latest_poll_timestamp(), earliest_poll_timestamp()
    if latest is None or earliest is None:
        return f"warning: --as-of {given}: no poll is stored: the windows hold no polls"
    if as_of < earliest:
        return f"warning: --as-of {given} is before the earliest poll stored ({_utc(earliest)}): the windows hold no polls"
    empty = [name for name, length in WINDOWS if as_of - length > latest + horizon]
    if not empty:
        return None
    if len(empty) == len(WINDOWS):
        which = "the windows hold no polls"
    else:
        which = f"the {' and the '.join(empty)} hold{'s' if len(empty) == 1 else ''} no polls (all 0)"
    return f"warning: --as-of {given} is after the latest poll stored ({_utc(latest)}): {which}"


class Command(BaseCommand):
    help = (
        "Compute the uptime report (docs/rules.md §5) synchronously and write its CSV; with --from (and --to), the"
        " range report instead: business minutes up, down and unknown over [from, to) (docs/rules.md §11), and the"
        " lost revenue and revenue at risk when revenue rows are stored (docs/rules.md §13)."
    )
    # The system checks import the URL conf and with it the GraphQL schema (~1 s);
    # this command needs neither.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--as-of",
            help=f"report time with its offset, e.g. {values.INSTANT_EXAMPLE}; default: the latest poll stored",
        )
        parser.add_argument(
            "--store", nargs="+", action="extend", dest="stores", metavar="ID", help="only these store ids"
        )
        parser.add_argument("--output", type=Path, help="CSV file to write (default: stdout)")
        parser.add_argument("--horizon-minutes", type=int, help="unknown beyond this far from a poll (default 120)")
        parser.add_argument(
            "--from", dest="range_from", metavar="INSTANT",
            help="a range report from this instant (included), with its offset; see --to",
        )
        parser.add_argument(
            "--to", dest="range_to", metavar="INSTANT",
            help="the range's end (excluded; its polls up to it count); default: the latest poll stored",
        )

    def handle(self, *args, as_of=None, stores=None, output=None, horizon_minutes=None, **options):
        if stores is not None:
            stores = parse_store_ids(stores)
        range_from, range_to = options.get("range_from"), options.get("range_to")
        if range_from is not None or range_to is not None:
            return self._range(range_from, range_to, as_of=as_of, stores=stores, output=output, horizon_minutes=horizon_minutes)
        as_of_time = parse_as_of(as_of) if as_of is not None else None
        try:
            validate_report_request(as_of=as_of_time, store_ids=stores, horizon_minutes=horizon_minutes)
        except ReportInputError as error:
            raise CommandError(str(error)) from None
        if as_of_time is not None:
            horizon = timedelta(minutes=horizon_minutes or settings.REPORT_HORIZON_MINUTES)
            warning = as_of_warning(as_of_time, as_of, horizon=horizon)
            if warning:
                self.stderr.write(warning)
        horizon = timedelta(minutes=horizon_minutes) if horizon_minutes else None
        # Written chunk by chunk (REPORT_CHUNK_SIZE stores at a time): memory follows the
        # chunk, not the fleet, as in the workers.
        if output is None:
            report_csv_write(out=_Unended(self.stdout), as_of=as_of_time, store_ids=stores, horizon=horizon)
        else:
            with output.open("w", newline="") as out:
                as_of_used, count = report_csv_write(out=out, as_of=as_of_time, store_ids=stores, horizon=horizon)
            self.stderr.write(f"wrote {counted(count, 'store', grouped=False)} to {output} (as of {as_of_used.isoformat()})")

    def _range(self, range_from, range_to, *, as_of, stores, output, horizon_minutes) -> None:
        """The range CSV of [--from, --to), written chunk by chunk (fewer stores per chunk
        for longer ranges: memory follows the chunk)."""
        if as_of is not None:
            raise CommandError("--as-of is the weekly report's; a range ends at --to")
        if range_from is None:
            raise CommandError("--to needs --from: a range report covers [--from, --to)")
        start = parse_as_of(range_from, option="--from", field="from")
        end = parse_as_of(range_to, option="--to", field="to") if range_to is not None else None
        try:
            validate_report_request(as_of=None, store_ids=stores, horizon_minutes=horizon_minutes)
            start, end = history.range_resolve(start=start, end=end)
        except (ReportInputError, history.HistoryInputError) as error:
            raise CommandError(f"--{error.field}: {error.reason}" if error.field in ("from", "to") else str(error)) from None
        horizon = timedelta(minutes=horizon_minutes) if horizon_minutes else None
        if output is None:
            history.range_csv_write(out=_Unended(self.stdout), start=start, end=end, store_ids=stores, horizon=horizon)
        else:
            with output.open("w", newline="") as out:
                start, end, count = history.range_csv_write(
                    out=out, start=start, end=end, store_ids=stores, horizon=horizon
                )
            self.stderr.write(f"wrote {count} stores to {output} (from {start.isoformat()} to {end.isoformat()})")
        pruned = history.stores_answered_from_whole_days(start=start, store_ids=stores, horizon=horizon)
        if pruned:
            self.stderr.write(
                f"note: {pruned} store{'s' if pruned != 1 else ''} had polls pruned (POLL_RETENTION_DAYS) inside the"
                " range: their figures there are those of the whole local days kept, partial days left out"
            )


class _Unended:
    """The command's stdout for the CSV writer: text as written, no line ending added."""

    def __init__(self, stdout):
        self.stdout = stdout

    def write(self, text: str) -> None:
        self.stdout.write(text, ending="")
