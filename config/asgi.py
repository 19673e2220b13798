"""The ASGI application (`make run` serves it with uvicorn; docs/operating.md): HTTP goes to
Django as under WSGI (every view, middleware and header the same), WebSocket /graphql/ to
the GraphQL subscriptions (graphql_schema.live.websocket); any other WebSocket path is refused."""

import os

from config.startup import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Each request runs in a thread of its own here: no connection kept past it (config/settings.py).
os.environ.setdefault("DATABASE_CONN_MAX_AGE", "0")
# A misconfiguration is one line, not a traceback; status 3 is gunicorn's "worker failed
# to boot", which stops the server instead of starting workers again and again.
settings_or_exit("config.asgi", status=3)

from django.core.asgi import get_asgi_application  # noqa: E402  (after the settings, as Django asks)

django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from graphql_schema.live.websocket import websocket_consumer  # noqa: E402
from graphql_schema.schema import schema  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": URLRouter(
            [
                path("graphql/", websocket_consumer(schema=schema)),
                re_path(r"", WebsocketDenier.as_asgi()),
            ]
        ),
    }
)
