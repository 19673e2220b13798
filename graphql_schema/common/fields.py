"""Fields whose value is read from their object alone, resolved the cheap way; the
price cap of a plain list field (`priced`)."""

from functools import cached_property

from strawberry.types.nodes import SelectedField
from strawberry_django.fields.field import StrawberryDjangoField

_ROOT_ONLY = ["self", "root"]


class ObjectField(StrawberryDjangoField):
    """An attribute of the object, or a resolver `(self, root)` of it alone. strawberry
    calls such a "basic" field directly: no Info built, no arguments converted, none of
    strawberry_django's resolver wrappers (about a third of the CPU of a page of 50
    stores). The optimizer reads its hints (`only`, `prefetch_related`) as before."""

    @cached_property
    def _root_only(self) -> bool:
        if self.base_resolver is None:
            return True
        return list(self.base_resolver.signature.parameters) == _ROOT_ONLY

    @property
    def is_basic_field(self) -> bool:
        return self._root_only and not self.extensions and not self.permission_classes

    def get_result(self, source, info, args, kwargs):
        if info is not None or source is None:  # called the usual way: the usual path
            return super().get_result(source, info, args, kwargs)
        if self.base_resolver is None:
            return getattr(source, self.django_name or self.python_name)
        return self.base_resolver.wrapped_func(source, source)



#: The key of a list field's price cap in its strawberry `metadata`
#: (graphql_schema.limits.pricing reads it there).
MAX_ITEMS = "max_items"


def priced(*, max_items: int) -> dict:
    """The `metadata=` of a plain list field (one without `pagination` or `first`): the
    most items it can hold, its page size when a query is priced. Declared beside the
    field, so a rename carries it along."""
    return {MAX_ITEMS: max_items}


def selections_under(selections, name: str) -> list:
    """The selections below every field `name` among `selections` (fragments expanded):
    what a query asks of a list's items, so that a resolver can read ahead for them."""
    found = []
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                found += selection.selections
        else:  # a fragment spread or an inline fragment
            found += selections_under(selection.selections, name)
    return found


def selects(selections, name: str) -> bool:
    """True when `name` is selected among `selections`, fragments included."""
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == name:
                return True
        elif selects(selection.selections, name):  # a fragment spread or an inline fragment
            return True
    return False
