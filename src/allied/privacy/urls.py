"""The privacy engine's pages: the privacy officer's in the console, the public notice, cookie
settings and data-subject requests at the site root."""

from django.urls import URLPattern, path

from allied.privacy.views import notice, register

ops: list[URLPattern] = [
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
]
