"""The privacy engine's pages: the privacy officer's in the console, the public notice, cookie
settings and data-subject requests at the site root."""

from django.urls import URLPattern, path

from allied.privacy.views import consent, officer, requests

ops: list[URLPattern] = [
    path("privacy/", officer.dashboard, name="privacy_dashboard"),
    path("privacy/requests/<uuid:request_id>/", officer.request_detail, name="privacy_request_detail"),
    path("privacy/requests/<uuid:request_id>/archive", officer.request_archive, name="privacy_request_archive_ops"),
    path("privacy/retention/", officer.retention_runs, name="privacy_retention"),
    path("privacy/retention/run", officer.retention_run_now, name="privacy_retention_run_now"),
    path("privacy/retention/<int:run_id>/", officer.retention_run_detail, name="privacy_retention_run"),
]
portal: list[URLPattern] = []
site: list[URLPattern] = [
    path("privacy/requests/new", requests.request_new, name="privacy_request_new"),
    path("privacy/requests/<uuid:request_id>/verify", requests.request_verify, name="privacy_request_verify"),
    path("privacy/requests/<uuid:request_id>/", requests.request_status, name="privacy_request_status"),
    path("privacy/requests/<uuid:request_id>/archive", requests.request_archive, name="privacy_request_archive"),
    path("me/data/", requests.my_data, name="my_data"),
    path("me/data/archive", requests.my_data_archive, name="my_data_archive"),
    path("privacy/cookies", consent.cookie_settings, name="cookie_settings"),
    path("privacy/cookies/choice", consent.consent_choose, name="consent_choose"),
]
