"""`auditLog`, `apiTokens`, `createApiToken` and `revokeApiToken` (docs/rules.md §12):
an organization's admins (organization-wide for the log) and staff."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_schema.common.arguments import as_of_argument
from graphql_schema.common.fields import priced
from graphql_schema.common.pagination import KeysetPageInfo, bad_cursor, cursor_decode, cursor_encode, keyset_first
from graphql_schema.common.payloads import REFUSALS, refused
from graphql_schema.common.permissions import permitted_access
from graphql_schema.limits.rate_limits import rate_limit
from graphql_schema.organizations.types import (
    ApiTokenType,
    AuditEntryConnection,
    AuditEntryEdge,
    AuditEntryType,
    CreateApiTokenPayload,
    MemberType,
    RemoveMemberPayload,
    RevokeApiTokenPayload,
    SetMemberPayload,
    Role,
    Scope,
)
from monitoring.audit import audit_entries_visible
from monitoring.kernel.values import InvalidValue
from monitoring.organizations.invites import member_set_and_invited_for
from monitoring.organizations.services import (
    invite_path,
    member_remove_for,
    members_visible,
    token_create_for,
    token_revoke,
    tokens_visible,
)

MAX_TOKENS_LISTED = 500
MAX_MEMBERS_LISTED = 500


@strawberry.type
class Query:
    @strawberry.field(
        description=(
            "The audit log, newest first, by keyset page: an organization's admins (organization-wide) read their"
            " organization's, staff all of it. Pass pageInfo.endCursor as `after` for the next page. Null, with an error naming the argument, when an argument is refused (or the caller may not read it)."
        )
    )
    def audit_log(
        self,
        info: Info,
        first: Annotated[int | None, strawberry.argument(description="Page size, a count of entries: 0–500, default 100.")] = None,
        after: Annotated[str | None, strawberry.argument(description="The endCursor of the previous page.")] = None,
        actor: Annotated[str | None, strawberry.argument(description="Only entries by this actor (exactly).")] = None,
        object_type: Annotated[str | None, strawberry.argument(description="Only entries about this kind of object.")] = None,
        object_id: Annotated[str | None, strawberry.argument(description="Only entries about this object.")] = None,
        since: Annotated[datetime | None, strawberry.argument(description="Only entries at or after this instant.")] = None,
    ) -> AuditEntryConnection | None:
        access = permitted_access(info, "audit.read")
        size = keyset_first(first)
        entries = audit_entries_visible(organization_id=access.owner_id, everything=access.all_stores).order_by("-id")
        if actor is not None:
            entries = entries.filter(actor=actor)
        if object_type is not None:
            entries = entries.filter(object_type=object_type)
        if object_id is not None:
            entries = entries.filter(object_id=object_id)
        if since is not None:
            entries = entries.filter(at__gte=as_of_argument(since, name="since"))
        selected = entries
        if after is not None:
            key = cursor_decode(after)
            if not key.isdigit():
                raise bad_cursor("after")
            entries = entries.filter(id__lt=int(key))
        rows = list(entries[: size + 1])
        page = rows[:size]
        nodes = [AuditEntryType.of(entry) for entry in page]
        return AuditEntryConnection(
            nodes=nodes,
            page_info=KeysetPageInfo(
                end_cursor=cursor_encode(str(page[-1].pk)) if page else None, has_next_page=len(rows) > size
            ),
            edges=[AuditEntryEdge(cursor=cursor_encode(str(entry.pk)), node=node) for entry, node in zip(page, nodes)],
            _rows=selected,
        )

    @strawberry.field(
        description="The API tokens an admin manages (its organization's; a group's admin: its group's), newest first.",
        metadata=priced(max_items=MAX_TOKENS_LISTED),
    )
    def api_tokens(self, info: Info) -> list[ApiTokenType]:
        access = permitted_access(info, "tokens.manage")
        return [ApiTokenType.of(token) for token in tokens_visible(access=access).order_by("-created_at")[:MAX_TOKENS_LISTED]]

    @strawberry.field(
        description="The members an admin manages (its organization's; a group's admin: its group's), by username.",
        metadata=priced(max_items=MAX_MEMBERS_LISTED),
    )
    def members(self, info: Info) -> list[MemberType]:
        access = permitted_access(info, "members.manage")
        members = members_visible(access=access).order_by("user__username", "group__name")[:MAX_MEMBERS_LISTED]
        return [MemberType.of(member) for member in members]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description=(
            "Makes a service token of the caller's organization (a group's admin: of its group) with at most the"
            " caller's role. The secret is returned this once; only its hash is kept. Input refused: `userErrors`."
        )
    )
    def create_api_token(
        self,
        info: Info,
        name: Annotated[str, strawberry.argument(description="What it is for, e.g. 'poller'.")],
        role: Annotated[Role, strawberry.argument(description="Its role; at most the caller's.")],
        scopes: Annotated[list[Scope], strawberry.argument(description="Its scopes (at least one).")],
        expires_at: Annotated[
            datetime | None, strawberry.argument(description="When it stops working; null: never.")
        ] = None,
    ) -> CreateApiTokenPayload:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "tokens.manage")
            if not name.strip() or len(name) > 200:
                raise InvalidValue("name", "1 to 200 characters, not only spaces")
            if not scopes:
                raise InvalidValue("scopes", "at least one scope")
            token, secret = token_create_for(
                access=access, name=name.strip(), role=role.value, scopes={scope.value for scope in scopes},
                expires_at=as_of_argument(expires_at, name="expiresAt"),
            )
        except REFUSALS as error:
            return CreateApiTokenPayload(token=None, secret=None, user_errors=refused(info, error))
        return CreateApiTokenPayload(token=ApiTokenType.of(token), secret=secret, user_errors=[])

    @strawberry.mutation(
        description=(
            "Gives a person (made where missing, without a password) a role on the caller's organization, or on one"
            " group of it (a group's admin: its own group only); at most the caller's role. Input refused: `userErrors`."
        )
    )
    def set_member(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="The person's username.")],
        role: Annotated[Role, strawberry.argument(description="The role; at most the caller's.")],
        group: Annotated[
            str | None, strawberry.argument(description="The group the role is held on; null: the whole organization.")
        ] = None,
        email: Annotated[
            str | None,
            strawberry.argument(
                description="The person's email address: a person without a password is emailed the one-time link."
            ),
        ] = None,
    ) -> SetMemberPayload:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "members.manage")
            member, invited = member_set_and_invited_for(
                access=access, username=username, role=role.value, group_name=group, email=email
            )
        except REFUSALS as error:
            return SetMemberPayload(member=None, invite_link=None, user_errors=refused(info, error))
        return SetMemberPayload(
            member=MemberType.of(member), invite_link=invite_path(member=member),
            invite_emailed_to=email if invited else None, user_errors=[],
        )

    @strawberry.mutation(description="Removes a person's role (on the organization, or on `group`) and its tokens.")
    def remove_member(
        self,
        info: Info,
        username: Annotated[str, strawberry.argument(description="The person's username.")],
        group: Annotated[
            str | None, strawberry.argument(description="The group the role is held on; null: the whole organization.")
        ] = None,
    ) -> RemoveMemberPayload:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "members.manage")
            removed = member_remove_for(access=access, username=username, group_name=group)
        except REFUSALS as error:
            return RemoveMemberPayload(removed=False, user_errors=refused(info, error))
        return RemoveMemberPayload(removed=removed, user_errors=[])

    @strawberry.mutation(description="Revokes a token the caller manages: it is refused from its next request.")
    def revoke_api_token(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The token's id.")]
    ) -> RevokeApiTokenPayload:
        rate_limit(info, scope="writes")
        try:
            access = permitted_access(info, "tokens.manage")
            token = token_revoke(access=access, token_id=int(id)) if str(id).isdigit() else None
        except REFUSALS as error:
            return RevokeApiTokenPayload(token=None, user_errors=refused(info, error))
        return RevokeApiTokenPayload(token=None if token is None else ApiTokenType.of(token), user_errors=[])
