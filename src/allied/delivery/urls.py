"""The last mile's pages: dispatch and failed deliveries in the console, failed deliveries in the
portal, the rider app, and the public tracking page."""

from django.urls import URLPattern, path

from allied.delivery.views import rider

ops: list[URLPattern] = [
    # The rider app: an installable web app whose service worker controls /ops/rider/
    path("rider/", rider.run_sheet, name="rider_run_sheet"),
    path("rider/stops/<uuid:stop_id>/", rider.stop_page, name="rider_stop"),
    path("rider/hand-back/", rider.hand_back, name="rider_hand_back"),
    path("rider/actions", rider.actions, name="rider_actions"),
    path("rider/sw.js", rider.service_worker, name="rider_service_worker"),
    path("rider/manifest.webmanifest", rider.manifest, name="rider_manifest"),
]
portal: list[URLPattern] = []
site: list[URLPattern] = []
