from datetime import datetime, timedelta, timezone
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitoring.reports import ReportInputError, report_compute, report_csv, validate_report_request


def parse_as_of(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" UTC", "+00:00"))
    except ValueError:
        raise CommandError(f"--as-of: not an ISO 8601 date-time: {value!r}") from None
    # A time without a zone is taken as UTC (all stored times are UTC).
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class Command(BaseCommand):
    help = "Compute the uptime report (SPEC §5) synchronously and write its CSV."
    # The system checks import the URL conf and with it the GraphQL schema (~1 s);
    # this command needs neither.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="report time (ISO 8601); default: the latest poll stored")
        parser.add_argument(
            "--store", nargs="+", action="extend", dest="stores", metavar="ID", help="only these store ids"
        )
        parser.add_argument("--output", type=Path, help="CSV file to write (default: stdout)")
        parser.add_argument("--horizon-minutes", type=int, help="unknown beyond this far from a poll (default 120)")

    def handle(self, *args, as_of=None, stores=None, output=None, horizon_minutes=None, **options):
        as_of_time = parse_as_of(as_of) if as_of else None
        try:
            validate_report_request(as_of=as_of_time, store_ids=stores, horizon_minutes=horizon_minutes)
        except ReportInputError as error:
            raise CommandError(str(error)) from None
        computed = report_compute(
            as_of=as_of_time,
            store_ids=stores,
            horizon=timedelta(minutes=horizon_minutes) if horizon_minutes else None,
        )
        text = report_csv(rows=computed.rows)
        if output is None:
            self.stdout.write(text, ending="")
        else:
            output.write_text(text)
            self.stderr.write(
                f"wrote {len(computed.rows)} stores to {output} (as of {computed.as_of.isoformat()})"
            )
