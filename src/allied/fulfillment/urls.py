"""The warehouse floor (console), returns (both areas), and each order's label and packing slip."""

from django.urls import path

from allied.fulfillment import views

ops = [
    path("orders/<int:order_id>/return-failed/", views.order_return_failed, name="order_return_failed"),
    path("returns/", views.return_list, name="ops_returns"),
    path("returns/<int:return_id>/", views.return_detail, name="ops_return_detail"),
    path("warehouse/", views.warehouse_home, name="warehouse_home"),
    path("picking/new/", views.pick_list_new, name="pick_list_new"),
    path("picking/<int:pick_list_id>/", views.pick_list_view, name="pick_list"),
    path("packing/", views.packing_queue, name="packing_queue"),
    path("packing/<int:order_id>/", views.pack_order, name="pack_order"),
    path("handover/", views.handover, name="handover"),
    path("handover/<int:manifest_id>/", views.manifest_view, name="manifest"),
]
portal = [
    path("orders/<int:order_id>/return/", views.order_return_request, name="order_return_request"),
    path("returns/", views.return_list, name="portal_returns"),
    path("returns/<int:return_id>/", views.return_detail, name="portal_return_detail"),
]
site = [
    # Documents, for both areas
    path("orders/<int:order_id>/label.pdf", views.order_label, name="order_label"),
    path("orders/<int:order_id>/packing-slip.pdf", views.order_packing_slip, name="order_packing_slip"),
]
