"""The last mile's pages: dispatch and failed deliveries in the console, failed deliveries in the
portal, the rider app, and the public tracking page."""

from django.urls import URLPattern, path

from allied.delivery.views import tracking

ops: list[URLPattern] = []
portal: list[URLPattern] = []
site: list[URLPattern] = [
    path("track/", tracking.track_lookup, name="track_lookup"),
    path("track/<str:tracking_code>", tracking.track, name="track"),
    path("track/<str:tracking_code>/change", tracking.track_change, name="track_change"),
    path("track/<str:tracking_code>/stop", tracking.track_stop, name="track_stop"),
]
