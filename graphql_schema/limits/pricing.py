"""A GraphQL query is priced before any resolver runs, and refused above the limit
(docs/rules.md §8, `GRAPHQL_MAX_NODES`).

The price is the most objects and list entries the response can hold, i.e. the product
of page sizes down each path, summed over the query:

- an object-valued field (`store(id)`, `uptime`, a paginated field's wrapper object,
  `pageInfo`) counts 1 for each time it can appear: the product of the page sizes of the
  lists above it;
- a list counts its page size for each time it can appear, and multiplies everything
  below it. The `results` of a paginated field (`stores`, `reports`, `Store.statusPolls`,
  `Report.rows`), and the `nodes` or `edges` of a keyset field (`Store.polls(first:)`, `fleet(first:)`), have the page size that field will use: `pagination: {limit: N}` as
  strawberry_django applies it (no limit: `PAGINATION_DEFAULT_LIMIT`; above
  `PAGINATION_MAX_LIMIT`: that cap). A negative limit counts 0: the field refuses it
  (graphql_schema.common.pagination) before anything below it runs; so does a variable's value
  that GraphQL's Int refuses (the operation then does not run). A plain list counts its
  cap (DEFAULT_LIST_CAP when it declares none), lists of scalars included,
  unless it takes `first` (`Report.storeIds(first:)`): then it counts that page size.
  The cap is declared on the field itself, `metadata=priced(max_items=N)`
  (graphql_schema.common.fields), so it moves with the field when it is renamed;
- scalar fields count 0 (the token limit bounds how many a query names per object);
  introspection (`__schema`, `__type`, `__typename`) counts 0: the schema bounds it.

A refusal names the costliest lists by their response path and what each costs
(`fleet.edges.node.timeline 50,000 (100 × 500)`), in its message and in
`extensions.parts`.

Fields are merged by response key and each fragment is expanded once per selection set,
as graphql-core executes them, so repeating a field or a fragment does not add to the
price, while aliases and fragments used under several fields do.

A page size given by a variable (`pagination: $page` or `{limit: $n}`) is priced with
the variable's value (or its default in the operation): pricing runs in a
SchemaExtension's `on_execute`, after validation and before execution, where the
variables are known. A validation rule would not see them, and ValidationCache keys its
results by document only. Prices of a document are remembered with the values of the
variables they read, so a repeated request costs a dictionary look-up. After validation,
the document is known to be sound (no fragment cycles, depth ≤ 10) and its errors come
first; pricing before it would only spare refused documents their validation, which a
cheaply priced document can make as long.
"""

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    ObjectValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry_django.settings import strawberry_django_settings

from graphql_schema.common.fields import MAX_ITEMS

logger = logging.getLogger(__name__)

PAGINATION_ARGUMENT = "pagination"
RESULTS_FIELD = "results"
#: A keyset page (`Store.polls(first:)`): its `nodes` hold `first` items (default 100; a
#: negative one or one above the cap is refused before anything below it runs: 0).
KEYSET_ARGUMENT = "first"
NODES_FIELD = "nodes"
#: A connection's `edges` (`fleet(first:)`, `incidents(first:)`): priced as the keyset page's `nodes`.
EDGES_FIELD = "edges"

#: The page size of a plain list that declares no cap.
DEFAULT_LIST_CAP = 100
#: Where strawberry keeps, on a graphql-core field, the strawberry field it came from.
STRAWBERRY_DEFINITION = "strawberry-definition"


def declared_cap(*, field: GraphQLField) -> int | None:
    """The `max_items` in the strawberry metadata of `field` (`priced`), or None: a hard
    bound where the data has one, otherwise a generous estimate of the longest list a
    store produces."""
    definition = (field.extensions or {}).get(STRAWBERRY_DEFINITION)
    return (getattr(definition, "metadata", None) or {}).get(MAX_ITEMS)


def list_cap(*, field: GraphQLField) -> int:
    """The page size of a plain list field (no `pagination`, no `first`)."""
    cap = declared_cap(field=field)
    return DEFAULT_LIST_CAP if cap is None else cap


