"""Order pages, the same in the console and the portal (each shows the caller's orders)."""

from django.urls import path

from allied.orders import views

ops = [
    path("orders/", views.order_list, name="ops_orders"),
    path("orders/import/", views.order_import, name="ops_order_import"),
    path("orders/<int:order_id>/", views.order_detail, name="ops_order_detail"),
]
portal = [
    path("orders/", views.order_list, name="portal_orders"),
    path("orders/import/", views.order_import, name="portal_order_import"),
    path("orders/<int:order_id>/", views.order_detail, name="portal_order_detail"),
]
