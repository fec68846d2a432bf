"""The last mile's pages: dispatch and failed deliveries in the console, failed deliveries in the
portal, the rider app, and the public tracking page."""

from django.urls import URLPattern, path

from allied.delivery.views import dispatch, failed, tracking

ops: list[URLPattern] = [
    path("dispatch/", dispatch.dispatch_board, name="dispatch_board"),
    path("failed-deliveries/", failed.failed_delivery_list, name="ops_failed_deliveries"),
]
portal: list[URLPattern] = [
    path("failed-deliveries/", failed.failed_delivery_list, name="portal_failed_deliveries"),
]
site: list[URLPattern] = [
    path("track/", tracking.track_lookup, name="track_lookup"),
    path("track/<str:tracking_code>", tracking.track, name="track"),
    path("track/<str:tracking_code>/change", tracking.track_change, name="track_change"),
    path("track/<str:tracking_code>/stop", tracking.track_stop, name="track_stop"),
]
