"""The root schema: each domain's Query and Mutation merged, with the optimizer and
limits that keep abusive queries out (depth, aliases, tokens, the price of a query:
graphql_schema.limits.pricing) and internals hidden."""

from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql_schema.alerts.schema import Mutation as AlertMutation
from graphql_schema.alerts.schema import Query as AlertQuery
from graphql_schema.common.descriptions import describe
from graphql_schema.common.errors import ClientErrors, Schema, should_mask_error
from graphql_schema.fleet.schema import Query as FleetQuery
from graphql_schema.history.schema import Query as HistoryQuery
from graphql_schema.limits.pricing import LIST_CAPS, QueryPrice, declared_caps
from graphql_schema.live.schema import Subscription, SubscriptionsOverWebSocket
from graphql_schema.organizations.schema import Mutation as OrganizationMutation
from graphql_schema.organizations.schema import Query as OrganizationQuery
from graphql_schema.reports.schema import Mutation as ReportMutation
from graphql_schema.reports.schema import Query as ReportQuery
from graphql_schema.common.scalars import SCALAR_OVERRIDES
from graphql_schema.schedules.schema import Mutation as ScheduleMutation
from graphql_schema.schedules.schema import Query as ScheduleQuery
from graphql_schema.stores.schema import Mutation as StoreMutation
from graphql_schema.stores.schema import Query as StoreQuery

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000

# The rules of QueryDepthLimiter and MaxAliasesLimiter, made once: those extensions make
# new rule classes per request, and ValidationCache (keyed by the rules) then never hits.
LIMIT_RULES = (max_depth_rule(MAX_DEPTH, None), max_aliases_rule(MAX_ALIASES))


class QuerySetOptimizer(DjangoOptimizerExtension):
    """The optimizer without its `resolve` hook, which graphql-core calls around every
    field of every object (~15% of the CPU of a page of 50 stores). strawberry_django
    fields optimize their own querysets through the optimizer that on_execute sets; the
    hook only catches plain strawberry resolvers returning querysets: this schema has none."""

    resolve = SchemaExtension.resolve


Query = merge_types(
    "Query", (StoreQuery, FleetQuery, ReportQuery, AlertQuery, ScheduleQuery, HistoryQuery, OrganizationQuery)
)
Mutation = merge_types(
    "Mutation", (StoreMutation, ReportMutation, AlertMutation, ScheduleMutation, OrganizationMutation)
)

schema = Schema(  # graphql_schema.common.errors.Schema: client errors logged in one line
    query=Query,
    mutation=Mutation,
    subscription=Subscription,  # over WebSocket only (graphql_schema.live.websocket)
    # Every DateTime argument is read by the shared grammar (an offset required).
    scalar_overrides=SCALAR_OVERRIDES,
    extensions=[
        QuerySetOptimizer,
        lambda: AddValidationRules(list(LIMIT_RULES)),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        # Priced after validation, before any resolver: refused above GRAPHQL_MAX_NODES.
        QueryPrice,
        SubscriptionsOverWebSocket,
        lambda: ClientErrors(should_mask_error=should_mask_error),
        # Frontends send the same few documents over and over: parse and validate once.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)
# What strawberry and strawberry_django leave undescribed (roots, pagination, filters).
describe(schema._schema)
LIST_CAPS.update(declared_caps(schema=schema._schema))
