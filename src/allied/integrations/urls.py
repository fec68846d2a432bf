"""Integrations: the stores' webhook addresses (one per connection)."""

from django.urls import path

from allied.integrations import views

ops: list = []
portal: list = []
site = [
    path(
        "integrations/<str:kind>/<str:public_id>/webhooks",
        views.store_webhook,
        name="store_webhook",
    ),
]
