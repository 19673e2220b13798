"""Changes to organizations, groups, members and tokens. Each writes its audit row
(monitoring.audit) in the transaction of the change; `actor` says who, as the audit log
shows it. The `*_for(access=…)` services are the API's and pages' way in: they check the
caller's role first (monitoring.stores.access.require)."""

from collections.abc import Sequence
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from monitoring.audit import audit_record
from monitoring.kernel.errors import Forbidden, InputError
from monitoring.models import ApiToken, Owner, Store
from monitoring.organizations.models import Group, Member
from monitoring.organizations.roles import ADMIN, ALL_SCOPES, role_rank
from monitoring.stores.access import Access, require, token_create


def organization_get_or_create(*, name: str, actor: str) -> Owner:
    with transaction.atomic():
        organization, created = Owner.objects.get_or_create(name=name)
        if created:
            audit_record(
                actor=actor, action="organization.create", object_type="organization", object_id=organization.pk,
                after={"name": name}, organization_id=organization.pk,
            )
    return organization


def group_get_or_create(*, organization: Owner, name: str, actor: str) -> Group:
    with transaction.atomic():
        group, created = Group.objects.get_or_create(organization=organization, name=name)
        if created:
            audit_record(
                actor=actor, action="group.create", object_type="group", object_id=group.pk,
                after={"name": name, "stores": []}, organization_id=organization.pk,
            )
    return group


def stores_place(
    *, organization: Owner, store_ids: Sequence[str], group: Group | None = None, actor: str, move: bool = False
) -> None:
    """Puts these stores in the organization (and in `group` when given). A store of
    another organization is refused unless `move` (the `--owner` command of old, which
    always moved them): a store is in at most one organization."""
    wanted = sorted(set(store_ids))
    with transaction.atomic():
        stores = list(Store.objects.select_for_update(of=("self",)).select_related("owner").filter(store_id__in=wanted))
        unknown = sorted(set(wanted) - {store.store_id for store in stores})
        if unknown:
            raise InputError(f"unknown store ids: {', '.join(map(repr, unknown[:5]))}; nothing was assigned", field="store")
        taken = [store for store in stores if store.owner_id not in (None, organization.pk)]
        if taken and not move:
            raise InputError(
                f"store {taken[0].store_id!r} belongs to another organization; nothing was assigned", field="store"
            )
        for store in sorted(stores, key=lambda store: store.store_id):
            if store.owner_id != organization.pk:
                audit_record(
                    actor=actor, action="store.assign", object_type="store", object_id=store.store_id,
                    before={"organization": store.owner.name if store.owner_id else None},
                    after={"organization": organization.name}, organization_id=organization.pk,
                )
        moved = [store for store in stores if store.owner_id not in (None, organization.pk)]
        if moved:  # out of the groups of the organization they leave
            Group.stores.through.objects.filter(store_id__in=[store.pk for store in moved]).delete()
        Store.objects.filter(pk__in=[store.pk for store in stores]).update(owner=organization)
        if group is not None:
            before = sorted(group.stores.values_list("store_id", flat=True))
            group.stores.add(*stores)
            after = sorted(group.stores.values_list("store_id", flat=True))
            if after != before:
                audit_record(
                    actor=actor, action="group.stores", object_type="group", object_id=group.pk,
                    before={"name": group.name, "stores": before}, after={"name": group.name, "stores": after},
                    organization_id=organization.pk,
                )


def member_set(*, username: str, organization: Owner, group: Group | None, role: str, actor: str) -> Member:
    """The member `username` with `role` on the organization (or on `group`): the person
    (a Django user, without a password until one is set) is made where missing."""
    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username)
        if created:  # no password until they set one (invite_path) or an admin does
            user.set_unusable_password()
            user.save(update_fields=["password"])
        member = Member.objects.select_for_update().filter(user=user, organization=organization, group=group).first()
        where = {"user": username, "group": group.name if group else None}
        if member is None:
            member = Member.objects.create(user=user, organization=organization, group=group, role=role)
            audit_record(
                actor=actor, action="member.create", object_type="member", object_id=member.pk,
                after={**where, "role": role}, organization_id=organization.pk,
            )
        elif member.role != role:
            audit_record(
                actor=actor, action="member.role", object_type="member", object_id=member.pk,
                before={**where, "role": member.role}, after={**where, "role": role}, organization_id=organization.pk,
            )
            member.role = role
            member.save(update_fields=["role"])
    return member


