"""Stock pages: levels and ledgers in both areas; corrections, receiving and put-away in the
console; announcing inbound shipments in the portal."""

from django.urls import path

from allied.inventory import views

ops = [
    path("inventory/", views.stock_levels, name="ops_inventory"),
    path("inventory/correct/", views.stock_correct, name="stock_correct"),
    path("inventory/counts/<int:count_id>/recount/", views.recount, name="recount"),
    path("inventory/products/<int:product_id>/", views.product_ledger, name="ops_product_ledger"),
    path("inbound/", views.inbound_list, name="inbound_list"),
    path("inbound/<int:inbound_id>/", views.inbound_receive_view, name="inbound_receive"),
    path("put-away/", views.put_away, name="put_away"),
]
portal = [
    path("inventory/", views.stock_levels, name="portal_inventory"),
    path("inventory/products/<int:product_id>/", views.product_ledger, name="portal_product_ledger"),
    path("inbound/", views.inbound_portal, name="portal_inbound"),
    path("inbound/<int:inbound_id>/", views.inbound_portal_detail, name="portal_inbound_detail"),
]
