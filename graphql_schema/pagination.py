"""Offset pagination that refuses what it cannot mean: a negative offset (Django refuses
negative slices: it would surface as "Unexpected error."), a negative limit
(strawberry_django reads -1 as "no limit", then caps it silently) or a limit above the
cap (`STRAWBERRY_DJANGO["PAGINATION_MAX_LIMIT"]`, 500), which strawberry_django would
silently cut to the cap: the client is told the cap instead."""

from typing import Any

import strawberry_django
from strawberry.extensions import FieldExtension
from strawberry_django.settings import strawberry_django_settings

from graphql_schema.errors import UserError


class PaginationBounds(FieldExtension):
    """Checks `pagination: {offset, limit}` before the field resolves."""

    def resolve(self, next_, source, info, **kwargs: Any):
        pagination = kwargs.get("pagination")
        if pagination is not None:
            offset = getattr(pagination, "offset", 0)
            limit = getattr(pagination, "limit", None)
            if isinstance(offset, int) and offset < 0:
                raise UserError(f"pagination.offset must be ≥ 0 (got {offset})")
            if isinstance(limit, int) and limit < 0:
                raise UserError(f"pagination.limit must be ≥ 0 (got {limit})")
            cap = strawberry_django_settings()["PAGINATION_MAX_LIMIT"]
            if isinstance(limit, int) and cap is not None and limit > cap:
                raise UserError(f"pagination.limit must be ≤ {cap} (got {limit})")
        return next_(source, info, **kwargs)


def offset_paginated(*args, extensions=(), **kwargs):
    """strawberry_django.offset_paginated, with PaginationBounds."""
    return strawberry_django.offset_paginated(*args, extensions=[PaginationBounds(), *extensions], **kwargs)
