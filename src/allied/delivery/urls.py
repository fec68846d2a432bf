"""The last mile's pages: dispatch and failed deliveries in the console, failed deliveries in the
portal, the rider app, and the public tracking page; couriers' webhooks at the site root."""

from django.urls import URLPattern, path

from allied.delivery.views import couriers, dispatch, failed, handbacks, rider, tracking
from allied.delivery.views.courier_webhooks import courier_webhook

ops: list[URLPattern] = [
    path("dispatch/", dispatch.dispatch_board, name="dispatch_board"),
    path("failed-deliveries/", failed.failed_delivery_list, name="ops_failed_deliveries"),
    path("couriers/", couriers.courier_accounts, name="courier_accounts"),
    path("hand-backs/", handbacks.hand_back_list, name="hand_backs"),
    # The rider app: an installable web app whose service worker controls /ops/rider/
    path("rider/", rider.run_sheet, name="rider_run_sheet"),
    path("rider/stops/<uuid:stop_id>/", rider.stop_page, name="rider_stop"),
    path("rider/hand-back/", rider.hand_back, name="rider_hand_back"),
    path("rider/actions", rider.actions, name="rider_actions"),
    path("rider/sw.js", rider.service_worker, name="rider_service_worker"),
    path("rider/manifest.webmanifest", rider.manifest, name="rider_manifest"),
]
portal: list[URLPattern] = [
    path("failed-deliveries/", failed.failed_delivery_list, name="portal_failed_deliveries"),
]
site: list[URLPattern] = [
    path("track/", tracking.track_lookup, name="track_lookup"),
    path("track/<str:tracking_code>", tracking.track, name="track"),
    path("track/<str:tracking_code>/change", tracking.track_change, name="track_change"),
    path("track/<str:tracking_code>/stop", tracking.track_stop, name="track_stop"),
    # A courier's webhook: the secret it carries is the credential (checked by the courier's adapter).
    path("couriers/<str:courier>/webhooks", courier_webhook, name="courier_webhook"),
]
