from django.apps import AppConfig


class GraphqlSchemaConfig(AppConfig):
    name = "graphql_schema"
    verbose_name = "GraphQL API"
