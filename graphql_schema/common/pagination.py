"""Pages of lists (docs/api.md, "Pagination").

Offset pages (`pagination: {offset, limit}`) answer `totalCount`, `results` and
`pageInfo { offset limit hasNextPage }`. A page size is refused, not silently changed,
when it cannot mean what it says: a negative offset (Django refuses negative slices: it
would surface as "Unexpected error."), a negative limit (strawberry_django reads -1 as "no
limit", then caps it silently) or a limit above the cap
(`STRAWBERRY_DJANGO["PAGINATION_MAX_LIMIT"]`, 500): INVALID_ARGUMENT, stating the cap.

Keyset pages (`first`, `after`) serve long lists read in order (a store's polls): the
cursor is the last item's sort key, so page 10,000 costs what page 1 does."""

import base64
from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

import strawberry
import strawberry_django
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from strawberry.extensions import FieldExtension
from strawberry_django.pagination import OffsetPaginated, _resolve_limit
from strawberry_django.resolvers import django_resolver
from strawberry_django.settings import strawberry_django_settings

from graphql_schema.common.errors import UserError
from graphql_schema.common.scalars import rfc3339
from monitoring.kernel import values
from monitoring.kernel.values import InvalidValue

NodeType = TypeVar("NodeType")


def page_cap() -> int:
    return strawberry_django_settings()["PAGINATION_MAX_LIMIT"]


def default_page_size() -> int:
    return strawberry_django_settings()["PAGINATION_DEFAULT_LIMIT"]


class PaginationBounds(FieldExtension):
    """Checks `pagination: {offset, limit}` before the field resolves."""

    def resolve(self, next_, source, info, **kwargs: Any):
        pagination = kwargs.get("pagination")
        if pagination is not None:
            offset = getattr(pagination, "offset", 0)
            limit = getattr(pagination, "limit", None)
            if isinstance(offset, int) and offset < 0:
                raise UserError(f"pagination.offset must be ≥ 0 (got {offset})", argument="pagination.offset")
            if isinstance(limit, int) and limit < 0:
                raise UserError(f"pagination.limit must be ≥ 0 (got {limit})", argument="pagination.limit")
            cap = page_cap()
            if isinstance(limit, int) and cap is not None and limit > cap:
                raise UserError(f"pagination.limit must be ≤ {cap} (got {limit})", argument="pagination.limit")
        return next_(source, info, **kwargs)


@strawberry.type(description="Where an offset page lies in its list.")
class OffsetPageInfo:
    offset: int = strawberry.field(description="Items skipped before this page (a count of items).")
    limit: int | None = strawberry.field(
        description="The page size applied (a count of items): the one asked for, 100 when none was, at most 500."
    )
    has_next_page: bool = strawberry.field(description="True when items follow this page.")


@strawberry.type(description="One page of a list: the items, how many there are in all, and where the page lies.")
class Page(OffsetPaginated[NodeType], Generic[NodeType]):
    """strawberry_django's OffsetPaginated with `hasNextPage`. Its results are a list,
    each object holding the page (`page_of`): a field of one object can then compute
    the whole page's values at once (Store.uptime: one engine call per page)."""

    @strawberry.field(description="Where this page lies: offset, page size and whether items follow.")
    @django_resolver
    def page_info(self) -> OffsetPageInfo:
        limit = _resolve_limit(self.pagination.limit)
        offset = self.pagination.offset
        has_next = limit is not None and offset + limit < self.get_total_count()
        return OffsetPageInfo(offset=offset, limit=limit, has_next_page=has_next)

    @strawberry.field(description="How many items the whole list holds (a count of items, every page together).")
    @django_resolver
    def total_count(self) -> int:
        return self.get_total_count()

    @strawberry.field(description="The items of this page, in the list's order.")
    @django_resolver
    def results(self) -> list[NodeType]:
        paginated = self.get_paginated_queryset()
        items = list(paginated) if paginated is not None else []
        for item in items:
            item.page_of = items
        return items

    def get_total_count(self) -> int:
        total = getattr(self, "_total_count", None)
        if total is None:  # `totalCount` and `pageInfo.hasNextPage` share one COUNT
            total = self._total_count = super().get_total_count()
        return total


def offset_paginated(*args, extensions=(), **kwargs):
    """strawberry_django.offset_paginated, with PaginationBounds."""
    return strawberry_django.offset_paginated(*args, extensions=[PaginationBounds(), *extensions], **kwargs)


# --------------------------------------------------------------------------- keyset pages


@strawberry.type(description="Where a keyset page lies in its list.")
class KeysetPageInfo:
    end_cursor: str | None = strawberry.field(
        description="Pass as `after` for the next page; null when the page is empty."
    )
    has_next_page: bool = strawberry.field(description="True when items follow this page.")


