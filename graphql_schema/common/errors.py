"""Errors as part of the API's contract (docs/api.md, "Errors").

Every error a client sees carries `extensions.code`, one of ErrorCode: NOT_FOUND,
INVALID_ARGUMENT, UNAUTHENTICATED, FORBIDDEN, TOO_COSTLY, RATE_LIMITED, INTERNAL. An
error about an argument also carries `extensions.argument`, the argument's path in the
schema's own spelling (`asOf`, `filters.ids[1]`, `polls[3].timestampUtc`), and a
variable's refusal `extensions.variable`. Everything not meant for the client is masked
as "Unexpected error." (code INTERNAL) and logged with its traceback.

A service's refusal (monitoring.kernel.errors.InputError: a value the grammar refuses,
InvalidValue; a report request that cannot be computed, ReportInputError) and a UserError
are the client's to fix. A UserError is written by this API and shown as is. A service's
refusal carries its `code`, its `field` (the service's name) and a `reason`: the API
names the argument the field came from (`argument_name`) and writes
`"{argument}: {reason}"`, or the reason alone when it concerns the request as a whole.
The text of a service's message is never read.

In the server log (`Schema.process_errors`), an error the client can fix is one line
(logger `strawberry.execution`, WARNING): where, code, what, no traceback; anything else
keeps strawberry's ERROR with the traceback."""

import enum
import re

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    ExecutableDefinitionNode,
    FieldNode,
    ListValueNode,
    Node,
    ObjectValueNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.utils.logging import StrawberryLogger

from monitoring.stores.access import Access
from monitoring.kernel.errors import InputError


@strawberry.enum(description="What went wrong, in `extensions.code` of every error and in `userErrors { code }`.")
class ErrorCode(enum.Enum):
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="No such object, or one the caller may not see (the two are not told apart)."
    )
    INVALID_ARGUMENT = strawberry.enum_value(
        "INVALID_ARGUMENT",
        description="An argument, variable or document the server refuses; `extensions.argument` names the argument.",
    )
    UNAUTHENTICATED = strawberry.enum_value(
        "UNAUTHENTICATED", description="A wrong, revoked or (when anonymous access is off) missing API token (HTTP 401)."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN",
        description=(
            "A cross-site request riding a browser session (HTTP 403), or an operation the caller's role or token scopes"
            " do not allow: the message names the role or scope missing."
        ),
    )
    TOO_COSTLY = strawberry.enum_value(
        "TOO_COSTLY",
        description="The query is priced above the limit, too deep, has too many aliases or tokens, or its response is too large.",
    )
    RATE_LIMITED = strawberry.enum_value(
        "RATE_LIMITED", description="Over the caller's rate limit; `extensions.retryAfter` says how many seconds to wait."
    )
    INTERNAL = strawberry.enum_value(
        "INTERNAL", description='A fault of the server, masked as "Unexpected error." and logged.'
    )


