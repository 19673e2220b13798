"""The caller's role and scopes, checked by the resolvers (monitoring.stores.access.require)."""

from monitoring.stores.access import Access, require

from graphql_schema.common.errors import request_access


def permitted_access(info, action: str) -> Access:
    """The caller's Access once it may do `action`; otherwise Forbidden (code FORBIDDEN)."""
    access = request_access(info)
    require(access, action)
    return access
