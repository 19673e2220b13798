from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from monitoring.kernel import values
from monitoring.kernel.errors import InputError
from monitoring.organizations.roles import ROLES, SCOPES, parse_role, parse_scopes
from monitoring.organizations.services import (
    invite_path,
    group_get_or_create,
    member_set,
    organization_get_or_create,
    stores_place,
    token_issue,
)

ACTOR = "command:create_api_token"


class Command(BaseCommand):
    help = (
        "Create an API token and print it once (only its hash is stored): for a member NAME of an organization"
        " (--org, with --role), for an owner (--owner: an organization-wide ADMIN service token), or staff (--staff)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the member's username with --org; otherwise what the token is for")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--org", help="organization name (created if missing); NAME is the member (created if missing)")
        who.add_argument("--owner", help="owner (organization) name, created if missing: an ADMIN token on all its stores")
        who.add_argument("--staff", action="store_true", help="a staff token: every store")
        parser.add_argument("--group", help="with --org: the member's role is on this group only (created if missing)")
        parser.add_argument("--role", help=f"with --org: one of {', '.join(ROLES)}")
        parser.add_argument("--scopes", help=f"with --org: comma-separated, of {', '.join(SCOPES)} (default: all)")
        parser.add_argument("--expires-in-days", type=int, help="with --org: the token expires after this many days")
        parser.add_argument("--store", nargs="+", action="extend", default=[], metavar="ID",
                            help="with --org or --owner: put these stores in the organization (and in --group)")

    def handle(self, *args, name, org=None, owner=None, staff=False, group=None, role=None, scopes=None,
               expires_in_days=None, store=(), **options):
        if not org and (group or role or scopes or expires_in_days is not None):
            raise CommandError("--group, --role, --scopes and --expires-in-days go with --org")
        if staff and store:
            raise CommandError("--store needs --org or --owner")
        try:
            store_ids = [values.store_id(item, field="store") for item in store]
            with transaction.atomic():
                if org:
                    if role is None:
                        raise CommandError(f"--org needs --role ({', '.join(ROLES)})")
                    raw, whose = self._member_token(name, org, group, role, scopes, expires_in_days, store_ids)
                elif owner:
                    organization = organization_get_or_create(name=owner, actor=ACTOR)
                    if store_ids:
                        stores_place(organization=organization, store_ids=store_ids, actor=ACTOR, move=True)
                    _, raw = token_issue(actor=ACTOR, name=name, owner=organization)
                    whose = repr(owner)
                else:
                    _, raw = token_issue(actor=ACTOR, name=name, is_staff=True)
                    whose = "staff"
        except InputError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(f"token for {whose}; shown once, keep it safe:")
        self.stdout.write(raw)

    def _member_token(self, name, org, group_name, role, scopes, expires_in_days, store_ids):
        role = parse_role(role, field="role")
        chosen_scopes = parse_scopes(scopes, field="scopes") if scopes is not None else None
        if expires_in_days is not None and expires_in_days < 1:
            raise CommandError("--expires-in-days: at least 1")
        organization = organization_get_or_create(name=org, actor=ACTOR)
        group = group_get_or_create(organization=organization, name=group_name, actor=ACTOR) if group_name else None
        if store_ids:
            stores_place(organization=organization, store_ids=store_ids, group=group, actor=ACTOR)
        member = member_set(username=name, organization=organization, group=group, role=role, actor=ACTOR)
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        _, raw = token_issue(
            actor=ACTOR, name=name, member=member, role=role, expires_at=expires_at,
            **({"scopes": chosen_scopes} if chosen_scopes is not None else {}),
        )
        where = f"group {group_name!r} of {org!r}" if group_name else repr(org)
        invite = invite_path(member=member)
        if invite:
            self.stderr.write(f"{name} has no password yet: this one-time link sets one (keep it private): {invite}")
        return raw, f"{name} ({role} of {where})"
