"""Each app owns its pages (`<app>/urls.py`: `ops` under /ops/, `portal` under /portal/, `site`
at the root); this module only mounts them."""

from django.contrib import admin
from django.urls import URLPattern, include, path

from allied.accounts import urls as accounts
from allied.api import api
from allied.catalog import urls as catalog
from allied.core.views import healthz
from allied.delivery import urls as delivery
from allied.fulfillment import urls as fulfillment
from allied.integrations import urls as integrations
from allied.inventory import urls as inventory
from allied.orders import urls as orders
from allied.privacy import urls as privacy
from allied.website import urls as website

AREA_APPS = (accounts, privacy, catalog, orders, inventory, fulfillment, integrations, delivery, website)


def _area(area: str) -> list[URLPattern]:
    return [pattern for app in AREA_APPS for pattern in getattr(app, area)]


urlpatterns = [
    path("api/v1/", api.urls),  # first: integrations call it most, and patterns are tried in order
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("allauth.urls")),
    path("ops/", include(_area("ops"))),  # the AES operator console
    path("portal/", include(_area("portal"))),  # the brand partner portal
    *accounts.site,
    *fulfillment.site,
    *integrations.site,
    *delivery.site,
    *privacy.site,
    path("admin/", admin.site.urls),
    *website.site,  # last: its CMS pages take any single-segment path no other app answers
]

handler404 = "allied.core.handlers.page_not_found"
handler403 = "allied.core.handlers.permission_denied"
