"""Rate limits in GraphQL (monitoring.throttle.limits): a field over its caller's limit
answers null with an error `extensions: {code: "RATE_LIMITED", retryAfter: <s>}`, and
the HTTP response carries `Retry-After`. HTTP status stays 200: a document may hold
other mutations that did run, whose results a 429 would hide (GraphQL over HTTP answers
200 for an executed request; GitHub's and Shopify's APIs do the same)."""

from strawberry.types import Info

from graphql_schema.common.errors import ErrorCode, UserError
from monitoring.throttle.limits import RateLimited, rate_limit_hit


class RateLimitedError(UserError):
    """Shown to the client as is, with its code and wait (graphql-core copies an
    exception's `extensions` onto the error it reports)."""

    def __init__(self, error: RateLimited) -> None:
        super().__init__(str(error), code=ErrorCode.RATE_LIMITED)
        self.extensions["retryAfter"] = error.retry_after


def rate_limit(info: Info, *, scope: str) -> None:
    """Counts this call against the caller's limit in `scope`, or raises RateLimitedError."""
    try:
        rate_limit_hit(scope=scope, caller=info.context.request.caller)
    except RateLimited as error:
        info.context.response["Retry-After"] = str(error.retry_after)
        raise RateLimitedError(error) from None
