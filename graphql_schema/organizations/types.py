"""GraphQL types of organizations (docs/rules.md §12): API tokens, the audit log."""

import enum
import json
from datetime import datetime

import strawberry
from django.db.models import QuerySet

from graphql_schema.common.pagination import KeysetPageInfo
from graphql_schema.common.payloads import UserErrorType, user_errors_field
from monitoring.audit.models import AuditEntry
from monitoring.models import ApiToken
from monitoring.organizations import roles


@strawberry.enum(description="What a member or token may do (docs/rules.md §12); each role includes the one before it.")
class Role(enum.Enum):
    VIEWER = strawberry.enum_value(roles.VIEWER, description="Reads stores, polls and reports.")
    OPERATOR = strawberry.enum_value(
        roles.OPERATOR, description="A viewer who also edits special hours and revenue, writes polls and runs reports."
    )
    ADMIN = strawberry.enum_value(
        roles.ADMIN, description="An operator who also manages members, groups, tokens, webhooks and schedules."
    )


@strawberry.enum(description="What a token is for; it needs the scope of an operation as well as the role.")
class Scope(enum.Enum):
    READ = strawberry.enum_value(roles.READ, description="Read stores, polls and reports.")
    REPORTS = strawberry.enum_value(roles.REPORTS, description="Read and run reports.")
    POLLS_WRITE = strawberry.enum_value(roles.POLLS_WRITE, description="Write polls (recordPolls).")
    ADMIN = strawberry.enum_value(
        roles.ADMIN_SCOPE,
        description="Make the changes the role allows: special hours, revenue, members, tokens, webhooks, schedules.",
    )


@strawberry.type(name="ApiToken", description="An API token; its secret is shown only when it is made.")
class ApiTokenType:
    id: strawberry.ID = strawberry.field(description="The token's id (for revokeApiToken).")
    name: str = strawberry.field(description="What it is for.")
    prefix: str = strawberry.field(description="Its first characters, to recognise it.")
    role: Role = strawberry.field(description="Its role (a member's token: never more than the member's).")
    scopes: list[Scope] = strawberry.field(description="Its scopes.")
    group: str | None = strawberry.field(description="The group its role is held on; null: the whole organization.")
    member: str | None = strawberry.field(description="The member (username) it belongs to; null: a service token.")
    created_at: datetime = strawberry.field(description="When it was made.")
    last_used_at: datetime | None = strawberry.field(description="Its last use (to the minute); null: never used.")
    expires_at: datetime | None = strawberry.field(description="When it stops working; null: never.")
    revoked_at: datetime | None = strawberry.field(description="When it was revoked; null: it works.")

    @classmethod
    def of(cls, token: ApiToken) -> "ApiTokenType":
        return cls(
            id=strawberry.ID(str(token.pk)),
            name=token.name,
            prefix=token.key_prefix,
            role=Role(token.role),
            scopes=[Scope(scope) for scope in roles.SCOPES if scope in token.scopes],
            group=token.group.name if token.group_id else None,
            member=token.member.user.get_username() if token.member_id else None,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
            expires_at=token.expires_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type(description="What `createApiToken` answers.")
class CreateApiTokenPayload:
    token: ApiTokenType | None = strawberry.field(description="The token; null when refused.")
    secret: str | None = strawberry.field(
        description="The token itself (`Authorization: Bearer <secret>`), shown this once; null when refused."
    )
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")


@strawberry.type(description="What `revokeApiToken` answers.")
class RevokeApiTokenPayload:
    token: ApiTokenType | None = strawberry.field(description="The token, revoked; null when there is no such token.")
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")


@strawberry.type(name="Member", description="A person's role in the organization, or in one group of it.")
class MemberType:
    id: strawberry.ID = strawberry.field(description="The membership's id (stable: one person's role on the organization or a group).")
    username: str = strawberry.field(description="The person's username.")
    role: Role = strawberry.field(description="The role.")
    group: str | None = strawberry.field(description="The group the role is held on; null: the whole organization.")

    @classmethod
    def of(cls, member) -> "MemberType":
        return cls(
            id=strawberry.ID(str(member.pk)), username=member.user.get_username(), role=Role(member.role), group=member.group.name if member.group_id else None
        )


@strawberry.type(description="What `setMember` answers.")
class SetMemberPayload:
    member: MemberType | None = strawberry.field(description="The member as it now is; null when refused.")
    invite_link: str | None = strawberry.field(
        description=(
            "For a person without a password: the path of a one-time link to set one (/set-password/…), to send them;"
            " null when they have a password."
        )
    )
    invite_emailed_to: str | None = strawberry.field(
        default=None,
        description="The address the one-time link is being emailed to (given as `email`); null when none is sent.",
    )
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")


@strawberry.type(description="What `removeMember` answers.")
class RemoveMemberPayload:
    removed: bool = strawberry.field(description="True if the member held that role (now removed, with its tokens).")
    user_errors: list[UserErrorType] = user_errors_field(description="Why the request was refused; empty when done.")


@strawberry.type(name="AuditEntry", description="One change: who made it, when, and the values before and after.")
class AuditEntryType:
    id: strawberry.ID = strawberry.field(description="The entry's id (stable; entries are never changed).")
    at: datetime = strawberry.field(description="When.")
    actor: str = strawberry.field(
        description="Who: `token:<id> <name>`, `user:<username>` (the admin) or `command:<name>`."
    )
    action: str = strawberry.field(description="What, e.g. `special_hours.set`, `token.create`, `webhook.delete`.")
    object_type: str = strawberry.field(description="The kind of object changed, e.g. `special_hours`, `token`.")
    object_id: str = strawberry.field(description="Which one, e.g. `<store id> <date>` for special hours.")
    before: str | None = strawberry.field(description="Its values before, as JSON text; null: it did not exist.")
    after: str | None = strawberry.field(description="Its values after, as JSON text; null: it no longer exists.")

    @classmethod
    def of(cls, entry: AuditEntry) -> "AuditEntryType":
        def text(value):
            return None if value is None else json.dumps(value, sort_keys=True)

        return cls(
            id=strawberry.ID(str(entry.pk)), at=entry.at, actor=entry.actor, action=entry.action, object_type=entry.object_type,
            object_id=entry.object_id, before=text(entry.before), after=text(entry.after),
        )


@strawberry.type(description="One keyset page of the audit log, newest first.")
class AuditEntryConnection:
    nodes: list[AuditEntryType] = strawberry.field(description="The entries of this page, newest first.")
    page_info: KeysetPageInfo = strawberry.field(description="The cursor of the next page and whether there is one.")
    edges: list["AuditEntryEdge"] = strawberry.field(description="The entries of this page with their cursors (as `nodes`).")
    #: The entries the filters select, every page together (what totalCount counts).
    _rows: strawberry.Private[QuerySet]

    @strawberry.field(
        description="How many entries the whole log holds with these filters, every page together (a count, run only when asked)."
    )
    def total_count(self) -> int:
        return self._rows.count()


@strawberry.type(description="An audit entry and its cursor.")
class AuditEntryEdge:
    cursor: str = strawberry.field(description="Pass as `after` for the entries after this one.")
    node: AuditEntryType = strawberry.field(description="The entry.")
