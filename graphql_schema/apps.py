from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _cache_tables_create(*, using: str, **kwargs) -> None:
    """The read cache's table (graphql_schema.limits.shared_cache) is made by every
    `migrate`, as the database's own tables are: `make run`, `load_data` on a fresh
    database, a deploy's migrate and the tests' database all have it."""
    from django.core.management import call_command

    call_command("createcachetable", database=using, verbosity=0)


class GraphqlSchemaConfig(AppConfig):
    name = "graphql_schema"
    verbose_name = "GraphQL API"

    def ready(self) -> None:
        # Django sends post_migrate once per app that has models: once, after monitoring's.
        post_migrate.connect(
            _cache_tables_create, sender=apps.get_app_config("monitoring"), dispatch_uid="graphql_schema.cache_tables"
        )
