"""ASGI entry point, kept for completeness; Allied is served over WSGI (docs/decisions/0002-serving.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "allied.settings")
application = get_asgi_application()
