"""`userErrors { field message code }`: how a mutation reports input it refuses, in its
result (Shopify's Admin API), so a client reads them where it reads the result.

A client that did not select `userErrors` (docs/rules.md §6's `triggerReport { id status }`) would
otherwise see nothing but nulls: the refusal is then also a top-level error, with the
same code and argument."""

import strawberry
from strawberry.types import Info

from graphql_schema.common.fields import priced, selects
from graphql_schema.common.errors import ErrorCode, UserError, input_error_parts
from monitoring.kernel.errors import InputError

USER_ERRORS_FIELD = "userErrors"


@strawberry.type(name="UserError", description="Input a mutation refused: nothing was changed.")
class UserErrorType:
    field: str | None = strawberry.field(
        description="The argument at fault, as the schema spells it (`asOf`, `storeIds[1]`); null for the whole request."
    )
    message: str = strawberry.field(description="What was wrong and how to fix it.")
    code: ErrorCode = strawberry.field(description="INVALID_ARGUMENT or NOT_FOUND.")


#: The end of the description of a field that takes arguments and is nullable for that
#: reason: an argument refused nulls the field (and only it), with an error at its path.
NULL_WHEN_REFUSED = " Null, with an error naming the argument, when an argument is refused."


def user_errors_field(*, description: str):
    """A payload's `userErrors`: a request is refused for one reason, so it prices as one item."""
    return strawberry.field(description=description, metadata=priced(max_items=1))


def user_error(error: UserError | InputError) -> UserErrorType:
    """The userError of a refusal the client can fix: a UserError as written, a
    service's refusal (InvalidValue, ReportInputError…) composed from its attributes."""
    if isinstance(error, UserError):
        return UserErrorType(field=error.argument, message=str(error), code=error.code)
    argument, message = input_error_parts(error)
    return UserErrorType(field=argument, message=message, code=ErrorCode(error.code))


REFUSALS = (UserError, InputError)


def selects_user_errors(info: Info) -> bool:
    return any(selects(field.selections, USER_ERRORS_FIELD) for field in info.selected_fields)


def refused(info: Info, error: Exception) -> list[UserErrorType]:
    """[userError] of `error`, raising it as a top-level error too when the client did
    not select userErrors."""
    if not selects_user_errors(info):
        raise error
    return [user_error(error)]
