"""URL map: pages per app, the API at /api/v1/, the Django admin for administrators."""

from django.contrib import admin
from django.urls import include, path

from huanxin.api import api

handler403 = "huanxin.web.views.forbidden"
handler404 = "huanxin.web.views.not_found"
handler500 = "huanxin.web.views.server_error"

urlpatterns = [
    # First: every API call would otherwise be matched against each app's page patterns before reaching it.
    path("api/v1/", api.urls),
    path("", include("huanxin.web.urls")),
    path("accounts/", include("huanxin.accounts.urls")),
    path("oversight/", include("huanxin.core.urls")),
    path("", include("huanxin.policy.urls")),
    path("catalogue/", include("huanxin.catalogue.urls")),
    path("", include("huanxin.subsidies.urls")),
    path("", include("huanxin.settlement.urls")),
    path("", include("huanxin.trace.urls")),
    path("vehicles/", include("huanxin.vehicles.urls")),
    path("recycling/", include("huanxin.recycling.urls")),
    path("admin/", admin.site.urls),
]