class UserError(Exception):
    """A request the client can fix; its message is shown as is, with `code` and the
    `argument` at fault (GraphQL spelling) in the error's extensions."""

    code = ErrorCode.INVALID_ARGUMENT

    def __init__(self, message: str, *, argument: str | None = None, code: ErrorCode | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.argument = argument
        # graphql-core copies an exception's `extensions` onto the error it reports.
        self.extensions = {"code": self.code.value, **({"argument": argument} if argument else {})}


class NotFound(UserError):
    """An object looked up by id that does not exist or that the caller may not see."""

    code = ErrorCode.NOT_FOUND


SAFE_ERRORS = (UserError, InputError)  # InputError: InvalidValue and ReportInputError too

#: A service's name of an input a resolver hands it as the client sent it → the GraphQL
#: argument it came from. Arguments read by graphql_schema.common.arguments already carry
#: their GraphQL name (`filters.ids[2]`, `asOf`) and are not listed.
ARGUMENT_NAMES = {
    "as_of": "asOf",
    "horizon_minutes": "horizonMinutes",
    "store_ids": "storeIds",
    "store_id": "storeId",
    "timestamp_utc": "timestampUtc",
    "report_id": "id",
    "confirm_polls": "confirmPolls",
    "escalate_after_minutes": "escalateAfterMinutes",
    "remind_every_minutes": "remindEveryMinutes",
    "max_reminders": "maxReminders",
    "quiet_before_close_minutes": "quietBeforeCloseMinutes",
    "expires_at": "expiresAt",
}
#: A field's path: its leading name, then the indexes and members below it (`store_ids[2]`).
_FIELD_PATH_RE = re.compile(r"(\w+)(.*)", re.DOTALL)


def argument_name(field: str | None) -> str | None:
    """The GraphQL argument (path) a service's `field` came from: `store_ids[2]` →
    `storeIds[2]`, `filters.ids[1]` as it is; None for the request as a whole."""
    if not field:
        return None
    path = _FIELD_PATH_RE.fullmatch(field)
    if path is None:
        return field
    return ARGUMENT_NAMES.get(path.group(1), path.group(1)) + path.group(2)


def input_error_parts(error: InputError) -> tuple[str | None, str]:
    """(argument, message) of a service's refusal: the message is composed from its
    attributes (`asOf: must be in the years 2000–2100, …`), never from its text."""
    argument = argument_name(error.field)
    return argument, (f"{argument}: {error.reason}" if argument else error.reason)


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


# --------------------------------------------------------------------------- graphql-core's own errors

_VARIABLE_RE = re.compile(r"^Variable '\$(\w+)'")
_VARIABLE_PATH_RE = re.compile(r"^Variable '\$\w+' has invalid value at ((?:\[\d+\]|\.\w+)+):")
#: graphql-core's refusals of a document for its size (MaxTokensLimiter, the depth and
#: alias rules): as costly as a priced query, whatever the document says.
_LIMIT_RE = re.compile(
    r"^(?:'.*' exceeds maximum operation depth of \d+|\d+ aliases found\. Allowed: \d+"
    r"|(?:Syntax Error: )?Document contains more than \d+ tokens\.)"
)


def _value_paths(value: Node, path: str):
    """(node, path) for a value node and every value inside it."""
    yield value, path
    if isinstance(value, ObjectValueNode):
        for member in value.fields:
            yield from _value_paths(member.value, f"{path}.{member.name.value}")
    elif isinstance(value, ListValueNode):
        for index, item in enumerate(value.values):
            yield from _value_paths(item, f"{path}[{index}]")


def _arguments(selection_set: SelectionSetNode | None):
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            yield from selection.arguments or ()
        yield from _arguments(getattr(selection, "selection_set", None))


def _argument_path(document: DocumentNode | None, matches) -> str | None:
    """The path (`filters.ids[1]`) of the first argument value in `document` for which
    `matches(node)` holds."""
    for definition in document.definitions if document else ():
        if not isinstance(definition, ExecutableDefinitionNode):
            continue
        argument: ArgumentNode
        for argument in _arguments(definition.selection_set):
            for node, path in _value_paths(argument.value, argument.name.value):
                if matches(node):
                    return path
    return None


def _document_error_extensions(error: GraphQLError, document: DocumentNode | None) -> tuple[dict, str | None]:
    """(extensions, argument prefix for the message or None) of an error of graphql-core's
    own: a variable refused, an argument literal refused, a document refused."""
    if _LIMIT_RE.search(error.message):
        return {"code": ErrorCode.TOO_COSTLY.value}, None
    extensions = {"code": ErrorCode.INVALID_ARGUMENT.value}
    variable = _VARIABLE_RE.match(error.message)
    if variable:
        name = variable.group(1)
        extensions["variable"] = name
        used = _argument_path(document, lambda node: isinstance(node, VariableNode) and node.name.value == name)
        if used is not None:
            inner = _VARIABLE_PATH_RE.match(error.message)  # "… has invalid value at [1].timestampUtc: …"
            extensions["argument"] = used + (inner.group(1) if inner else "")
        return extensions, None
    nodes = error.nodes or ()
    targets = {id(node) for node in nodes}
    argument = _argument_path(document, lambda node: id(node) in targets) if targets else None
    if argument is not None:
        extensions["argument"] = argument
        return extensions, argument
    return extensions, None


def _with(error: GraphQLError, *, message: str | None = None, extensions: dict) -> GraphQLError:
    return GraphQLError(
        error.message if message is None else message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=extensions,
    )


def document_of(execution_context) -> DocumentNode | None:
    try:
        return execution_context.graphql_document if execution_context is not None else None
    except Exception:  # not parsed (a syntax error): there is no argument to name
        return None


def client_error(error: GraphQLError, document: DocumentNode | None) -> GraphQLError:
    """`error` (one the client can fix) with its code and argument; a service's refusal
    with its message composed in GraphQL's names."""
    original = original_error(error)
    extensions = dict(error.extensions or {})
    message = error.message
    if isinstance(original, InputError):
        argument, message = input_error_parts(original)
        if argument:
            extensions.setdefault("argument", argument)
        extensions.setdefault("code", ErrorCode(original.code).value)
    elif isinstance(original, UserError):
        extensions.setdefault("code", original.code.value)
    elif "code" not in extensions:
        found, argument = _document_error_extensions(error, document)
        extensions.update(found)
        if argument is not None and not message.startswith(f"{argument}:"):
            message = f"{argument}: {message}"
    return _with(error, message=message, extensions=extensions)


class ClientErrors(MaskErrors):
    """MaskErrors (code INTERNAL), every other error with its code and argument, and the
    messages of services' refusals composed in GraphQL's names."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ErrorCode.INTERNAL.value}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        document = document_of(getattr(self, "execution_context", None))
        return [
            self.anonymise_error(error) if self.should_mask_error(error) else client_error(error, document)
            for error in errors
        ]


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
    # graphql-core quotes some refused input raw (an unknown input field's name): a lone
    # surrogate would make the line unwritable as UTF-8.
    message = message.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(message) > LOGGED_MESSAGE_CHARS:
        message = message[:LOGGED_MESSAGE_CHARS] + "…"
    return f"GraphQL error at {where}{f' [{code}]' if code else ''}: {message}"


class Schema(strawberry.Schema):
    """strawberry.Schema whose log tells client errors from server errors: an error the
    client can fix (graphql-core's syntax, validation and coercion errors, the limits,
    UserError, InputError) is logged in one line, without a
    traceback; an unexpected one (masked as "Unexpected error." in the response) is
    logged by strawberry, with its traceback."""

    def process_errors(self, errors, execution_context=None) -> None:
        for error in errors:
            if should_mask_error(error):
                StrawberryLogger.error(error, execution_context)
            else:
                coded = client_error(error, document_of(execution_context))
                if original_error(error) is None and "code" not in (error.extensions or {}):
                    # graphql-core's own errors are coded in place: a syntax error (the token
                    # limit's included) is answered without ClientErrors ever seeing it.
                    error.message, error.extensions = coded.message, coded.extensions
                StrawberryLogger.logger.warning(one_line(coded))


def request_access(info) -> "Access":
    """The caller's Access, set by monitoring.web.middleware.ApiAccessMiddleware."""
    return info.context.request.access
