"""GraphQL scalars read with the shared grammar (SPEC §7, monitoring.ingest.values)."""

from datetime import datetime

from graphql import GraphQLError
from strawberry.types.scalar import ScalarDefinition

from monitoring.ingest import values
from monitoring.ingest.values import InvalidValue


def _datetime_parse(value: object) -> datetime:
    # An offset is required: a naive text is refused with a message saying how to
    # write one, exactly as on the REST API, the pages and the CLI. A GraphQLError is
    # shown as is by graphql-core ("Variable '$asOf' has invalid value: …").
    try:
        return values.instant(value, field="DateTime")
    except InvalidValue as error:
        raise GraphQLError(error.reason) from None


#: Every `DateTime` argument: same name and description as strawberry's own (the
#: exported schema is unchanged), parsed by `values.instant`, serialised as ISO 8601.
DateTime = ScalarDefinition(
    name="DateTime",
    description="Date with time (isoformat)",
    specified_by_url=None,
    serialize=datetime.isoformat,
    parse_value=_datetime_parse,
    parse_literal=None,
    origin=datetime,
)

SCALAR_OVERRIDES = {datetime: DateTime}
