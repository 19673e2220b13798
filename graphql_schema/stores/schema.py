import strawberry
import strawberry_django
from strawberry_django.pagination import OffsetPaginated

from strawberry.types import Info

from graphql_schema.errors import UserError, request_access
from graphql_schema.stores.types import StoreType
from monitoring.access import stores_visible


@strawberry.type
class Query:
    stores: OffsetPaginated[StoreType] = strawberry_django.offset_paginated(
        description="Stores, filterable by id and time zone, ordered, paginated (page size capped)."
    )

    @strawberry_django.field(description="One store by its id.")
    def store(self, info: Info, id: str) -> StoreType:
        store = stores_visible(access=request_access(info)).filter(store_id=id).first()
        if store is None:
            raise UserError(f"store not found: {id}")
        return store
