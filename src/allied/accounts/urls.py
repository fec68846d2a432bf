"""Account pages: the console's and the portal's home, organizations, teams, API keys, the audit
log, and the person's own pages."""

from django.urls import path

from allied.accounts import views

ops = [
    path("", views.ops_home, name="ops_home"),
    path("organizations/", views.organizations, name="organizations"),
    path("organizations/<slug:slug>/", views.organization_detail, name="organization_detail"),
    path("team/", views.team, name="ops_team"),
    path("audit/", views.audit_log, name="audit_log"),
]
portal = [
    path("", views.portal_home, name="portal_home"),
    path("team/", views.team, name="portal_team"),
    path("api-keys/", views.api_keys, name="api_keys"),
    path("api-keys/<int:api_key_id>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
]
site = [
    path("home/", views.home, name="home"),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    path("me/", views.profile, name="profile"),
    path("me/organization/", views.switch_organization, name="switch_organization"),
    # Team actions, reached from both areas
    path("team/members/<int:membership_id>/", views.membership_update, name="membership_update"),
    path("team/invitations/<int:invitation_id>/cancel/", views.invitation_cancel, name="invitation_cancel"),
]
