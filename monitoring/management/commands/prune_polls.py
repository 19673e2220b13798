from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitoring.kernel import values
from monitoring.stores.retention import polls_prune, retention_cut


class Command(BaseCommand):
    help = (
        "Delete the polls stamped before an instant (--before), or by default those older than "
        "POLL_RETENTION_DAYS before the latest poll (what the daily schedule does)."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--before", help=f"the cut, with its offset, e.g. {values.INSTANT_EXAMPLE}")

    def handle(self, *args, before=None, **options):
        if before is not None:
            try:
                cut = values.as_of(before, field="before")  # the one grammar of instants (SPEC §7)
            except values.InvalidValue as error:
                raise CommandError(f"--before: {error.reason}") from None
        else:
            cut = retention_cut(now=timezone.now())
            if cut is None:
                self.stdout.write("no polls stored: nothing to prune")
                return
        deleted = polls_prune(before=cut)
        self.stdout.write(f"deleted {deleted} polls stamped before {cut.isoformat()}")
