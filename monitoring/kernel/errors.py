"""Errors a service raises for input it refuses. Each carries what an interface needs to
answer without reading its text: `code` (what kind of refusal), `field` (the input at
fault, in the service's own name; None: the request as a whole) and `reason`."""


class InputError(ValueError):
    """Input refused, safe to show to whoever sent it."""

    code = "INVALID_ARGUMENT"

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
