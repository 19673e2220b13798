"""Errors clients may see. Everything else is masked as "Unexpected error." (and logged)."""

from graphql.error import GraphQLError

from monitoring.access import Access
from monitoring.reports import ReportInputError


class UserError(Exception):
    """A request the client can fix; its message is shown as is."""


SAFE_ERRORS = (UserError, ReportInputError)


def should_mask_error(error: GraphQLError) -> bool:
    original = error.original_error
    if original is None:  # syntax, validation and limit errors from graphql-core itself
        return False
    return not isinstance(original, SAFE_ERRORS)


def request_access(info) -> "Access":
    """The caller's Access, set by monitoring.middleware.ApiAccessMiddleware."""
    return info.context.request.access
