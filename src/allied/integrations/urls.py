"""Integrations: connections and partners' webhook endpoints in both areas, and the stores' webhook
addresses (one per connection)."""

from django.urls import path

from allied.integrations.views import stores, subscriptions

ops = [
    path("integrations/", stores.connection_list, name="ops_connections"),
    path("integrations/<int:connection_id>/", stores.connection_detail, name="ops_connection"),
    path("webhooks/", subscriptions.subscription_list, name="ops_webhooks"),
    path("webhooks/<int:webhook_id>/", subscriptions.subscription_detail, name="ops_webhook"),
]
portal = [
    path("integrations/", stores.connection_list, name="portal_connections"),
    path("integrations/<int:connection_id>/", stores.connection_detail, name="portal_connection"),
    path("webhooks/", subscriptions.subscription_list, name="portal_webhooks"),
    path("webhooks/<int:webhook_id>/", subscriptions.subscription_detail, name="portal_webhook"),
]
site = [
    path(
        "integrations/<str:kind>/<str:public_id>/webhooks",
        stores.store_webhook,
        name="store_webhook",
    ),
]
