"""Rate limits per caller: report triggers, live polls and writes of settings.

A caller is an API token (bearer or signed in to the browser), a staff user's admin
session, or, when anonymous, the client's address (`client_address`). Each scope allows
`limit` hits a minute (settings RATE_LIMIT_REPORTS, RATE_LIMIT_POLLS, RATE_LIMIT_WRITES;
0: no limit).

The count is a sliding-window counter: the hits of the current minute plus the hits of
the previous minute weighted by how much of it still lies within the last 60 seconds.
So a burst at a minute's boundary cannot double the rate, as a fixed window lets it,
and the state is two integers per caller. It lives in PostgreSQL (an UNLOGGED table,
monitoring.throttle.models.RateCounter), one atomic UPSERT per hit, on the database's
clock: every web process and host shares it. Every call counts, refused ones too: a
client that keeps hammering stays refused; one that waits `retry_after` seconds is
served."""

import ipaddress
import math
import random

from django.conf import settings
from django.db import connection

WINDOW_SECONDS = 60

#: scope → (the setting with its limit a minute, what is counted, for messages)
SCOPES = {
    "reports": ("RATE_LIMIT_REPORTS", "report requests"),
    "polls": ("RATE_LIMIT_POLLS", "recordPolls requests"),
    # Special hours and webhooks: each write takes the writer lock or adds a subscriber.
    "writes": ("RATE_LIMIT_WRITES", "special-hours and webhook writes"),
}

#: Old counters (callers not seen for two windows) are deleted by about one hit in this many.
_PRUNE_ONE_IN = 1000

_HIT_SQL = """
INSERT INTO throttle_ratecounter AS c (key, window_index, hits, previous_hits)
VALUES (%(key)s, floor(extract(epoch FROM statement_timestamp()) / %(window)s)::bigint, 1, 0)
ON CONFLICT (key) DO UPDATE SET
    previous_hits = CASE
        WHEN c.window_index = excluded.window_index THEN c.previous_hits
        WHEN c.window_index = excluded.window_index - 1 THEN c.hits
        ELSE 0 END,
    hits = CASE WHEN c.window_index = excluded.window_index THEN c.hits + 1 ELSE 1 END,
    window_index = excluded.window_index
RETURNING hits, previous_hits,
    (extract(epoch FROM statement_timestamp()) / %(window)s - window_index)::float8
"""

_PRUNE_SQL = """
DELETE FROM throttle_ratecounter
WHERE window_index < floor(extract(epoch FROM statement_timestamp()) / %(window)s)::bigint - 1
"""


class RateLimited(Exception):
    """Over the limit: the API answers 429 with `Retry-After: retry_after`."""

    def __init__(self, *, scope: str, limit: int, retry_after: int) -> None:
        self.scope = scope
        self.limit = limit
        self.retry_after = retry_after
        what = SCOPES[scope][1]
        super().__init__(
            f"rate limit exceeded: at most {limit} {what} a minute per caller; retry in {retry_after} s"
        )


def scope_limit(*, scope: str) -> int:
    """The hits a minute allowed in `scope` (0: unlimited)."""
    return max(0, int(getattr(settings, SCOPES[scope][0])))


def _ip(text: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((text or "").strip()))
    except ValueError:
        return None


def client_address(request) -> str | None:
    """The client's IP address: REMOTE_ADDR, or behind a proxy we trust (TRUSTED_PROXY=1)
    the address that proxy saw, the last entry of X-Forwarded-For (earlier entries are
    whatever the client wrote). None when unknown. Also django-axes' (admin sign-in)."""
    if getattr(settings, "TRUSTED_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        address = _ip(forwarded[-1])
        if address is not None:
            return address
    return _ip(request.META.get("REMOTE_ADDR"))


def retry_after_seconds(*, hits: int, previous_hits: int, fraction: float, limit: int) -> int:
    """Seconds until one more hit would be allowed, if none come meanwhile."""
    wait = None
    if previous_hits and hits + 1 <= limit:
        # Still in this window, once enough of the previous window has slid out of it.
        needed = 1 - (limit - hits - 1) / previous_hits
        if needed < 1:
            wait = (needed - fraction) * WINDOW_SECONDS
    if wait is None:
        # In the next window: this one's hits then weigh 1 − (position in that window).
        needed = min(1.0, max(0.0, 1 - (limit - 1) / hits)) if hits else 0.0
        wait = (1 - fraction + needed) * WINDOW_SECONDS
    return max(1, math.ceil(wait))


def rate_limit_hit(*, scope: str, caller: str) -> None:
    """Counts one hit of `caller` in `scope`; raises RateLimited when over the limit."""
    limit = scope_limit(scope=scope)
    if limit <= 0:
        return
    params = {"key": f"{scope}:{caller}", "window": WINDOW_SECONDS}
    with connection.cursor() as cursor:
        cursor.execute(_HIT_SQL, params)
        hits, previous_hits, fraction = cursor.fetchone()
        if random.random() * _PRUNE_ONE_IN < 1:
            cursor.execute(_PRUNE_SQL, params)
    fraction = min(max(fraction, 0.0), 1.0)
    if previous_hits * (1 - fraction) + hits <= limit:
        return
    raise RateLimited(
        scope=scope,
        limit=limit,
        retry_after=retry_after_seconds(hits=hits, previous_hits=previous_hits, fraction=fraction, limit=limit),
    )
