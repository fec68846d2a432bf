"""API calls go past the page middleware (sessions, language, CSRF, sign-in, messages, MFA) but
keep the request id and the security headers."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

pytestmark = pytest.mark.django_db


def test_api_calls_skip_the_page_middleware_and_keep_the_security_headers(partner_a, api_client_for) -> None:
    api = api_client_for(partner_a).get("/api/v1/orders", headers={"Accept-Language": "fr"})
    page = Client().get("/", headers={"Accept-Language": "fr"})

    assert api.status_code == 200
    assert "Content-Language" not in api  # LocaleMiddleware did not run
    assert "Content-Language" in page
    assert not api.cookies
    for header in ("X-Request-ID", "X-Frame-Options", "X-Content-Type-Options", "Content-Security-Policy"):
        assert header in api, header


def test_the_shortcut_without_its_exit_is_refused_at_start(settings) -> None:
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if not name.endswith("ApiShortcutExitMiddleware")]

    with pytest.raises(ImproperlyConfigured, match="ApiShortcutExitMiddleware"):
        Client().get("/")
