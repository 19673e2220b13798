"""The root schema: each domain's Query and Mutation merged, with the optimizer and
limits that keep abusive queries out (depth, aliases, tokens) and internals hidden."""

import strawberry
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.tools import merge_types
from strawberry_django.optimizer import DjangoOptimizerExtension

from graphql_schema.errors import should_mask_error
from graphql_schema.reports.schema import Mutation as ReportMutation
from graphql_schema.reports.schema import Query as ReportQuery
from graphql_schema.stores.schema import Mutation as StoreMutation
from graphql_schema.stores.schema import Query as StoreQuery

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000

Query = merge_types("Query", (StoreQuery, ReportQuery))
Mutation = merge_types("Mutation", (StoreMutation, ReportMutation))

schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        DjangoOptimizerExtension,
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: MaskErrors(should_mask_error=should_mask_error),
        # Frontends send the same few documents over and over: parse and validate once.
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
    ],
)