def token_snapshot(token: ApiToken) -> dict:
    """A token as the audit log shows it: never its secret or hash."""
    return {
        "name": token.name,
        "prefix": token.key_prefix,
        "staff": token.is_staff,
        "member": token.member.user.get_username() if token.member_id else None,
        "group": token.group.name if token.group_id else None,
        "role": token.role,
        "scopes": sorted(token.scopes),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


def token_issue(
    *,
    actor: str,
    name: str,
    owner: Owner | None = None,
    is_staff: bool = False,
    member: Member | None = None,
    group: Group | None = None,
    role: str = ADMIN,
    scopes=ALL_SCOPES,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token (monitoring.stores.access.token_create), recorded in the audit log.
    The raw value is returned once."""
    with transaction.atomic():
        token, raw = token_create(
            name=name, owner=owner, is_staff=is_staff, member=member, group=group, role=role, scopes=scopes,
            expires_at=expires_at,
        )
        audit_record(
            actor=actor, action="token.create", object_type="token", object_id=token.pk,
            after=token_snapshot(token), organization_id=token.owner_id,
        )
    return token, raw


def tokens_visible(*, access: Access):
    """The tokens an admin manages: its organization's (a group's admin: that group's)."""
    tokens = ApiToken.objects.select_related("member__user", "group")
    if access.all_stores:
        return tokens
    tokens = tokens.filter(owner_id=access.owner_id)
    if access.group_id is not None:
        tokens = tokens.filter(group_id=access.group_id) | tokens.filter(member__group_id=access.group_id)
    return tokens


def token_create_for(
    *, access: Access, name: str, role: str, scopes, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """An admin's new service token for its organization (a group's admin: for its group),
    with at most the admin's own role."""
    require(access, "tokens.manage")
    if access.all_stores:
        raise InputError("staff tokens are made with the create_api_token command", field="name")
    if role_rank(role) > role_rank(access.role):
        raise InputError(f"a token cannot have more than your own role ({access.role})", field="role")
    if expires_at is not None and expires_at <= timezone.now():
        raise InputError("must be in the future", field="expires_at")
    group = Group.objects.get(pk=access.group_id) if access.group_id is not None else None
    return token_issue(
        actor=access.actor, name=name, owner=Owner.objects.get(pk=access.owner_id), group=group, role=role,
        scopes=scopes, expires_at=expires_at,
    )


def token_revoke(*, access: Access, token_id: int) -> ApiToken | None:
    """Revokes one of the tokens `access` manages: refused from its next request. None if
    there is no such token (or it is not one `access` manages)."""
    require(access, "tokens.manage")
    with transaction.atomic():
        token = tokens_visible(access=access).select_for_update(of=("self",)).filter(pk=token_id).first()
        if token is None:
            return None
        if token.revoked_at is None:
            before = token_snapshot(token)
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(
                actor=access.actor, action="token.revoke", object_type="token", object_id=token.pk,
                before=before, after=token_snapshot(token), organization_id=token.owner_id,
            )
    return token



def members_visible(*, access: Access):
    """The members an admin manages: its organization's (a group's admin: its group's)."""
    members = Member.objects.select_related("user", "group", "organization")
    if access.all_stores:
        return members
    members = members.filter(organization_id=access.owner_id)
    return members if access.group_id is None else members.filter(group_id=access.group_id)


def _managed_group(*, access: Access, group_name: str | None) -> Group | None:
    """The group named, which must be the admin's own when its role is held on a group."""
    if access.all_stores:
        raise InputError("staff manage members in the admin or with the create_api_token command", field="username")
    if access.group_id is not None:
        own = Group.objects.get(pk=access.group_id)
        if group_name != own.name:
            raise Forbidden(f"a role held on group {own.name!r} manages that group's members only")
        return own
    if group_name is None:
        return None
    group = Group.objects.filter(organization_id=access.owner_id, name=group_name).first()
    if group is None:
        raise InputError(f"no group named {group_name!r} in your organization", field="group")
    return group


def member_set_for(*, access: Access, username: str, role: str, group_name: str | None) -> Member:
    """An admin gives `username` a role on its organization (or on a group of it), the
    person made where missing; never a role above the admin's own."""
    require(access, "members.manage")
    if not username.strip() or len(username) > 150:
        raise InputError("1 to 150 characters", field="username")
    if role_rank(role) > role_rank(access.role):
        raise InputError(f"a member cannot have more than your own role ({access.role})", field="role")
    group = _managed_group(access=access, group_name=group_name)
    return member_set(
        username=username.strip(), organization=Owner.objects.get(pk=access.owner_id), group=group, role=role,
        actor=access.actor,
    )


def member_remove_for(*, access: Access, username: str, group_name: str | None) -> bool:
    """An admin removes a member's role (and so its tokens' reach); False if it had none."""
    require(access, "members.manage")
    group = _managed_group(access=access, group_name=group_name)
    with transaction.atomic():
        member = (
            members_visible(access=access).select_for_update(of=("self",))
            .filter(user__username=username, group=group).first()
        )
        if member is None:
            return False
        audit_record(
            actor=access.actor, action="member.remove", object_type="member", object_id=member.pk,
            before={
                "user": username, "group": group.name if group else None, "role": member.role,
                "tokens": member.tokens.count(),  # removed with it
            },
            organization_id=member.organization_id,
        )
        member.delete()
    return True


def invite_path(*, member: Member) -> str | None:
    """A one-time link (a path) for a person without a password to set one, valid
    PASSWORD_RESET_TIMEOUT (Django's password-reset tokens: used or outdated once the
    password changes); None when the person has a password already."""
    user = member.user
    if user.has_usable_password():
        return None
    return f"/set-password/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"
