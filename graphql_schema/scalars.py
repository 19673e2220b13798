"""GraphQL scalars read with the shared grammar (SPEC §7, monitoring.ingest.values)."""

from datetime import date, datetime

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


def _date_parse(value: object) -> date:
    # A local calendar date, YYYY-MM-DD exactly, in the years 2000–2100 (values.local_date,
    # as a special-hours file's `date` cell); strawberry's own would take 20230312 too.
    try:
        return values.local_date(value, field="Date")
    except InvalidValue as error:
        raise GraphQLError(error.reason) from None


#: Every `Date` argument (special hours): strawberry's name and description, parsed by
#: `values.local_date`, serialised as YYYY-MM-DD.
Date = ScalarDefinition(
    name="Date",
    description="Date (isoformat)",
    specified_by_url=None,
    serialize=date.isoformat,
    parse_value=_date_parse,
    parse_literal=None,
    origin=date,
)

SCALAR_OVERRIDES = {datetime: DateTime, date: Date}
