"""Abuse limits: rate limits per caller, counted in PostgreSQL so that every
web process (and every host) shares them. The services are in
monitoring.throttle.limits; this package is also a small Django app (label "throttle")
that owns the counters' table, so its migrations never collide with monitoring's."""
