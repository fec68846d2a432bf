"""Integrations: connections in both areas, and the stores' webhook addresses (one per connection)."""

from django.urls import path

from allied.integrations.views import stores

ops = [
    path("integrations/", stores.connection_list, name="ops_connections"),
    path("integrations/<int:connection_id>/", stores.connection_detail, name="ops_connection"),
]
portal = [
    path("integrations/", stores.connection_list, name="portal_connections"),
    path("integrations/<int:connection_id>/", stores.connection_detail, name="portal_connection"),
]
site = [
    path(
        "integrations/<str:kind>/<str:public_id>/webhooks",
        stores.store_webhook,
        name="store_webhook",
    ),
]
