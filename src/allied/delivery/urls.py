"""The last mile's pages: dispatch and failed deliveries in the console, failed deliveries in the
portal, the rider app, and the public tracking page; couriers' webhooks at the site root."""

from django.urls import URLPattern, path

from allied.delivery.views.courier_webhooks import courier_webhook

ops: list[URLPattern] = []
portal: list[URLPattern] = []
site: list[URLPattern] = [
    # A courier's webhook: the secret it carries is the credential (checked by the courier's adapter).
    path("couriers/<str:code>/webhooks", courier_webhook, name="courier_webhook"),
]
