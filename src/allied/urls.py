from django.contrib import admin
from django.urls import include, path

from allied.accounts import views as accounts
from allied.api import api
from allied.catalog import views as catalog
from allied.core.views import healthz
from allied.website import views as website

urlpatterns = [
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
    path("ops/products/<int:product_id>/", catalog.product_detail, name="ops_product_detail"),
    # Brand partner portal
    path("portal/", accounts.portal_home, name="portal_home"),
    path("portal/team/", accounts.team, name="portal_team"),
    path("portal/api-keys/", accounts.api_keys, name="api_keys"),
    path("portal/api-keys/<int:api_key_id>/revoke/", accounts.api_key_revoke_view, name="api_key_revoke"),
    path("portal/products/", catalog.product_list, name="portal_products"),
    path("portal/products/<int:product_id>/", catalog.product_detail, name="portal_product_detail"),
    # Shared actions, reached from both areas
    path("team/members/<int:membership_id>/", accounts.membership_update, name="membership_update"),
    path("team/invitations/<int:invitation_id>/cancel/", accounts.invitation_cancel, name="invitation_cancel"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
]

handler404 = "allied.core.handlers.page_not_found"
handler403 = "allied.core.handlers.permission_denied"