def declared_caps(*, schema: GraphQLSchema) -> dict[str, int]:
    """`"Type.field"` → the cap each field of `schema` declares: a view for reading (tests,
    documentation); pricing reads each field's own."""
    caps = {}
    for type_name, graphql_type in schema.type_map.items():
        if isinstance(graphql_type, GraphQLObjectType):
            for field_name, field in graphql_type.fields.items():
                cap = declared_cap(field=field)
                if cap is not None:
                    caps[f"{type_name}.{field_name}"] = cap
    return caps


#: Every declared cap by `"Type.field"`, filled by graphql_schema.schema once the schema
#: is built (the schema is built with QueryPrice, so it cannot be read from here).
LIST_CAPS: dict[str, int] = {}

#: Fields visited (fragments expanded) before a query is refused as too large to price:
#: any real query is far below (a page of stores with everything: ~40).
MAX_FIELDS_PRICED = 20_000

TOO_COSTLY = "TOO_COSTLY"


class TooLargeToPrice(Exception):
    pass


#: The costliest lists a refusal names.
PARTS_NAMED = 3


def too_costly_error(price: int, limit: int, parts: list["PricedList"] = ()) -> GraphQLError:
    """The refusal, naming the costliest lists (`parts`, costliest first) and what each costs."""
    named = sorted(parts, key=lambda part: -part.nodes)[:PARTS_NAMED]
    said = "; costliest: " + ", ".join(part.text() for part in named) if named else ""
    return GraphQLError(
        f"query costs {price:,} nodes, above the limit of {limit:,}{said}; ask for smaller pages "
        "(pagination: {limit: N}, first: N) or fewer nested lists",
        extensions={
            "code": TOO_COSTLY, "price": price, "limit": limit,
            "parts": [{"path": part.path, "nodes": part.nodes} for part in named],
        },
    )


@dataclass(frozen=True, slots=True)
class PricedList:
    """One list of a query as priced: at `path` (response keys), `times` × `size` nodes."""

    path: str
    times: int  # how many times the list can appear (the product of the page sizes above it)
    size: int  # its page size or cap

    @property
    def nodes(self) -> int:
        return self.times * self.size

    def text(self) -> str:
        each = f" ({self.times:,} × {self.size:,})" if self.times > 1 else ""
        return f"{self.path} {self.nodes:,}{each}"


def too_large_error(limit: int) -> GraphQLError:
    return GraphQLError(
        f"query has more than {MAX_FIELDS_PRICED:,} fields once its fragments are expanded; ask for fewer",
        extensions={"code": TOO_COSTLY, "price": None, "limit": limit},
    )


def _list_of(field_type) -> bool:
    if isinstance(field_type, GraphQLNonNull):
        field_type = field_type.of_type
    return isinstance(field_type, GraphQLList)


