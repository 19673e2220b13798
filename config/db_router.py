"""Read replicas: with DATABASE_REPLICA_URL set, the GraphQL API's reads go
to the "replica" database alias; everything else (writes, the worker, the loaders, the
pages, the admin) stays on "default".

A request is marked by GraphQLReplicaReadsMiddleware (its path starts with /graphql/);
the router then answers "replica" for its reads until the request writes anything:
from its first write on, its reads go to "default" too, so a mutation reads what it has
just written (read-your-writes; a replica lags by its replication delay)."""

from contextvars import ContextVar

from django.conf import settings

from monitoring.web.middleware import GRAPHQL_PREFIX

REPLICA = "replica"

#: "replica" while a GraphQL request may read from the replica; None otherwise.
_read_alias: ContextVar[str | None] = ContextVar("replica_read_alias", default=None)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return _read_alias.get()

    def db_for_write(self, model, **hints):
        _read_alias.set(None)  # read-your-writes for the rest of the request
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both aliases

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary by replication


class GraphQLReplicaReadsMiddleware:
    """Marks GraphQL requests as allowed to read from the replica (only installed when
    DATABASE_REPLICA_URL is set)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(GRAPHQL_PREFIX) or REPLICA not in settings.DATABASES:
            return self.get_response(request)
        token = _read_alias.set(REPLICA)
        try:
            return self.get_response(request)
        finally:
            _read_alias.reset(token)
