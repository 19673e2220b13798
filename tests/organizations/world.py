"""Two organizations, each with a group, and tokens for every role on each reach
(organization-wide, group), plus single-scope ADMIN tokens: the callers of the role and
tenancy tests."""

from dataclasses import dataclass

from monitoring.models import Owner, Report
from monitoring.organizations.roles import ADMIN, OPERATOR, ROLES, SCOPES, VIEWER
from monitoring.organizations.services import group_get_or_create, member_set, stores_place, token_issue

from tests.factories import worked_example_store


@dataclass(frozen=True)
class Caller:
    organization: str
    role: str
    group: str | None  # None: organization-wide
    scopes: tuple[str, ...]
    token: str

    @property
    def label(self) -> str:
        reach = f"group {self.group}" if self.group else "organization"
        return f"{self.role} of {self.organization} ({reach}; {','.join(self.scopes)})"


#: organization → (its stores, its group's name, the stores in that group)
LAYOUT = {"north": (["n1", "n2"], "east", ["n1"]), "south": (["s1", "s2"], "west", ["s1"])}


def build_world() -> dict:
    callers: list[Caller] = []
    reports = {}
    for name, (store_ids, group_name, group_stores) in LAYOUT.items():
        organization = Owner.objects.create(name=name)
        for store_id in store_ids:
            worked_example_store(store_id)
        stores_place(organization=organization, store_ids=store_ids, actor="test")
        group = group_get_or_create(organization=organization, name=group_name, actor="test")
        stores_place(organization=organization, store_ids=group_stores, group=group, actor="test")
        for role in ROLES:
            for where in (None, group):
                member = member_set(
                    username=f"{name}-{role.lower()}-{'org' if where is None else 'group'}",
                    organization=organization, group=where, role=role, actor="test",
                )
                _, raw = token_issue(actor="test", name="matrix", member=member)
                callers.append(Caller(name, role, where.name if where else None, tuple(SCOPES), raw))
        for scope in SCOPES:  # an organization-wide service token with one scope
            _, raw = token_issue(actor="test", name=f"only-{scope}", owner=organization, role=ADMIN, scopes={scope})
            callers.append(Caller(name, ADMIN, None, (scope,), raw))
        # One report of the group's stores and one of the whole organization.
        reports[name] = {
            "group": Report.objects.create(owner=organization, store_ids=group_stores),
            "organization": Report.objects.create(owner=organization, store_ids=None),
        }
    return {"callers": callers, "reports": reports}


# SPEC §12 in its own words, the reference the implementation is held to: what each role
# adds, which scope each operation needs, and what a role held on a group cannot do.
ROLE_ADDS = {
    VIEWER: {"read store", "read report"},
    OPERATOR: {"trigger report", "edit special hours", "acknowledge", "write polls"},
    ADMIN: {"manage tokens", "manage members", "webhooks", "schedules", "audit log"},
}
SCOPE_NEEDED = {
    "read store": {"read"},
    "read report": {"read", "reports"},
    "trigger report": {"reports"},
    "edit special hours": {"admin"},
    "acknowledge": {"admin"},
    "write polls": {"polls:write"},
    "manage tokens": {"admin"},
    "manage members": {"admin"},
    "webhooks": {"admin"},
    "schedules": {"admin"},
    "audit log": {"admin"},
}
ORGANIZATION_WIDE_ONLY = {"webhooks", "schedules", "audit log"}


def expected(caller: Caller, operation: str) -> bool:
    allowed_by_role = set()
    for role in ROLES[: ROLES.index(caller.role) + 1]:
        allowed_by_role |= ROLE_ADDS[role]
    return (
        operation in allowed_by_role
        and bool(SCOPE_NEEDED[operation] & set(caller.scopes))
        and not (caller.group is not None and operation in ORGANIZATION_WIDE_ONLY)
    )
