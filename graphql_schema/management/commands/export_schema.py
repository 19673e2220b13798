from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Write the GraphQL schema (SDL) that frontend teams build on; a test fails when it drifts."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=settings.BASE_DIR / "schema.graphql")

    def handle(self, *args, path: Path, **options):
        from graphql_schema.schema import schema

        path.write_text(str(schema).strip() + "\n")
        self.stdout.write(f"wrote {path}")
