from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.kernel import values
from monitoring.kernel.humanize import count
from monitoring.stores.retention import polls_prune, polls_prune_by_retention


class Command(BaseCommand):
    help = (
        "Delete the polls stamped before an instant (--before), or by default those older than "
        "POLL_RETENTION_DAYS before their own store's latest poll (what the daily schedule does)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--before", help=f"the cut, with its offset, e.g. {values.INSTANT_EXAMPLE}")

    def handle(self, *args, before=None, **options):
        if before is not None:
            try:
                cut = values.as_of(before, field="before")  # the one grammar of instants (docs/rules.md §7)
            except values.InvalidValue as error:
                raise CommandError(f"--before: {error.reason}") from None
            deleted = polls_prune(before=cut)
            self.stdout.write(f"deleted {count(deleted, 'poll', grouped=False)} stamped before {cut.isoformat()}")
            return
        # Each store's own clock: no tenant's latest poll moves another's cut.
        deleted = polls_prune_by_retention(now=timezone.now())
        self.stdout.write(
            f"deleted {count(deleted, 'poll', grouped=False)} older than {count(settings.POLL_RETENTION_DAYS, 'day')} before their store's latest poll"
        )
