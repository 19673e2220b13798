from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _cache_tables_create(*, using: str, **kwargs) -> None:
    """The read cache's table (graphql_schema.limits.shared_cache) is made by every
    `migrate`, as the database's own tables are: `make run`, a deploy's migrate and the
    tests' database all have it."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class GraphqlSchemaConfig(AppConfig):
    name = "graphql_schema"
    verbose_name = "GraphQL API"

    def ready(self) -> None:
        post_migrate.connect(_cache_tables_create, sender=self, dispatch_uid="graphql_schema.cache_tables")