def keyset_connection(
    *, name: str, node: type, item: str, noun: str, plural: str, page: str, counted: str
) -> tuple[type, type]:
    """The `<name>Edge` and `<name>Connection` types of a keyset-paged list of `node`:
    edges (cursor, node), pageInfo, and totalCount, a count of the whole list run only
    when asked. The descriptions are made from `item` ("A webhook"), `noun` ("webhook"),
    `plural`, `page` (what a page holds, in what order) and `counted` ("How many webhooks
    the whole list holds"). `Connection.of(...)` makes one page of it."""
    edge = strawberry.type(name=f"{name}Edge", description=f"{item} and its cursor.")(
        type(f"{name}Edge", (), {
            "__module__": node.__module__,
            "__annotations__": {"cursor": str, "node": node},
            "cursor": strawberry.field(description=f"Pass as `after` for the {plural} after this one."),
            "node": strawberry.field(description=f"The {noun}."),
        })
    )

    def total_count(self) -> int:
        return self._rows.count()

    def of(cls, *, rows: QuerySet, page: list, more: bool, cursor_of: Callable[[Any], str],
           node_of: Callable[[Any], Any] = lambda row: row):
        """The page `keyset_by_instant` returned (`page`, `more`, `cursor_of`) of `rows`
        (what totalCount counts), each row made a node by `node_of`."""
        return cls(
            edges=[edge(cursor=cursor_of(row), node=node_of(row)) for row in page],
            page_info=KeysetPageInfo(end_cursor=cursor_of(page[-1]) if page else None, has_next_page=more),
            _rows=rows,
        )

    connection = strawberry.type(name=f"{name}Connection", description=f"A keyset page of {page}.")(
        type(f"{name}Connection", (), {
            "__module__": node.__module__,
            "__annotations__": {"edges": list[edge], "page_info": KeysetPageInfo, "_rows": strawberry.Private[QuerySet]},
            "edges": strawberry.field(description=f"The {plural} of this page."),
            "page_info": strawberry.field(description="The cursor of the next page and whether there is one."),
            "total_count": strawberry.field(resolver=total_count, description=f"{counted} (a count, run only when asked)."),
            "of": classmethod(of),
        })
    )
    return edge, connection


def keyset_first(first: int | None) -> int:
    """The page size of a keyset page: `first` (default 100), from 0 to the cap (500)."""
    if first is None:
        return default_page_size()
    cap = page_cap()
    if first < 0 or first > cap:
        raise UserError(f"first must be between 0 and {cap} (got {first})", argument="first")
    return first


def cursor_encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


def bad_cursor(argument: str) -> UserError:
    return UserError(f"{argument} is not a cursor of this list (pass a pageInfo.endCursor)", argument=argument)


def cursor_decode(cursor: str, *, argument: str = "after") -> str:
    """The sort key a cursor of ours holds; INVALID_ARGUMENT for text that cannot be one
    (the caller refuses a key that is not one of its list's, with bad_cursor)."""
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeError):
        raise bad_cursor(argument) from None


def _instant_key(text: str) -> datetime:
    return values.instant(text, field="after")


def keyset_by_instant(
    rows: QuerySet, *, field: str, first: int | None, after: str | None, newest_first: bool,
    parse_key: Callable[[str], Any] = _instant_key, key_text: Callable[[Any], str] = rfc3339,
) -> tuple[list, bool, Callable[[Any], str]]:
    """A keyset page of `rows` ordered by (`field`, pk), oldest or newest first, after the
    cursor `after` (an item's `field`, an instant unless `parse_key` and `key_text` say
    otherwise, and its pk): (the page, whether items follow, the cursor of an item)."""
    size = keyset_first(first)
    descending = "-" if newest_first else ""
    ordered = rows.order_by(f"{descending}{field}", f"{descending}pk")
    if after is not None:
        instant_text, _, pk = cursor_decode(after).partition("|")
        beyond = "lt" if newest_first else "gt"
        try:
            instant = parse_key(instant_text)
            ordered = ordered.filter(
                Q(**{f"{field}__{beyond}": instant}) | Q(**{field: instant, f"pk__{beyond}": pk})
            )
            found = list(ordered[: size + 1])
        except (InvalidValue, ValueError, ValidationError):
            raise bad_cursor("after") from None
    else:
        found = list(ordered[: size + 1])

    def cursor_of(item) -> str:
        return cursor_encode(f"{key_text(getattr(item, field))}|{item.pk}")

    return found[:size], len(found) > size, cursor_of
