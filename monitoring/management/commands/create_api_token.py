from django.core.management.base import BaseCommand, CommandError

from monitoring.stores.access import token_create
from monitoring.models import Owner


class Command(BaseCommand):
    help = "Create an API token for an owner (or a staff token) and print it once; only its hash is stored."

    def add_arguments(self, parser):
        parser.add_argument("name", help="what the token is for, e.g. 'dashboard'")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--owner", help="owner name (created if missing)")
        who.add_argument("--staff", action="store_true", help="a staff token: every store")
        parser.add_argument("--store", nargs="+", action="extend", default=[], metavar="ID",
                            help="with --owner: also assign these stores to the owner")

    def handle(self, *args, name, owner=None, staff=False, store=(), **options):
        owner_obj = None
        if owner:
            owner_obj, _ = Owner.objects.get_or_create(name=owner)
            if store:
                from monitoring.models import Store

                updated = Store.objects.filter(store_id__in=store).update(owner=owner_obj)
                if updated != len(set(store)):
                    raise CommandError("some --store ids are unknown; nothing was assigned")
        elif store:
            raise CommandError("--store needs --owner")
        _, raw = token_create(name=name, owner=owner_obj, is_staff=staff)
        self.stderr.write(f"token for {'staff' if staff else owner_obj.name!r}; shown once, keep it safe:")
        self.stdout.write(raw)
