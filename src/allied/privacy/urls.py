"""The privacy engine's pages: the privacy officer's in the console (requests, retention, the data
map, the notice's text, the sharing register), a partner's own sharing register in the portal,
and at the site root the public notice, cookie settings and data-subject requests."""

from django.urls import URLPattern, path

from allied.privacy.views import consent, notice, officer, register, requests

ops: list[URLPattern] = [
    path("privacy/", officer.dashboard, name="privacy_dashboard"),
    path("privacy/requests/<uuid:request_id>/", officer.request_detail, name="privacy_request_detail"),
    path("privacy/requests/<uuid:request_id>/archive", officer.request_archive, name="privacy_request_archive_ops"),
    path("privacy/retention/", officer.retention_runs, name="privacy_retention"),
    path("privacy/retention/run", officer.retention_run_now, name="privacy_retention_run_now"),
    path("privacy/retention/<int:run_id>/", officer.retention_run_detail, name="privacy_retention_run"),
    path("privacy/data-map/", register.data_map_page, name="ops_privacy_data_map"),
    path("privacy/notice/", notice.notice_edit, name="ops_privacy_notice"),
    path("privacy/notice/preview", notice.notice_preview, name="ops_privacy_notice_preview"),
    path("privacy/sharing/", register.sharing_register, name="ops_privacy_sharing"),
]
portal: list[URLPattern] = [
    path("privacy/sharing/", register.sharing_register, name="portal_privacy_sharing"),
]
site: list[URLPattern] = [
    path("privacy/", notice.privacy_notice, name="privacy_notice"),
    path("privacy/versions/", notice.notice_history, name="privacy_notice_versions"),
    path("privacy/versions/<int:number>/", notice.notice_version_page, name="privacy_notice_version"),
    path("privacy/changes/", notice.notice_changes, name="privacy_notice_changes"),
    path("privacy/requests/new", requests.request_new, name="privacy_request_new"),
    path("privacy/requests/<uuid:request_id>/verify", requests.request_verify, name="privacy_request_verify"),
    path("privacy/requests/<uuid:request_id>/", requests.request_status, name="privacy_request_status"),
    path("privacy/requests/<uuid:request_id>/archive", requests.request_archive, name="privacy_request_archive"),
    path("privacy/cookies", consent.cookie_settings, name="cookie_settings"),
    path("privacy/cookies/choice", consent.consent_choose, name="consent_choose"),
    path("me/data/", requests.my_data, name="my_data"),
    path("me/data/archive", requests.my_data_archive, name="my_data_archive"),
]
