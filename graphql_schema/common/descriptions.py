"""Descriptions of what strawberry and strawberry_django put in the schema without one
(the root types, offset pagination's input, the Ordering enum, the filters' AND/OR/NOT/
DISTINCT, the `pagination`/`filters`/`ordering` arguments): every type, field, argument
and enum value a client sees is described (tests/graphql/test_contract.py walks them)."""

from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLObjectType, GraphQLSchema

ROOT_TYPES = {
    "Query": "Everything a client can read: stores, their uptime and polls, reports.",
    "Mutation": "Everything a client can change: polls, special hours, reports.",
    "Subscription": "What a client can follow live, over WebSocket (graphql-transport-ws at /graphql/).",
}
TYPES = {
    "OffsetPaginationInput": "Which page of a list: skip `offset` items, then take `limit` (at most 500).",
    "Ordering": "A sort direction, and where nulls go.",
}
INPUT_FIELDS = {
    ("OffsetPaginationInput", "offset"): "Items to skip (a count of items, ≥ 0; default 0).",
    ("OffsetPaginationInput", "limit"): "Page size (a count of items, 0–500; default 100). Above 500: INVALID_ARGUMENT.",
}
FILTER_FIELDS = {
    "AND": "Also this filter: both must hold.",
    "OR": "Or this filter: either may hold.",
    "NOT": "Not this filter.",
    "DISTINCT": "Each object once, even when joins repeat it.",
}
ORDERING_VALUES = {
    "ASC": "Ascending.",
    "ASC_NULLS_FIRST": "Ascending, nulls first.",
    "ASC_NULLS_LAST": "Ascending, nulls last.",
    "DESC": "Descending.",
    "DESC_NULLS_FIRST": "Descending, nulls first.",
    "DESC_NULLS_LAST": "Descending, nulls last.",
}
ARGUMENTS = {
    "pagination": "Which page: offset and limit (a count of items; default 100, at most 500).",
    "filters": "Only the objects this filter accepts.",
    "ordering": "Sort keys, the first one first; none: the list's own order.",
}


def describe(schema: GraphQLSchema) -> None:
    """Sets the missing descriptions on the built schema (never overwrites one)."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if not type_.description:
            type_.description = ROOT_TYPES.get(name) or TYPES.get(name)
        if isinstance(type_, GraphQLEnumType) and name == "Ordering":
            for value_name, value in type_.values.items():
                value.description = value.description or ORDERING_VALUES.get(value_name)
        if isinstance(type_, GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    field.description = INPUT_FIELDS.get((name, field_name)) or FILTER_FIELDS.get(field_name)
        if isinstance(type_, GraphQLObjectType):
            for field in type_.fields.values():
                for argument_name, argument in field.args.items():
                    if not argument.description:
                        argument.description = ARGUMENTS.get(argument_name)
