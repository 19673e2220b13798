"""`python manage.py generate_data OUTDIR --stores N --days D [--seed S] [--end ISO8601]`.

Writes store_status.csv, menu_hours.csv, timezones.csv (docs/rules.md §1) and
store_revenue.csv (§13) with synthetic,
deterministic data; see monitoring/tools/generation/ for what is in them. Needs no database.
"""

import argparse
from datetime import datetime, timezone
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitoring.kernel import values
from monitoring.tools.generation import DEFAULT_END, generate_dataset


def _whole(field: str, minimum: int):
    """An option's whole number, read by the one grammar (ASCII digits, bounds)."""

    def read(value: str) -> int:
        try:
            return values.whole_number(value, field=field, minimum=minimum)
        except values.InvalidValue as error:
            raise argparse.ArgumentTypeError(error.reason) from None

    return read


def _end(value: str) -> datetime:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if text.endswith(" UTC"):
        text = text[:-4]
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


class Command(BaseCommand):
    help = "Generate synthetic store_status.csv, menu_hours.csv, timezones.csv and store_revenue.csv into OUTDIR."
    requires_system_checks: list = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("out_dir", metavar="OUTDIR", type=Path)
        parser.add_argument("--stores", type=_whole("--stores", 0), required=True, help="distinct store ids")
        parser.add_argument("--days", type=_whole("--days", 1), required=True, help="days of polls before --end")
        parser.add_argument("--seed", type=_whole("--seed", 0), default=0, help="same seed, same bytes (default 0)")
        parser.add_argument(
            "--end",
            type=str,
            default=None,
            help=f"latest poll, ISO 8601 (naive = UTC); default {DEFAULT_END.isoformat()}",
        )

    def handle(self, *args, **options):
        if options["days"] <= 0:
            raise CommandError("--days must be at least 1")
        end = None
        if options["end"]:
            try:
                end = _end(options["end"])
            except ValueError as exc:
                raise CommandError(f"--end: not an ISO 8601 date-time: {options['end']!r}") from exc
        summary = generate_dataset(
            out_dir=options["out_dir"],
            stores=options["stores"],
            days=options["days"],
            seed=options["seed"],
            end=end,
        )
        self.stdout.write(summary.describe())
