"""`python manage.py create_webhook --owner NAME URL`: a webhook for an owner's stores
(without --owner: a staff webhook, every store). Prints its signing secret, once."""

from django.core.management.base import BaseCommand, CommandError

from monitoring.alerts.events import ALERT_EVENTS
from monitoring.alerts.webhooks import webhook_create_for_owner
from monitoring.kernel.values import InvalidValue


class Command(BaseCommand):
    help = "Creates a webhook (or mailto: address) for an owner's alerts and prints its secret once."

    def add_arguments(self, parser):
        parser.add_argument("url", help="https://… (signed JSON POST) or mailto:address")
        parser.add_argument("--owner", help="the owner's name (default: a staff webhook for every store)")
        parser.add_argument("--event", action="append", dest="events", choices=ALERT_EVENTS, help="repeatable; default all")
        parser.add_argument("--confirm-polls", type=int, default=None, help="inactive evidence polls before STORE_DOWN (1)")

    def handle(self, *args, url, owner, events, confirm_polls, **options):
        try:
            webhook, secret = webhook_create_for_owner(
                owner_name=owner, url=url, events=events, confirm=confirm_polls, actor="command:create_webhook"
            )
        except InvalidValue as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"webhook {webhook.pk} for {owner or 'every store (staff)'}: {', '.join(webhook.events)}")
        self.stdout.write(f"secret (shown once): {secret}")
