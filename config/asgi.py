import os

from django.core.asgi import get_asgi_application

from config.startup import settings_or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# A misconfiguration is one line, not a traceback; status 3 is gunicorn's "worker failed
# to boot", which stops the server instead of starting workers again and again.
settings_or_exit("config.asgi", status=3)
application = get_asgi_application()
