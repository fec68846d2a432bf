from django.contrib import admin
from django.urls import include, path

from allied.accounts import views as accounts
from allied.api import api
from allied.catalog import views as catalog
from allied.core.views import healthz
from allied.fulfillment import views as fulfillment
from allied.inventory import views as inventory
from allied.orders import views as orders
from allied.website import views as website

urlpatterns = [
    path("api/v1/", api.urls),  # first: integrations call it most, and patterns are tried in order
    path("", website.home, name="website_home"),
    path("healthz", healthz, name="healthz"),
    path("home/", accounts.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>/", accounts.invitation_accept_view, name="invitation_accept"),
    path("me/", accounts.profile, name="profile"),
    path("me/organization/", accounts.switch_organization, name="switch_organization"),
    # AES operator console
    path("ops/", accounts.ops_home, name="ops_home"),
    path("ops/organizations/", accounts.organizations, name="organizations"),
    path("ops/organizations/<slug:slug>/", accounts.organization_detail, name="organization_detail"),
    path("ops/team/", accounts.team, name="ops_team"),
    path("ops/audit/", accounts.audit_log, name="audit_log"),
    path("ops/products/", catalog.product_list, name="ops_products"),
    path("ops/products/new/", catalog.product_new, name="ops_product_new"),
    path("ops/products/import/", catalog.product_import, name="ops_product_import"),
    path("ops/products/export.csv", catalog.product_export, name="ops_product_export"),
    path("ops/products/<int:product_id>/", catalog.product_detail, name="ops_product_detail"),
    path("ops/products/<int:product_id>/edit/", catalog.product_edit, name="ops_product_edit"),
    path(
        "ops/products/<int:product_id>/deactivate/",
        catalog.product_deactivate_view,
        name="ops_product_deactivate",
    ),
    path(
        "ops/products/<int:product_id>/reactivate/",
        catalog.product_reactivate_view,
        name="ops_product_reactivate",
    ),
    path("ops/orders/", orders.order_list, name="ops_orders"),
    path("ops/orders/import/", orders.order_import, name="ops_order_import"),
    path("ops/orders/<int:order_id>/", orders.order_detail, name="ops_order_detail"),
    path("ops/orders/<int:order_id>/return-failed/", fulfillment.order_return_failed, name="order_return_failed"),
    path("ops/returns/", fulfillment.return_list, name="ops_returns"),
    path("ops/returns/<int:return_id>/", fulfillment.return_detail, name="ops_return_detail"),
    path("ops/inventory/", inventory.stock_levels, name="ops_inventory"),
    path("ops/inventory/correct/", inventory.stock_correct, name="stock_correct"),
    path("ops/inventory/counts/<int:count_id>/recount/", inventory.recount, name="recount"),
    path("ops/inventory/products/<int:product_id>/", inventory.product_ledger, name="ops_product_ledger"),
    # Warehouse floor (AES staff)
    path("ops/warehouse/", fulfillment.warehouse_home, name="warehouse_home"),
    path("ops/inbound/", inventory.inbound_list, name="inbound_list"),
    path("ops/inbound/<int:inbound_id>/", inventory.inbound_receive_view, name="inbound_receive"),
    path("ops/put-away/", inventory.put_away, name="put_away"),
    path("ops/picking/new/", fulfillment.pick_list_new, name="pick_list_new"),
    path("ops/picking/<int:pick_list_id>/", fulfillment.pick_list_view, name="pick_list"),
    path("ops/packing/", fulfillment.packing_queue, name="packing_queue"),
    path("ops/packing/<int:order_id>/", fulfillment.pack_order, name="pack_order"),
    path("ops/handover/", fulfillment.handover, name="handover"),
    path("ops/handover/<int:manifest_id>/", fulfillment.manifest_view, name="manifest"),
    path("orders/<int:order_id>/label.pdf", fulfillment.order_label, name="order_label"),
    path("orders/<int:order_id>/packing-slip.pdf", fulfillment.order_packing_slip, name="order_packing_slip"),
    # Brand partner portal
    path("portal/", accounts.portal_home, name="portal_home"),
    path("portal/team/", accounts.team, name="portal_team"),
    path("portal/api-keys/", accounts.api_keys, name="api_keys"),
    path("portal/api-keys/<int:api_key_id>/revoke/", accounts.api_key_revoke_view, name="api_key_revoke"),
    path("portal/orders/", orders.order_list, name="portal_orders"),
    path("portal/orders/import/", orders.order_import, name="portal_order_import"),
    path("portal/orders/<int:order_id>/", orders.order_detail, name="portal_order_detail"),
    path("portal/inventory/", inventory.stock_levels, name="portal_inventory"),
    path("portal/inventory/products/<int:product_id>/", inventory.product_ledger, name="portal_product_ledger"),
    path("portal/inbound/", inventory.inbound_portal, name="portal_inbound"),
    path("portal/inbound/<int:inbound_id>/", inventory.inbound_portal_detail, name="portal_inbound_detail"),
    path("portal/orders/<int:order_id>/return/", fulfillment.order_return_request, name="order_return_request"),
    path("portal/returns/", fulfillment.return_list, name="portal_returns"),
    path("portal/returns/<int:return_id>/", fulfillment.return_detail, name="portal_return_detail"),
    path("portal/products/", catalog.product_list, name="portal_products"),
    path("portal/products/new/", catalog.product_new, name="portal_product_new"),
    path("portal/products/import/", catalog.product_import, name="portal_product_import"),
    path("portal/products/export.csv", catalog.product_export, name="portal_product_export"),
    path("portal/products/<int:product_id>/", catalog.product_detail, name="portal_product_detail"),
    path("portal/products/<int:product_id>/edit/", catalog.product_edit, name="portal_product_edit"),
    path(
        "portal/products/<int:product_id>/deactivate/",
        catalog.product_deactivate_view,
        name="portal_product_deactivate",
    ),
    path(
        "portal/products/<int:product_id>/reactivate/",
        catalog.product_reactivate_view,
        name="portal_product_reactivate",
    ),
    # Shared actions, reached from both areas
    path("team/members/<int:membership_id>/", accounts.membership_update, name="membership_update"),
    path("team/invitations/<int:invitation_id>/cancel/", accounts.invitation_cancel, name="invitation_cancel"),
    path("admin/", admin.site.urls),
]

handler404 = "allied.core.handlers.page_not_found"
handler403 = "allied.core.handlers.permission_denied"
