"""GraphQL scalars read with the shared grammar (SPEC §7, monitoring.ingest.values)."""

from collections.abc import Callable
from datetime import date, datetime

from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from monitoring.ingest import values
from monitoring.ingest.values import InvalidValue


def _grammar_scalar(*, origin: type, name: str, description: str, read: Callable[[object], object]) -> ScalarDefinition:
    """A scalar with strawberry's own name and description (the exported schema is
    unchanged), parsed by a function of the grammar, serialised as ISO 8601. A refusal is
    a GraphQLError, shown as is by graphql-core ("Variable '$asOf' has invalid value: …")."""

    def parse(value: object) -> object:
        try:
            return read(value)
        except InvalidValue as error:
            raise GraphQLError(error.reason) from None

    return ScalarDefinition(
        name=name, description=description, specified_by_url=None, serialize=origin.isoformat,
        parse_value=parse, parse_literal=None, origin=origin,
    )


#: Every `DateTime` argument: an offset is required; a naive text is refused with a
#: message saying how to write one, exactly as on the REST API, the pages and the CLI.
DateTime = _grammar_scalar(
    origin=datetime, name="DateTime", description="Date with time (isoformat)",
    read=lambda value: values.instant(value, field="DateTime"),
)
#: Every `Date` argument (special hours): a local calendar date, YYYY-MM-DD exactly, in
#: the years 2000–2100 (as a special-hours file's `date` cell); strawberry's own would
#: take 20230312 too.
Date = _grammar_scalar(
    origin=date, name="Date", description="Date (isoformat)",
    read=lambda value: values.local_date(value, field="Date"),
)

SCALAR_OVERRIDES = {datetime: DateTime, date: Date}
