"""The privacy engine's pages: the privacy officer's in the console, the public notice, cookie
settings and data-subject requests at the site root."""

from django.urls import URLPattern, path

from allied.privacy.views import consent

ops: list[URLPattern] = []
portal: list[URLPattern] = []
site: list[URLPattern] = [
    path("privacy/cookies", consent.cookie_settings, name="cookie_settings"),
    path("privacy/cookies/choice", consent.consent_choose, name="consent_choose"),
]