class _Pricing:
    """One walk of an operation, with the variables' values."""

    def __init__(self, schema: GraphQLSchema, fragments: dict, variables: dict, defaults: dict):
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.used: dict[str, Any] = {}  # the variables the price depends on → their values
        self.fields = 0
        self.lists: list[PricedList] = []
        django_settings = strawberry_django_settings()
        self.default_limit = django_settings["PAGINATION_DEFAULT_LIMIT"]
        self.max_limit = django_settings["PAGINATION_MAX_LIMIT"]

    def variable(self, name: str) -> Any:
        value = self.variables[name] if name in self.variables else self.defaults.get(name)
        self.used[name] = value
        return value

    def page_size(self, node: FieldNode) -> int:
        """The page size the paginated field `node` will use (strawberry_django's
        `_resolve_limit`), 0 for a limit refused before anything below it runs: a negative
        one (graphql_schema.common.pagination) or a variable's value GraphQL's Int refuses (the
        variables are coerced before the operation runs at all)."""
        limit = None
        for argument in node.arguments or ():
            if argument.name.value != PAGINATION_ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                page = self.variable(value.name.value)
                limit = page.get("limit") if isinstance(page, dict) else None
            elif isinstance(value, ObjectValueNode):
                for member in value.fields or ():
                    if member.name.value == "limit":
                        limit_node = member.value
                        if isinstance(limit_node, VariableNode):
                            limit = self.variable(limit_node.name.value)
                        else:
                            limit = value_from_ast_untyped(limit_node)
        if limit is None:
            limit = self.default_limit
        if isinstance(limit, float) and limit.is_integer():
            limit = int(limit)  # as GraphQL's Int accepts it
        if type(limit) is not int or limit < 0:
            return 0
        cap = self.max_limit
        return limit if cap is None else min(limit, cap)

    def first_size(self, node: FieldNode) -> int:
        """The page size of the keyset field `node`: its `first` (graphql_schema.common.pagination.keyset_first)."""
        first = None
        for argument in node.arguments or ():
            if argument.name.value == KEYSET_ARGUMENT:
                value = argument.value
                first = self.variable(value.name.value) if isinstance(value, VariableNode) else value_from_ast_untyped(value)
        if first is None:
            return self.default_limit
        if isinstance(first, float) and first.is_integer():
            first = int(first)
        if type(first) is not int or first < 0 or (self.max_limit is not None and first > self.max_limit):
            return 0
        return first

    def collect(self, selection_sets: list[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """Fields by response key, each fragment expanded once (graphql-core's collect_fields)."""
        fields: dict[str, list[FieldNode]] = {}
        seen: set[str] = set()

        def visit(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    visit(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if name not in seen and fragment is not None:
                        seen.add(name)
                        visit(fragment.selection_set)

        for selection_set in selection_sets:
            visit(selection_set)
        return fields

    def price(
        self, parent: GraphQLObjectType, selection_sets: list, times: int, page: int | None, path: str = ""
    ) -> int:
        """The price of `selection_sets` on `parent`, which appears `times` times (at the
        response path `path`); `page`: the page size of `results` when `parent` is a
        paginated field's wrapper. Each list priced is kept in `lists`."""
        total = 0
        for key, nodes in self.collect(selection_sets).items():
            node = nodes[0]
            name = node.name.value
            if name.startswith("__"):
                continue
            field = parent.fields.get(name)
            if field is None:  # not after validation
                continue
            self.fields += 1
            if self.fields > MAX_FIELDS_PRICED:
                raise TooLargeToPrice
            if _list_of(field.type):
                if page is not None and name in (RESULTS_FIELD, NODES_FIELD, EDGES_FIELD):
                    size = page
                elif KEYSET_ARGUMENT in field.args:  # a page of a list: its `first`
                    size = self.first_size(node)
                else:
                    size = list_cap(field=field)
            elif node.selection_set is not None:
                size = 1
            else:
                continue  # a scalar
            count = times * size
            total += count
            where = f"{path}.{key}" if path else key
            if _list_of(field.type):
                self.lists.append(PricedList(where, times, size))
            if count == 0 or node.selection_set is None:
                continue
            child = get_named_type(field.type)
            if not isinstance(child, GraphQLObjectType):  # no interfaces or unions here
                continue
            if PAGINATION_ARGUMENT in field.args:
                child_page = self.page_size(node)
            elif KEYSET_ARGUMENT in field.args:
                child_page = self.first_size(node)
            else:
                child_page = None
            total += self.price(child, [n.selection_set for n in nodes if n.selection_set], count, child_page, where)
        return total


def _operation(document, operation_name: str | None) -> tuple[OperationDefinitionNode | None, dict]:
    operations = []
    fragments = {}
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            fragments[definition.name.value] = definition
        elif isinstance(definition, OperationDefinitionNode):
            if operation_name is None or (definition.name is not None and definition.name.value == operation_name):
                operations.append(definition)
    return (operations[0] if len(operations) == 1 else None), fragments


def operation_price(schema: GraphQLSchema, document, operation_name: str | None, variables: dict | None):
    """(price, {variable: value it was priced with}) of the operation, or None when there
    is no single operation to run (execution will say so). Raises TooLargeToPrice."""
    priced = _operation_pricing(schema, document, operation_name, variables)
    return None if priced is None else priced[:2]


def operation_lists(schema: GraphQLSchema, document, operation_name: str | None, variables: dict | None):
    """The lists of the operation as priced (PricedList), to say what a refused query costs."""
    priced = _operation_pricing(schema, document, operation_name, variables)
    return [] if priced is None else priced[2]


def _operation_pricing(schema: GraphQLSchema, document, operation_name: str | None, variables: dict | None):
    operation, fragments = _operation(document, operation_name)
    if operation is None:
        return None
    root = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return None
    defaults = {
        definition.variable.name.value: value_from_ast_untyped(definition.default_value)
        for definition in operation.variable_definitions or ()
        if definition.default_value is not None
    }
    pricing = _Pricing(schema, fragments, variables or {}, defaults)
    return pricing.price(root, [operation.selection_set], 1, None), pricing.used, pricing.lists


_MISSING = object()

# (query text, operation name) → (the variables read and their values, price): the last
# price of each document. Cleared when full; reads and writes are atomic under the GIL.
# Only short documents and small values are kept: at most ~512 × 10 KB.
_PRICES: dict[tuple[str, str | None], tuple[tuple, tuple, int]] = {}
_PRICES_MAX = 512
_PRICES_MAX_QUERY = 10_000


def _scalar(value) -> bool:
    return value is None or value is _MISSING or isinstance(value, (int, float))


def _small(value) -> bool:
    """A value worth remembering: a number, null, or a pagination object of those."""
    if isinstance(value, dict):
        return len(value) <= 2 and all(_scalar(v) for v in value.values())
    return _scalar(value)


def request_price(execution_context) -> int | None:
    """The price of the request's operation (remembered per document and variables)."""
    query, operation_name = execution_context.query, execution_context.operation_name
    variables = execution_context.variables or {}
    key = (query, operation_name)
    known = _PRICES.get(key) if query is not None else None
    if known is not None:
        names, values, price = known
        if all((variables[n] if n in variables else _MISSING) == v for n, v in zip(names, values)):
            return price
    priced = operation_price(
        execution_context.schema._schema, execution_context.graphql_document, operation_name, variables
    )
    if priced is None:
        return None
    price, used = priced
    # A variable the request did not send is remembered as missing (its default applied).
    values = tuple(variables[n] if n in variables else _MISSING for n in used)
    if query is not None and len(query) <= _PRICES_MAX_QUERY and all(_small(v) for v in values):
        if len(_PRICES) >= _PRICES_MAX:
            _PRICES.clear()
        _PRICES[key] = (tuple(used), values, price)
    return price


class QueryPrice(SchemaExtension):
    """Prices the operation after validation, before execution; refuses it above
    `settings.GRAPHQL_MAX_NODES` (0: off) with a TOO_COSTLY error, and reports the price
    of an accepted one in the response's `extensions.cost`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cost: dict | None = None

    def on_execute(self) -> Iterator[None]:
        limit = settings.GRAPHQL_MAX_NODES
        if limit > 0:
            context = self.execution_context
            try:
                price = request_price(context)
            except TooLargeToPrice:
                context.result = ExecutionResult(data=None, errors=[too_large_error(limit)])
            except Exception:  # a fault here must neither show nor let an unpriced query run
                logger.exception("pricing the GraphQL query failed")
                context.result = ExecutionResult(data=None, errors=[GraphQLError("Unexpected error.", extensions={"code": "INTERNAL"})])
            else:
                if price is not None:
                    self.cost = {"nodes": price, "limit": limit}
                    if price > limit:
                        parts = operation_lists(
                            context.schema._schema, context.graphql_document, context.operation_name,
                            context.variables,
                        )
                        context.result = ExecutionResult(data=None, errors=[too_costly_error(price, limit, parts)])
        yield

    def get_results(self) -> dict:
        return {"cost": self.cost} if self.cost is not None else {}
