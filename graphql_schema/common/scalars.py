"""GraphQL scalars read with the shared grammar (docs/rules.md §7, monitoring.kernel.values)."""

from collections.abc import Callable
from datetime import date, datetime, time, timezone
from decimal import Decimal

from graphql import GraphQLError, ValueNode, value_from_ast_untyped
from strawberry.types.scalar import ScalarDefinition

from monitoring.kernel import values
from monitoring.kernel.values import InvalidValue

UTC = timezone.utc


def _grammar_scalar(
    *, origin: type, name: str, description: str, read: Callable[[object], object], write: Callable[[object], str]
) -> ScalarDefinition:
    """A scalar parsed by a function of the grammar. A refusal is a GraphQLError whose
    message is the grammar's reason, which never names a field: graphql-core puts the
    variable before it ("Variable '$asOf' has invalid value: …"), and
    graphql_schema.common.errors the argument of a literal ("asOf: …")."""

    def parse(value: object) -> object:
        try:
            return read(value)
        except InvalidValue as error:
            raise GraphQLError(error.reason) from None

    def parse_literal(node: ValueNode, variables: dict | None = None) -> object:
        # The refusal holds the literal's node: graphql_schema.common.errors names its argument.
        try:
            return read(value_from_ast_untyped(node, variables))
        except InvalidValue as error:
            raise GraphQLError(error.reason, nodes=node) from None

    return ScalarDefinition(
        name=name, description=description, specified_by_url=None, serialize=write,
        parse_value=parse, parse_literal=parse_literal, origin=origin,
    )


#: The API writes instants as the grammar does (RFC 3339 UTC, 6 fractional digits).
rfc3339 = values.instant_text


#: Every `DateTime`: an offset is required on input; a naive text is refused with a
#: message saying how to write one, exactly as on the REST API, the pages and the CLI.
DateTime = _grammar_scalar(
    origin=datetime,
    name="DateTime",
    description=(
        "An instant. Output: RFC 3339 in UTC with exactly 6 fractional digits, e.g. 2023-01-25T18:13:22.000000Z."
        " Input: YYYY-MM-DD[T| ]HH:MM[:SS[.ffffff]] then Z, UTC, GMT or an offset ±HH[:MM]"
        " (2023-01-25T18:13:22Z, 2023-01-25 18:13:22 UTC, 2023-01-25T12:13:22-06:00); a text without an offset is"
        " refused (INVALID_ARGUMENT)."
    ),
    read=lambda value: values.instant(value, field="DateTime"),
    write=rfc3339,
)
#: Every `Date` argument (special hours): a local calendar date, YYYY-MM-DD exactly, in
#: the years 2000–2100 (as a special-hours file's `date` cell); strawberry's own would
#: take 20230312 too.
Date = _grammar_scalar(
    origin=date,
    name="Date",
    description="A local calendar date, YYYY-MM-DD, in the years 2000–2100.",
    read=lambda value: values.local_date(value, field="Date"),
    write=date.isoformat,
)

#: Local wall-clock times of business hours (output only; ShiftInput takes text).
Time = _grammar_scalar(
    origin=time,
    name="Time",
    description="A local wall-clock time, HH:MM:SS (24:00 as an end reads 00:00).",
    read=lambda value: values.local_time(value, end=True, field="Time"),
    write=time.isoformat,
)

#: Amounts of money (docs/rules.md §13), exact: written as a string with two decimals,
#: which a JavaScript number would not keep for large amounts; read by the grammar
#: (`values.money_amount`: digits, at most two decimals, written as text).
DecimalAmount = _grammar_scalar(
    origin=Decimal,
    name="Decimal",
    description=(
        "An exact amount of money in units of its currency, as a string with two decimals (\"1234.50\"), so that"
        " no client rounds it through a binary float. Input: digits, then at most two decimals (\"1200\", \"85.5\");"
        " a JSON number is refused."
    ),
    read=lambda value: values.money_amount(str(value) if isinstance(value, int) and not isinstance(value, bool) else value, field="Decimal"),
    write=lambda value: f"{value:.2f}",
)

SCALAR_OVERRIDES = {datetime: DateTime, date: Date, time: Time, Decimal: DecimalAmount}
