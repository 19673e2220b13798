"""Errors clients may see. Everything else is masked as "Unexpected error." (and logged).

A refused value (monitoring.ingest.values.InvalidValue), a report request that cannot
be computed (ReportInputError) and a UserError are the client's to fix: their message is
shown, with the snake_case names of the shared grammar and of monitoring.reports
rewritten to the GraphQL argument names the client wrote (`as_of` → `asOf`).

In the server log (`Schema.process_errors`), an error the client can fix is one line
(logger `strawberry.execution`, WARNING): where, what, no traceback; anything else
keeps strawberry's ERROR with the traceback."""

import re

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.utils.logging import StrawberryLogger

from monitoring.access import Access
from monitoring.ingest.values import InvalidValue
from monitoring.reports import ReportInputError


class UserError(Exception):
    """A request the client can fix; its message is shown as is."""


SAFE_ERRORS = (UserError, ReportInputError, InvalidValue)

#: Names used by the shared grammar and monitoring.reports → the GraphQL argument names.
GRAPHQL_NAMES = {
    "as_of": "asOf",
    "horizon_minutes": "horizonMinutes",
    "store_ids": "storeIds",
    "store_id": "storeId",
    "timestamp_utc": "timestampUtc",
    "report_id": "id",
}
_LEADING_NAME_RE = re.compile(r"(" + "|".join(sorted(GRAPHQL_NAMES, key=len, reverse=True)) + r")(?=$|[\s\[.:])")
_FIELD_RE = re.compile(r"[\w.\[\]]+")


def _leading_name(text: str) -> str:
    match = _LEADING_NAME_RE.match(text)
    return GRAPHQL_NAMES[match.group(1)] + text[match.end() :] if match else text


def graphql_names(message: str) -> str:
    """`message` with the field it names in GraphQL's spelling. Only the name a message
    starts with is rewritten, and the one starting the reason of a "field: reason"
    message: the values a message quotes (store ids, refused text) never are."""
    head, separator, rest = message.partition(": ")
    if separator and _FIELD_RE.fullmatch(head):
        return _leading_name(head) + separator + _leading_name(rest)
    return _leading_name(message)


def original_error(error: GraphQLError) -> Exception | None:
    """The exception behind `error`, through graphql-core's own wrapping (a variable's
    coercion error wraps the scalar's GraphQLError, which may wrap nothing)."""
    original = error.original_error
    while isinstance(original, GraphQLError):
        original = original.original_error
    return original


def should_mask_error(error: GraphQLError) -> bool:
    original = original_error(error)
    if original is None:  # syntax, validation, coercion and limit errors of graphql-core
        return False
    return not isinstance(original, SAFE_ERRORS)


class ClientErrors(MaskErrors):
    """MaskErrors, and the messages of errors the client can fix in GraphQL's names."""

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed: list[GraphQLError] = []
        for error in errors:
            if self.should_mask_error(error):
                processed.append(self.anonymise_error(error))
                continue
            if isinstance(original_error(error), SAFE_ERRORS):
                message = graphql_names(error.message)
                if message != error.message:
                    error = GraphQLError(
                        message,
                        nodes=error.nodes,
                        source=error.source,
                        positions=error.positions,
                        path=error.path,
                        original_error=error.original_error,
                        extensions=error.extensions,
                    )
            processed.append(error)
        return processed


#: Longest client-error message written to the log (a refused value can be long).
LOGGED_MESSAGE_CHARS = 300


def one_line(error: GraphQLError) -> str:
    """A client's error as one log line: `GraphQL error at store.uptime [CODE]: message`
    (at the field's path, else at the document's line:column)."""
    if error.path:
        where = ".".join(str(part) for part in error.path)
    elif error.locations:
        where = f"line {error.locations[0].line}:{error.locations[0].column}"
    else:
        where = "the request"
    code = (error.extensions or {}).get("code")
    message = error.message.replace("\r", "\\r").replace("\n", "\\n")
    if len(message) > LOGGED_MESSAGE_CHARS:
        message = message[:LOGGED_MESSAGE_CHARS] + "…"
    return f"GraphQL error at {where}{f' [{code}]' if code else ''}: {message}"


class Schema(strawberry.Schema):
    """strawberry.Schema whose log tells client errors from server errors: an error the
    client can fix (graphql-core's syntax, validation and coercion errors, the limits,
    UserError, InvalidValue, ReportInputError) is logged in one line, without a
    traceback; an unexpected one (masked as "Unexpected error." in the response) is
    logged by strawberry, with its traceback."""

    def process_errors(self, errors, execution_context=None) -> None:
        for error in errors:
            if should_mask_error(error):
                StrawberryLogger.error(error, execution_context)
            else:
                StrawberryLogger.logger.warning(one_line(error))


def request_access(info) -> "Access":
    """The caller's Access, set by monitoring.middleware.ApiAccessMiddleware."""
    return info.context.request.access
