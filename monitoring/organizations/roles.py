"""Roles, scopes and the actions they allow (docs/rules.md §12): plain values, no
database. `ACTIONS` is the one table of who may do what; monitoring.stores.access.require
reads it."""

from dataclasses import dataclass

from monitoring.kernel.values import InvalidValue

VIEWER, OPERATOR, ADMIN = "VIEWER", "OPERATOR", "ADMIN"
ROLES = (VIEWER, OPERATOR, ADMIN)  # each role can do what the one before it can, and more
ROLE_CHOICES = [(role, role.title()) for role in ROLES]

READ, REPORTS, POLLS_WRITE, ADMIN_SCOPE = "read", "reports", "polls:write", "admin"
SCOPES = (READ, REPORTS, POLLS_WRITE, ADMIN_SCOPE)
ALL_SCOPES = frozenset(SCOPES)


def role_rank(role: str) -> int:
    return ROLES.index(role)


def lower_role(first: str, second: str) -> str:
    """The lesser of two roles: a token never does more than its member."""
    return first if role_rank(first) <= role_rank(second) else second


@dataclass(frozen=True)
class Rule:
    role: str  # the least role that may
    scopes: frozenset[str]  # a token needs one of these
    doing: str  # for the refusal: "cannot <doing>"
    organization_wide: bool = False  # refused to a role held on a group only


def _rule(doing: str, role: str, *scopes: str, organization_wide: bool = False) -> Rule:
    return Rule(role=role, scopes=frozenset(scopes), doing=doing, organization_wide=organization_wide)


ACTIONS = {
    "store.read": _rule("read stores", VIEWER, READ),
    "report.read": _rule("read reports", VIEWER, READ, REPORTS),
    "report.trigger": _rule("run reports", OPERATOR, REPORTS),
    "special_hours.edit": _rule("edit special hours", OPERATOR, ADMIN_SCOPE),
    "revenue.edit": _rule("edit revenue", OPERATOR, ADMIN_SCOPE),
    "incident.acknowledge": _rule("acknowledge incidents", OPERATOR, ADMIN_SCOPE),
    "polls.write": _rule("write polls", OPERATOR, POLLS_WRITE),
    "tokens.manage": _rule("manage tokens", ADMIN, ADMIN_SCOPE),
    "members.manage": _rule("manage members", ADMIN, ADMIN_SCOPE),
    # Organization-level objects: a webhook hears of, and a schedule reports on, every
    # store of the organization, so a role held on a group does not reach them.
    "groups.manage": _rule("manage groups", ADMIN, ADMIN_SCOPE, organization_wide=True),
    "webhooks.manage": _rule("manage webhooks", ADMIN, ADMIN_SCOPE, organization_wide=True),
    "schedules.manage": _rule("manage report schedules", ADMIN, ADMIN_SCOPE, organization_wide=True),
    "escalation.manage": _rule("set the escalation policy", ADMIN, ADMIN_SCOPE, organization_wide=True),
    "audit.read": _rule("read the audit log", ADMIN, ADMIN_SCOPE, organization_wide=True),
}


def parse_scopes(text: str, *, field: str = "scopes") -> frozenset[str]:
    """`read,reports` → the scopes; an unknown one is refused, naming it."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise InvalidValue(field, f"at least one scope is needed, of {', '.join(SCOPES)}")
    unknown = [name for name in names if name not in SCOPES]
    if unknown:
        raise InvalidValue(field, f"unknown scope {unknown[0]!r}; the scopes are {', '.join(SCOPES)}")
    return frozenset(names)


def parse_role(text: str, *, field: str = "role") -> str:
    role = text.strip().upper()
    if role not in ROLES:
        raise InvalidValue(field, f"unknown role {text!r}; the roles are {', '.join(ROLES)}")
    return role


def all_scopes() -> list[str]:
    """A token's scopes unless told otherwise (as every token could do before scopes)."""
    return list(SCOPES)
