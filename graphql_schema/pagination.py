"""Offset pagination that refuses what it cannot mean: a negative offset (Django refuses
negative slices: it would surface as "Unexpected error.") or a negative limit
(strawberry_django reads -1 as "no limit", then caps it silently)."""

from typing import Any

import strawberry_django
from strawberry.extensions import FieldExtension

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
        return next_(source, info, **kwargs)


def offset_paginated(*args, extensions=(), **kwargs):
    """strawberry_django.offset_paginated, with PaginationBounds."""
    return strawberry_django.offset_paginated(*args, extensions=[PaginationBounds(), *extensions], **kwargs)
