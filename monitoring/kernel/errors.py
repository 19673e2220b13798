"""Errors a service raises for input it refuses. Each carries what an interface needs to
answer without reading its text: `code` (what kind of refusal), `field` (the input at
fault, in the service's own name, e.g. `store_ids`, `as_of`, `store_ids[2]`; None: the
request as a whole) and `reason`.

The reason never starts with the field's name: an interface writes its own name of the
field before it (`store_ids: …` on REST and the CLI, `storeIds: …` on GraphQL), so the
wording of a reason is never something an interface has to parse or rewrite."""


class InputError(ValueError):
    """Input refused, safe to show to whoever sent it. Its str is `field: reason` (the
    service's names, as REST and the CLI show it), or the reason alone."""

    code = "INVALID_ARGUMENT"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.reason = reason
        self.field = field


class Forbidden(InputError):
    """The caller is known but its role or scope does not allow this (docs/rules.md §12):
    FORBIDDEN on GraphQL, 403 on REST and the pages. The reason names what is missing."""

    code = "FORBIDDEN"
