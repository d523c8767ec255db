"""WSGI entry point for the application server (gunicorn)."""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huanxin.settings")

application = get_wsgi_application()

# Load the URL map (and with it the API and every view module) now rather than on the first request, then
# move everything loaded so far out of the garbage collector's reach: these objects live as long as the
# worker, and a full collection would otherwise walk all ~170,000 of them every few hundred requests
# (measured on the claim path: 0.3–0.4 ms of CPU per request, 0.03 ms after freezing).
get_resolver().url_patterns  # noqa: B018 - evaluated for its side effect: importing the URL map
gc.collect()
gc.freeze()
